/**
 * The walk (npm run walk): one Lip Sync item in Poll mode run in n8n's engine, every function of
 * the package reporting the file it is in, so the files the item enters can be counted.
 * @type {import('jest').Config}
 */
const base = require('./jest.config.js');

module.exports = {
	...base,
	testMatch: ['**/test/walk/*.walk.ts'],
	reporters: ['default'],
	setupFiles: [...base.setupFiles, '<rootDir>/test/walk/setup.js'],
	transform: {
		'^.+\\.ts$': [
			'ts-jest',
			{
				tsconfig: 'tsconfig.test.json',
				astTransformers: { before: ['<rootDir>/test/walk/enterHook.js'] },
			},
		],
	},
};
