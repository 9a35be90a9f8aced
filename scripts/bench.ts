/**
 * `npm run bench`: the node in n8n's engine (n8n-core) against the emulator. Prints, each the
 * median of BENCH_RUNS (3) runs: wall time for N = 1, 5, 20 items and wall(N)/wall(1), with 20 in
 * flight and item by item (Max Tasks in Flight 1); polls per task; how late completion was noticed
 * against the poll interval; RSS growth while a 200 MB result streams into the filesystem binary
 * store; the packed tarball's size; the node module's cold load time; polls in Callback mode.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

process.env.N8N_USER_FOLDER ??= mkdtempSync(path.join(tmpdir(), 'kling-bench-'));

import { callApi } from '../test/emulator/client';
import { startEmulator, type Emulator } from '../test/emulator/server';
import { emulatorCredentials, runKlingNode, useFilesystemBinaryData } from '../test/engine/harness';
import { startResumeServer } from '../test/engine/resume';
import { recordN8nLog } from '../test/engine/secrets';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
// Not a multiple of the poll interval: completion falls between two polls, as it does for real.
const TASK_MS = Number(process.env.BENCH_TASK_MS ?? 3500);
const POLL_S = Number(process.env.BENCH_POLL_S ?? 1);
const BIG_BYTES = 200 * 1024 * 1024;

const median = (values: number[]): number => {
	const sorted = [...values].sort((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

async function session(baseUrl: string): Promise<{ session_id: string }> {
	const reply = await callApi(baseUrl, 'POST', '/v1/videos/identify-face', {
		body: { video_url: 'https://cdn.example.com/bench.mp4?durationMs=8000&faces=0-8000' },
	});
	return reply.body.data as { session_id: string };
}

function lipSync(emu: { baseUrl: string }, inFlight: number, over: Record<string, unknown> = {}) {
	return {
		operation: 'lipSync',
		audioUrl: `${emu.baseUrl}/media/fixtures/tone-3s.wav`,
		// Each item other work (its own Insert At): the same work would share one task.
		insertMs: '={{ $json.insert_ms ?? 0 }}',
		downloadVideo: false,
		waitOptions: { pollIntervalSeconds: POLL_S, maxWaitMinutes: 10 },
		options: { maxInFlight: inFlight },
		...over,
	};
}

interface BatchFigures {
	wallMs: number;
	pollsPerTask: number;
	noticeDelayMs: number[];
}

async function batch(emu: Emulator, count: number, inFlight: number): Promise<BatchFigures> {
	const { session_id } = await session(emu.baseUrl);
	emu.resetStats();
	const started = Date.now();
	const { output, error } = await runKlingNode({
		credentials: emulatorCredentials(emu.baseUrl),
		items: Array.from({ length: count }, (_, index) => ({ session_id, face_id: '0', insert_ms: index % 5001 })),
		parameters: lipSync(emu, inFlight),
	});
	const wallMs = Date.now() - started;
	if (error || output.some((item) => item.json.task_status !== 'succeed')) throw new Error(`batch failed: ${error?.message}`);
	return { wallMs, pollsPerTask: (emu.stats.requests.get ?? 0) / count, noticeDelayMs: [...emu.stats.noticeDelaysMs] };
}

/** A 200 MB result streamed into the filesystem store; the emulator runs in its own process. */
async function bigDownload(): Promise<number> {
	const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(ROOT, 'test/emulator/cli.ts'), '--port', '0', '--task-ms', '500', '--result-bytes', String(BIG_BYTES)], {
		cwd: ROOT,
		stdio: ['ignore', 'pipe', 'inherit'],
	});
	const baseUrl = await new Promise<string>((resolve) => child.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())));
	try {
		await useFilesystemBinaryData();
		const { session_id } = await session(baseUrl);
		if (global.gc) global.gc();
		const baseline = process.memoryUsage().rss;
		let peak = baseline;
		const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
		const { output, error } = await runKlingNode({
			credentials: emulatorCredentials(baseUrl),
			items: [{ session_id, face_id: '0' }],
			parameters: lipSync({ baseUrl }, 1, { downloadVideo: true, waitOptions: { pollIntervalSeconds: 0.2, maxWaitMinutes: 5 } }),
		});
		clearInterval(sampler);
		const bytes = output[0]?.binary?.data.bytes;
		if (error || bytes !== BIG_BYTES) throw new Error(`big download failed: ${error?.message ?? `${bytes} bytes`}`);
		return peak - baseline;
	} finally {
		child.kill();
	}
}

async function callbackPolls(emu: Emulator): Promise<{ beforeResume: number; total: number }> {
	const resume = await startResumeServer();
	try {
		const { session_id } = await session(emu.baseUrl);
		emu.resetStats();
		const waiting = await runKlingNode({
			credentials: emulatorCredentials(emu.baseUrl),
			items: Array.from({ length: 5 }, (_, index) => ({ session_id, face_id: '0', insert_ms: index })),
			parameters: lipSync(emu, 5, { waitMode: 'callback' }),
			resumeServer: resume,
		});
		const beforeResume = emu.stats.requests.get ?? 0;
		const done = await waiting.resumed!();
		if (done.output.some((item) => item.json.task_status !== 'succeed')) throw new Error('callback batch failed');
		return { beforeResume, total: emu.stats.requests.get ?? 0 };
	} finally {
		await resume.stop();
	}
}

async function tarballBytes(): Promise<number> {
	const { stdout } = await run('npm', ['pack', '--dry-run', '--json'], { cwd: ROOT });
	return (JSON.parse(stdout) as Array<{ size: number }>)[0].size;
}

/** Cold load in a fresh Node process: n8n-workflow alone, and the node module after it. */
async function coldLoadMs(): Promise<{ workflowMs: number; nodeMs: number }> {
	const script = `const t0=performance.now();require('n8n-workflow');const t1=performance.now();require('./dist/nodes/KlingLipSync/KlingLipSync.node.js');const t2=performance.now();console.log(JSON.stringify({workflowMs:t1-t0,nodeMs:t2-t1}))`;
	const { stdout } = await run(process.execPath, ['-e', script], { cwd: ROOT });
	return JSON.parse(stdout) as { workflowMs: number; nodeMs: number };
}

async function main(): Promise<void> {
	recordN8nLog();
	console.log(`bench: task time ${TASK_MS / 1000} s, poll interval ${POLL_S} s, ${RUNS} runs per figure (median)`);
	const emu = await startEmulator({ taskTimeMs: TASK_MS, submittedMs: 300 });
	try {
		const rows: Array<[string, string]> = [];
		for (const [label, inFlight] of [
			['20 in flight', 20],
			['item by item (1 in flight)', 1],
		] as const) {
			const walls: Record<number, number> = {};
			for (const count of [1, 5, 20]) {
				const figures: BatchFigures[] = [];
				for (let i = 0; i < RUNS; i++) figures.push(await batch(emu, count, inFlight));
				walls[count] = median(figures.map((f) => f.wallMs));
				const delays = figures.flatMap((f) => f.noticeDelayMs);
				rows.push([
					`${label}, N=${count}`,
					`wall ${(walls[count] / 1000).toFixed(2)} s, wall(N)/wall(1) ${(walls[count] / walls[1]).toFixed(2)}, polls/task ${median(figures.map((f) => f.pollsPerTask)).toFixed(1)}, completion noticed after ${(median(delays) / 1000).toFixed(2)} s median / ${(Math.max(...delays) / 1000).toFixed(2)} s max (poll interval ${POLL_S} s)`,
				]);
				console.log(`  ${rows[rows.length - 1][0].padEnd(34)} ${rows[rows.length - 1][1]}`);
			}
		}
		const growth: number[] = [];
		for (let i = 0; i < RUNS; i++) growth.push(await bigDownload());
		console.log(`  ${'200 MB result -> filesystem binary'.padEnd(34)} peak RSS growth ${mb(median(growth))} (runs: ${growth.map(mb).join(', ')})`);
		const callbacks: Array<{ beforeResume: number; total: number }> = [];
		for (let i = 0; i < RUNS; i++) callbacks.push(await callbackPolls(emu));
		console.log(
			`  ${'Callback mode, 5 tasks'.padEnd(34)} status polls while waiting ${median(callbacks.map((c) => c.beforeResume))}, reads in all ${median(callbacks.map((c) => c.total))} (one per task when the last is final, more if finals overlap)`,
		);
		console.log(`  ${'npm pack tarball'.padEnd(34)} ${(await tarballBytes() / 1024).toFixed(1)} KB`);
		const loads: Array<{ workflowMs: number; nodeMs: number }> = [];
		for (let i = 0; i < RUNS; i++) loads.push(await coldLoadMs());
		console.log(
			`  ${'cold load (fresh process)'.padEnd(34)} node module ${median(loads.map((l) => l.nodeMs)).toFixed(1)} ms after n8n-workflow (${median(loads.map((l) => l.workflowMs)).toFixed(0)} ms)`,
		);
	} finally {
		await emu.stop();
	}
}

main()
	.catch((error: unknown) => {
		console.error(error);
		process.exitCode = 1;
	})
	.finally(() => setTimeout(() => process.exit(), 100));
