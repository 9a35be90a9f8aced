/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * README's Actions table as operation name and the action n8n's nodes panel lists for it, e.g.
 * ["Identify Face", "Identify faces in video"]: the e2e editor check and a unit test hold README to
 * what the node shows.
 */
export function readmeOperations(): Array<[name: string, action: string]> {
	const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
	const table = readme.slice(readme.indexOf('## Actions'), readme.indexOf('### Identify Face'));
	return [...table.matchAll(/\| (?:Face|Lip Sync|Audio) \|([^\n]*)\|/g)].flatMap(([, cell]) =>
		[...cell.matchAll(/([\w ]+?) \(([^)]+)\)/g)].map(([, name, action]): [string, string] => [
			name.replace(/^,?\s*/, '').trim(),
			action,
		]),
	);
}

/** The action names README's Actions table gives in brackets. */
export const readmeActions = (): string[] => readmeOperations().map(([, action]) => action);
