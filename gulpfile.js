const path = require('node:path');
const { src, dest, task } = require('gulp');

/**
 * What `n8n-node build` leaves out: it compiles the TypeScript and copies icons, but not the
 * codex files (`*.node.json`: the node's categories and documentation links in n8n's nodes panel).
 * Runs after it (`npm run build`).
 */
function copyCodex() {
	return src(['nodes/**/*.node.json'], { base: path.resolve('.'), encoding: false }).pipe(
		dest('dist'),
	);
}

task('build:codex', copyCodex);
