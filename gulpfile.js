const path = require('node:path');
const { src, dest, task } = require('gulp');

/** Copies node and credential icons (and codex files) next to the compiled JavaScript in dist/. */
function copyAssets() {
	return src(['nodes/**/*.{png,svg}', 'nodes/**/*.node.json', 'credentials/**/*.{png,svg}'], {
		base: path.resolve('.'),
		encoding: false,
	}).pipe(dest('dist'));
}

task('build:icons', copyAssets);
