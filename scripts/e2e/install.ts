/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
/**
 * `npm run n8n:install`: installs every n8n the e2e suite and the demo run, or checks the cached
 * installs (install-n8n.sh rebuilds one that cannot run n8n). Both versions install at once.
 */
import { TARGETS, installN8n } from './n8n';

const started = Date.now();
Promise.all(TARGETS.map(async (target) => await installN8n(target)))
	.then((installs) => {
		for (const [index, install] of installs.entries())
			console.log(`n8n ${TARGETS[index].version}: ${install.folder}`);
		console.log(`n8n installs ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
	})
	.catch((error: unknown) => {
		console.error((error as Error).message);
		process.exit(1);
	});
