// n8n's package scanner (@n8n/scan-community-package), as n8n's verification runs it, on this
// checkout: its lint of the source tree (the files it takes from the provenance-attested source)
// and of the unpacked `npm pack` tarball. Unlike the scanner's own verdict, a warning fails too.
// Needs a build first (`npm run scan` builds).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const scannerDir = path.dirname(
	createRequire(import.meta.url).resolve('@n8n/scan-community-package/package.json'),
);
const fromScanner = createRequire(path.join(scannerDir, 'package.json'));
const { ESLint } = fromScanner('eslint');
const glob = fromScanner('fast-glob');
const { buildScanConfig, SOURCE_FILE_PATTERNS } = await import(
	path.join(scannerDir, 'scanner', 'scanner.mjs')
);

/** Lints like the scanner's analyzePackage (same config, inline directives ignored); counts warnings too. */
async function scan(label, dir, patterns) {
	const eslint = new ESLint({
		cwd: dir,
		allowInlineConfig: false,
		overrideConfigFile: true,
		overrideConfig: await buildScanConfig(),
	});
	const files = glob.sync(patterns, {
		cwd: dir,
		absolute: true,
		ignore: ['node_modules/**', '**/package-lock.json'],
	});
	const results = await eslint.lintFiles(files);
	const errors = results.reduce((sum, result) => sum + result.errorCount, 0);
	const warnings = results.reduce((sum, result) => sum + result.warningCount, 0);
	console.log(`scan ${label}: ${files.length} files, ${errors} errors, ${warnings} warnings`);
	if (errors + warnings > 0)
		console.log(await (await eslint.loadFormatter('stylish')).format(results));
	return errors + warnings;
}

const unpacked = mkdtempSync(path.join(tmpdir(), 'kling-scan-'));
try {
	const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', unpacked], {
		cwd: root,
		encoding: 'utf8',
	})
		.trim()
		.split('\n')
		.pop();
	execFileSync('tar', ['-xzf', path.join(unpacked, tarball), '-C', unpacked]);
	const problems =
		(await scan('source tree', root, SOURCE_FILE_PATTERNS)) +
		// The scanner's tarball leg: compiled JavaScript and the published package.json.
		(await scan(`tarball ${tarball}`, path.join(unpacked, 'package'), ['**/*.js', 'package.json']));
	if (problems > 0) {
		console.log("scan: n8n's scanner found problems (above)");
		process.exitCode = 1;
	} else {
		console.log('scan: passed (source tree and tarball, 0 errors, 0 warnings)');
	}
} finally {
	rmSync(unpacked, { recursive: true, force: true });
}
