// The lint config of test/ and scripts/ (never shipped): n8n's CLI rules, without those written for
// node code that runs inside n8n. Tests and tools start servers, read files, time things, print and
// hold test keys. `npm run lint:tests` runs it with inline directives ignored, so the header that
// keeps these files out of `n8n-node lint` (which checks the shipped code) changes nothing here.
import { config } from '@n8n/node-cli/eslint';

export default [
	...config,
	{
		files: ['test/**/*.ts', 'scripts/**/*.ts'],
		rules: {
			'@n8n/community-nodes/no-restricted-imports': 'off',
			'@n8n/community-nodes/no-restricted-globals': 'off',
			'@n8n/community-nodes/no-dangerous-functions': 'off',
			'@n8n/community-nodes/no-hardcoded-secrets': 'off',
			'@n8n/community-nodes/require-node-api-error': 'off',
			'no-console': 'off',
		},
	},
	{
		// Reply bodies of any shape: the tests read whatever the emulator sends.
		files: ['test/emulator/client.ts', 'test/emulator/vtrix.test.ts'],
		rules: { '@typescript-eslint/no-explicit-any': 'off' },
	},
	{
		// Loaded by path at run time: the node's source by file name (plain Node would resolve
		// "KlingLipSync.node" to its codex .json), and n8n's own copy of a module in its install.
		files: ['test/engine/harness.ts', 'scripts/e2e/queue.ts', 'scripts/bench-queue.ts'],
		rules: { '@typescript-eslint/no-require-imports': 'off' },
	},
];
