// Checks the package's shape (nodes/ and credentials/): no import circles; the pipeline, shared
// parts, helpers and transport import nothing from an operation's folder; no source file over 250
// lines; no comment naming our process or a file the package does not ship. Prints the number of
// type casts (`as`, `<T>x`, `x!`; `as const` is no cast). Exits 1 on a finding.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const ts = createRequire(import.meta.url)('typescript');
const MAX_LINES = 250;
/** Words a shipped comment never uses: our process, or files the package does not ship. */
const PROCESS_WORDS = [/\bseeds?\b/i, /\[\?\]/, /kling-api\.md/i];

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const ROOTS = ['nodes', 'credentials'];
/** Folders that hold operations: shared stages may not import from them. */
const OPERATION_FOLDERS = ['face', 'lipSync', 'audio', 'dubDialogue'].map(
	(name) => `nodes/KlingLipSync/actions/${name}/`,
);
const SHARED_STAGES = [
	'nodes/KlingLipSync/actions/pipeline/',
	'nodes/KlingLipSync/actions/shared/',
	'nodes/KlingLipSync/helpers/',
	'nodes/KlingLipSync/transport/',
];

function files(dir) {
	return readdirSync(dir).flatMap((name) => {
		const full = path.join(dir, name);
		if (statSync(full).isDirectory()) return files(full);
		return full.endsWith('.ts') && !full.endsWith('.d.ts') ? [full] : [];
	});
}

const IMPORT = /^\s*(?:import|export)\s[^;]*?from\s+['"](\.[^'"]+)['"]/gms;
const graph = new Map();
for (const file of ROOTS.flatMap((dir) => files(path.join(root, dir)))) {
	const text = readFileSync(file, 'utf8');
	const targets = [];
	for (const match of text.matchAll(IMPORT)) {
		const base = path.resolve(path.dirname(file), match[1]);
		const target = [`${base}.ts`, path.join(base, 'index.ts')].find((candidate) => {
			try {
				return statSync(candidate).isFile();
			} catch {
				return false;
			}
		});
		if (target) targets.push(target);
	}
	graph.set(file, targets);
}

const rel = (file) => path.relative(root, file);
const findings = [];

// Import circles: strongly connected components of more than one file (Tarjan).
let counter = 0;
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
function connect(file) {
	index.set(file, counter);
	low.set(file, counter++);
	stack.push(file);
	onStack.add(file);
	for (const next of graph.get(file) ?? []) {
		if (!index.has(next)) {
			connect(next);
			low.set(file, Math.min(low.get(file), low.get(next)));
		} else if (onStack.has(next)) low.set(file, Math.min(low.get(file), index.get(next)));
	}
	if (low.get(file) !== index.get(file)) return;
	const component = [];
	let member;
	do {
		member = stack.pop();
		onStack.delete(member);
		component.push(member);
	} while (member !== file);
	if (component.length > 1 || (graph.get(file) ?? []).includes(file)) {
		findings.push(`import circle: ${component.map(rel).sort().join(' <-> ')}`);
	}
}
for (const file of graph.keys()) if (!index.has(file)) connect(file);

for (const [file, targets] of graph) {
	const from = rel(file);
	if (!SHARED_STAGES.some((folder) => from.startsWith(folder))) continue;
	for (const target of targets.map(rel)) {
		if (OPERATION_FOLDERS.some((folder) => target.startsWith(folder))) {
			findings.push(`${from} imports ${target}: a shared stage knows no operation's folder`);
		}
	}
}

let casts = 0;
let largest = { file: '', lines: 0 };
for (const file of graph.keys()) {
	const text = readFileSync(file, 'utf8');
	const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
	if (lines > largest.lines) largest = { file: rel(file), lines };
	if (lines > MAX_LINES) findings.push(`${rel(file)}: ${lines} lines (at most ${MAX_LINES})`);
	const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
	const visit = (node) => {
		const isConst =
			ts.isAsExpression(node) &&
			ts.isTypeReferenceNode(node.type) &&
			node.type.typeName.getText() === 'const';
		if (
			(ts.isAsExpression(node) && !isConst) ||
			ts.isTypeAssertionExpression(node) ||
			ts.isNonNullExpression(node)
		)
			casts++;
		ts.forEachChild(node, visit);
	};
	visit(source);
	for (const comment of text.match(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g) ?? []) {
		const word = PROCESS_WORDS.find((pattern) => pattern.test(comment));
		if (word) findings.push(`${rel(file)}: a comment says ${word}: ${comment.slice(0, 80)}`);
	}
}

for (const finding of findings) console.error(finding);
console.log(
	`structure: ${graph.size} files, largest ${largest.file} (${largest.lines} lines), ${casts} casts, ${findings.length} finding(s)`,
);
process.exitCode = findings.length ? 1 : 0;
