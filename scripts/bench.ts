/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
/**
 * `npm run bench`: the node in n8n's engine (n8n-core) against the emulator. Prints, each the
 * median of BENCH_RUNS (3) runs: wall time for N = 1, 5, 20 items and wall(N)/wall(1), with 20 in
 * flight and item by item (Max Tasks in Flight 1); polls per task; how late completion was noticed
 * against the poll interval; RSS growth while a 200 MB result streams into the filesystem binary
 * store; the packed tarball's size; the node module's cold load time; polls in Callback mode. Scale
 * (BENCH_SECTIONS=callback,memory): Callback status reads per task at N = 200 with spread finishes, with and
 * without an account limit of 5, and the callback URL's length; preparation of 20 items whose audio
 * URLs take 300 ms against 1; peak RSS for a 1 GB Audio URL and for 200 items with 4 MB binary audio.
 * Trigger (BENCH_SECTIONS=trigger, BENCH_FLOOD_S=30): API reads per forged callback under a flood and
 * a real run's slowdown meanwhile.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

process.env.N8N_USER_FOLDER ??= mkdtempSync(path.join(tmpdir(), 'kling-bench-'));

import {
	BATCH_QUERY_PARAM,
	encodeBatch,
	taskKey,
	withQueryParam,
} from '../nodes/KlingLipSync/helpers/callbackBatch';
import { workTaskId } from '../nodes/KlingLipSync/helpers/externalId';
import { callApi } from '../test/emulator/client';
import { silentWav, startEmulator, type Emulator } from '../test/emulator/server';
import {
	emulatorCredentials,
	runKlingNode,
	triggerWorkflow,
	useFilesystemBinaryData,
} from '../test/engine/harness';
import { startResumeServer } from '../test/engine/resume';
import { recordN8nLog } from '../test/engine/secrets';
import { forgedFlood } from './e2e/trigger';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
// Not a multiple of the poll interval: completion falls between two polls, as it does for real.
const TASK_MS = Number(process.env.BENCH_TASK_MS ?? 3500);
const POLL_S = Number(process.env.BENCH_POLL_S ?? 1);
const BIG_BYTES = 200 * 1024 * 1024;
/** Which figures: `speed` (batches, downloads, weight), `callback` and `memory` (hundreds of items), `dialogue`, `trigger` (a forged flood). */
const SECTIONS = (process.env.BENCH_SECTIONS ?? 'speed,callback,memory,dialogue,trigger').split(
	',',
);
/** How long the trigger's forged flood lasts (10 deliveries a second). */
const FLOOD_S = Number(process.env.BENCH_FLOOD_S ?? 30);

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
		resource: 'lipSync',
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
		items: Array.from({ length: count }, (_, index) => ({
			session_id,
			face_id: '0',
			insert_ms: index % 5001,
		})),
		parameters: lipSync(emu, inFlight),
	});
	const wallMs = Date.now() - started;
	if (error || output.some((item) => item.json.task_status !== 'succeed'))
		throw new Error(`batch failed: ${error?.message}`);
	// Several tasks are read together by list page (a read of the run), one by GET.
	return {
		wallMs,
		pollsPerTask: ((emu.stats.requests.get ?? 0) + (emu.stats.requests.list ?? 0)) / count,
		noticeDelayMs: [...emu.stats.noticeDelaysMs],
	};
}

/** The emulator in its own process (its memory is not the node's), with the cli's flags. */
async function emulatorProcess(args: string[]): Promise<{ baseUrl: string; stop: () => void }> {
	const child = spawn(
		process.execPath,
		[
			'-r',
			'ts-node/register/transpile-only',
			path.join(ROOT, 'test/emulator/cli.ts'),
			'--port',
			'0',
			...args,
		],
		{
			cwd: ROOT,
			stdio: ['ignore', 'pipe', 'inherit'],
		},
	);
	const baseUrl = await new Promise<string>((resolve) =>
		child.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())),
	);
	return { baseUrl, stop: () => child.kill() };
}

/** Peak RSS growth of this process while `work` runs (sampled every 10 ms, after a GC). */
async function peakRssGrowth<T>(work: () => Promise<T>): Promise<{ growth: number; result: T }> {
	if (global.gc) global.gc();
	const baseline = process.memoryUsage().rss;
	let peak = baseline;
	const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
	try {
		const result = await work();
		return { growth: peak - baseline, result };
	} finally {
		clearInterval(sampler);
	}
}

/** A 200 MB result streamed into the filesystem store; the emulator runs in its own process. */
async function bigDownload(): Promise<number> {
	const emulator = await emulatorProcess(['--task-ms', '500', '--result-bytes', String(BIG_BYTES)]);
	try {
		await useFilesystemBinaryData();
		const { session_id } = await session(emulator.baseUrl);
		const { growth, result } = await peakRssGrowth(
			async () =>
				await runKlingNode({
					credentials: emulatorCredentials(emulator.baseUrl),
					items: [{ session_id, face_id: '0' }],
					parameters: lipSync(emulator, 1, {
						downloadVideo: true,
						waitOptions: { pollIntervalSeconds: 0.2, maxWaitMinutes: 5 },
					}),
				}),
		);
		const bytes = result.output[0]?.binary?.data.bytes;
		if (result.error || bytes !== BIG_BYTES)
			throw new Error(`big download failed: ${result.error?.message ?? `${bytes} bytes`}`);
		return growth;
	} finally {
		emulator.stop();
	}
}

/** A 1 GB file given as Audio URL: read up to the 5 MB limit, then refused. */
async function hugeAudioUrl(): Promise<number> {
	const emulator = await emulatorProcess([]);
	try {
		const { session_id } = await session(emulator.baseUrl);
		const { growth, result } = await peakRssGrowth(
			async () =>
				await runKlingNode({
					credentials: emulatorCredentials(emulator.baseUrl),
					items: [{ session_id, face_id: '0' }],
					parameters: lipSync(emulator, 1, {
						audioUrl: `${emulator.baseUrl}/media/large/1073741824.mp3`,
					}),
				}),
		);
		if (!/at most 5 MB/.test(result.error?.message ?? ''))
			throw new Error(`1 GB audio URL: ${result.error?.message ?? 'no error'}`);
		return growth;
	} finally {
		emulator.stop();
	}
}

/** 200 items with 4 MB of binary audio each (filesystem binary mode, Max Tasks in Flight 5). */
async function binaryBatch(count: number): Promise<{ growth: number; wallMs: number }> {
	const emulator = await emulatorProcess(['--task-ms', '300', '--submitted-ms', '50']);
	try {
		await useFilesystemBinaryData();
		const audio = path.join(mkdtempSync(path.join(tmpdir(), 'kling-bench-audio-')), 'voice.wav');
		writeFileSync(audio, silentWav(45_000, 44_100));
		const reply = await callApi(emulator.baseUrl, 'POST', '/v1/videos/identify-face', {
			body: { video_url: 'https://cdn.example.com/bench-long.mp4?durationMs=60000&faces=0-60000' },
		});
		const { session_id } = reply.body.data as { session_id: string };
		const started = Date.now();
		const { growth, result } = await peakRssGrowth(
			async () =>
				await runKlingNode({
					credentials: emulatorCredentials(emulator.baseUrl),
					items: Array.from({ length: count }, (_, index) => ({
						session_id,
						face_id: '0',
						insert_ms: index * 10,
					})),
					binary: Array.from({ length: count }, (_, item) => ({
						item,
						property: 'data',
						fileName: 'voice.wav',
						path: audio,
						mimeType: 'audio/wav',
					})),
					parameters: lipSync(emulator, 5, {
						audioSource: 'binary',
						cropEndMs: 3000,
						waitOptions: { pollIntervalSeconds: 0.3, maxWaitMinutes: 10 },
					}),
				}),
		);
		if (result.error || result.output.some((item) => item.json.task_status !== 'succeed'))
			throw new Error(`binary batch failed: ${result.error?.message}`);
		return { growth, wallMs: Date.now() - started };
	} finally {
		emulator.stop();
	}
}

/** Wall time to prepare and submit N items whose audio URLs each take 300 ms to answer. */
async function preparation(emu: Emulator, count: number): Promise<number> {
	const { session_id } = await session(emu.baseUrl);
	emu.configure({ mediaDelayMs: 300 });
	try {
		const started = Date.now();
		const { error } = await runKlingNode({
			credentials: emulatorCredentials(emu.baseUrl),
			items: Array.from({ length: count }, (_, index) => ({
				session_id,
				face_id: '0',
				insert_ms: index,
			})),
			parameters: lipSync(emu, 20, { waitForCompletion: false }),
		});
		if (error) throw new Error(`preparation run failed: ${error.message}`);
		return Date.now() - started;
	} finally {
		emu.configure({ mediaDelayMs: 0 });
	}
}

interface CallbackFigures {
	readsPerTask: number;
	wallMs: number;
	callbackUrlLength: number;
	rejected1303: number;
}

/**
 * A Callback-mode run of N tasks that finish at spread times, optionally over an account limit. A
 * run waits for callbacks only when every item fits in Max Tasks in Flight; a larger one polls.
 */
async function callbackScale(
	count: number,
	concurrencyLimit: number,
	inFlight: number,
): Promise<CallbackFigures> {
	const emu = await startEmulator({
		taskTimeMs: 500,
		taskTimeSpreadMs: 3000,
		submittedMs: 100,
		concurrencyLimit,
		callbackRetryDelaysMs: [200, 400, 800, 1600],
	});
	const resume = await startResumeServer();
	try {
		const { session_id } = await session(emu.baseUrl);
		emu.resetStats();
		const started = Date.now();
		const waiting = await runKlingNode({
			credentials: emulatorCredentials(emu.baseUrl),
			items: Array.from({ length: count }, (_, index) => ({
				session_id,
				face_id: '0',
				insert_ms: index % 5001,
			})),
			parameters: lipSync(emu, inFlight, {
				waitMode: 'callback',
				waitOptions: { maxWaitMinutes: 30 },
			}),
			resumeServer: resume,
		});
		const done = waiting.resumed ? await waiting.resumed() : waiting;
		if (
			done.error ||
			done.output.length !== count ||
			done.output.some((item) => item.json.task_status !== 'succeed')
		) {
			throw new Error(
				`callback batch failed: ${done.error?.message ?? `${done.output.length} items`}`,
			);
		}
		const reads = (emu.stats.requests.get ?? 0) + (emu.stats.requests.list ?? 0);
		return {
			readsPerTask: reads / count,
			wallMs: Date.now() - started,
			callbackUrlLength: Math.max(0, ...emu.callbacks.map((delivery) => delivery.url.length)),
			rejected1303: emu.stats.rejected[1303] ?? 0,
		};
	} finally {
		await emu.stop();
		await resume.stop();
	}
}

async function callbackPolls(emu: Emulator): Promise<{ beforeResume: number; total: number }> {
	const resume = await startResumeServer();
	try {
		const { session_id } = await session(emu.baseUrl);
		emu.resetStats();
		const waiting = await runKlingNode({
			credentials: emulatorCredentials(emu.baseUrl),
			items: Array.from({ length: 5 }, (_, index) => ({
				session_id,
				face_id: '0',
				insert_ms: index,
			})),
			parameters: lipSync(emu, 5, { waitMode: 'callback' }),
			resumeServer: resume,
		});
		const beforeResume = emu.stats.requests.get ?? 0;
		const done = await waiting.resumed!();
		if (done.output.some((item) => item.json.task_status !== 'succeed'))
			throw new Error('callback batch failed');
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
	console.log(
		`bench: task time ${TASK_MS / 1000} s, poll interval ${POLL_S} s, ${RUNS} runs per figure (median)`,
	);
	const emu = await startEmulator({ taskTimeMs: TASK_MS, submittedMs: 300 });
	try {
		if (SECTIONS.includes('speed')) await speed(emu);
		if (SECTIONS.includes('callback')) await callbackScaleFigures();
		if (SECTIONS.includes('memory')) await memory(emu);
		if (SECTIONS.includes('dialogue')) await dialogueFigures();
		if (SECTIONS.includes('trigger')) await triggerFloodFigures();
	} finally {
		await emu.stop();
	}
}

const line = (label: string, text: string): void => console.log(`  ${label.padEnd(34)} ${text}`);

/**
 * The trigger (API read) under a forged flood: FLOOD_S seconds of 10 deliveries a second naming
 * made-up task ids (2 of 3 distinct), the account limited to 10 requests a second, while one real
 * Lip Sync run (Poll) shares the account: reads per forged delivery, the slowest answer, the real
 * run's slowdown.
 */
async function triggerFloodFigures(): Promise<void> {
	const emu = await startEmulator({ taskTimeMs: 2000, submittedMs: 300, requestsPerSecond: 10 });
	try {
		const realRun = async (): Promise<number> => {
			const { session_id } = await session(emu.baseUrl);
			const started = Date.now();
			const { error } = await runKlingNode({
				credentials: emulatorCredentials(emu.baseUrl),
				items: [{ session_id, face_id: '0', insert_ms: Math.floor(Math.random() * 5000) }],
				parameters: lipSync(emu, 1, {
					waitOptions: { pollIntervalSeconds: 0.5, maxWaitMinutes: 5 },
				}),
			});
			if (error) throw error;
			return Date.now() - started;
		};
		const alone = await realRun();
		const trigger = triggerWorkflow(
			{ downloadVideo: false },
			{ klingApi: emulatorCredentials(emu.baseUrl) },
		);
		const rssBefore = process.memoryUsage().rss;
		const during = (async () => {
			await new Promise((resolve) => setTimeout(resolve, Math.min(5000, (FLOOD_S * 1000) / 6)));
			return await realRun();
		})();
		const flood = await forgedFlood(
			emu,
			async (body) => {
				const sentAt = Date.now();
				const call = await trigger.deliver({ rawBody: Buffer.from(body) });
				return {
					status: call.status,
					ms: call.answeredAt - sentAt,
					body: JSON.parse(call.body || '{}') as Record<string, unknown>,
				};
			},
			{ seconds: FLOOD_S, perSecond: 10, distinct: Math.round((FLOOD_S * 10 * 2) / 3) },
		);
		const duringMs = await during;
		line(
			`Trigger flood, ${flood.deliveries} forged in ${FLOOD_S} s`,
			`${flood.reads} API reads (${(flood.reads / flood.deliveries).toFixed(3)} per forged delivery, ${flood.distinctIds} ids), ${flood.readsAfter} after it; answers ${JSON.stringify(flood.statuses)}, slowest ${flood.slowestAnswerMs} ms; real run ${alone} ms alone, ${duringMs} ms during (${(duringMs / alone).toFixed(2)}x); RSS +${mb(process.memoryUsage().rss - rssBefore)}`,
		);
	} finally {
		await emu.stop();
	}
}

/** Batches of hundreds in Callback mode: status reads per task and the callback URL. */
async function callbackScaleFigures(): Promise<void> {
	for (const [label, count, limit, inFlight] of [
		['Callback mode, N=100, no limit', 100, Number.POSITIVE_INFINITY, 100],
		['Callback mode, N=100, limit 5', 100, 5, 100],
		['Callback mode, N=200 > in flight 20', 200, Number.POSITIVE_INFINITY, 20],
	] as const) {
		const figures = await callbackScale(count, limit, inFlight);
		const url = figures.callbackUrlLength
			? `callback URL ${figures.callbackUrlLength} characters`
			: 'no callback (more items than Max Tasks in Flight: the run polls)';
		line(
			label,
			`status reads ${figures.readsPerTask.toFixed(2)} per task (GETs + list pages), wall ${(figures.wallMs / 1000).toFixed(1)} s, 1303 answers ${figures.rejected1303}, ${url}`,
		);
	}
	// The URL names the run's tasks by a short key of their external ids: its length at N = 1,000.
	const ids = Array.from({ length: 1000 }, (_, index) => ({
		itemIndex: index,
		key: taskKey(
			workTaskId({
				subject: `session:${index}`,
				faceId: '0',
				audio: 'sha256:0',
				cropStartMs: 0,
				cropEndMs: 3000,
				insertMs: 0,
				soundVolume: 1,
				originalAudioVolume: 1,
				watermark: false,
			}),
		),
	}));
	line(
		'callback URL, N=1000',
		`${withQueryParam('http://127.0.0.1:5678/webhook-waiting/123', BATCH_QUERY_PARAM, encodeBatch(ids)).length} characters`,
	);
}

interface DialogueFigures {
	perStep: Record<'identify' | 'create' | 'get' | 'list', number>;
	wallMs: number;
	rssGrowth: number;
}

/** N two-speaker dialogues (full-length tracks), every step's task finishing at a spread time. */
async function dialogueScale(
	count: number,
	waitMode: 'poll' | 'callback',
): Promise<DialogueFigures> {
	const emu = await startEmulator({
		taskTimeMs: 500,
		taskTimeSpreadMs: 1500,
		submittedMs: 100,
		callbackRetryDelaysMs: [200, 400, 800, 1600],
	});
	const resume = await startResumeServer();
	try {
		const track = `${emu.baseUrl}/media/silence/9000.wav`;
		const started = Date.now();
		const { growth, result } = await peakRssGrowth(async () => {
			const first = await runKlingNode({
				credentials: emulatorCredentials(emu.baseUrl),
				items: Array.from({ length: count }, (_, index) => ({
					url: `https://cdn.example.com/talk.mp4?durationMs=9000&faces=0-4500,4500-9000&n=${index}`,
				})),
				parameters: {
					resource: 'lipSync',
					operation: 'dubDialogue',
					videoUrl: '={{ $json.url }}',
					speakers: {
						speaker: [
							{ faceChoice: 'visibleAt', visibleAtMs: 1000, audioUrl: track },
							{ faceChoice: 'visibleAt', visibleAtMs: 6000, audioUrl: track },
						],
					},
					downloadVideo: false,
					waitMode,
					waitOptions: { pollIntervalSeconds: POLL_S, maxWaitMinutes: 30 },
					options: { maxInFlight: 20 },
				},
				resumeServer: resume,
			});
			return first.resumed ? await first.resumed() : first;
		});
		if (
			result.error ||
			result.output.length !== count ||
			result.output.some((item) => item.json.task_status !== 'succeed')
		) {
			throw new Error(
				`dialogue batch failed: ${result.error?.message ?? JSON.stringify(result.output.find((item) => item.json.task_status !== 'succeed')?.json)}`,
			);
		}
		const steps = count * 2;
		const per = (route: string): number => (emu.stats.requests[route] ?? 0) / steps;
		return {
			perStep: {
				identify: per('identify'),
				create: per('create'),
				get: per('get'),
				list: per('list'),
			},
			wallMs: Date.now() - started,
			rssGrowth: growth,
		};
	} finally {
		await emu.stop();
		await resume.stop();
	}
}

/** Dub Dialogue at scale: API calls per step do not grow with the number of dialogues. */
async function dialogueFigures(): Promise<void> {
	for (const waitMode of ['poll', 'callback'] as const) {
		for (const count of [20, 100]) {
			const figures = await dialogueScale(count, waitMode);
			const { identify, create, get, list } = figures.perStep;
			line(
				`Dub Dialogue ${waitMode}, ${count} x 2 speakers`,
				`per step: identify ${identify.toFixed(2)}, create ${create.toFixed(2)}, get ${get.toFixed(2)}, list ${list.toFixed(2)}; wall ${(figures.wallMs / 1000).toFixed(1)} s; peak RSS +${mb(figures.rssGrowth)}`,
			);
		}
	}
}

/** Batches of hundreds: preparation side by side, and memory held per item. */
async function memory(emu: Emulator): Promise<void> {
	const one: number[] = [];
	const twenty: number[] = [];
	for (let i = 0; i < RUNS; i++) {
		one.push(await preparation(emu, 1));
		twenty.push(await preparation(emu, 20));
	}
	line(
		'prepare, audio URLs 300 ms each',
		`N=1 ${(median(one) / 1000).toFixed(2)} s, N=20 ${(median(twenty) / 1000).toFixed(2)} s, ratio ${(median(twenty) / median(one)).toFixed(2)}`,
	);
	const huge: number[] = [];
	for (let i = 0; i < RUNS; i++) huge.push(await hugeAudioUrl());
	line(
		'1 GB Audio URL (refused at 5 MB)',
		`peak RSS growth ${mb(median(huge))} (runs: ${huge.map(mb).join(', ')})`,
	);
	const batch200 = await binaryBatch(200);
	line(
		'200 items x 4 MB binary audio',
		`peak RSS growth ${mb(batch200.growth)}, wall ${(batch200.wallMs / 1000).toFixed(1)} s (filesystem binary mode, Max Tasks in Flight 5)`,
	);
}

async function speed(emu: Emulator): Promise<void> {
	{
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
					`wall ${(walls[count] / 1000).toFixed(2)} s, wall(N)/wall(1) ${(walls[count] / walls[1]).toFixed(2)}, reads/task ${median(figures.map((f) => f.pollsPerTask)).toFixed(2)}, ${delays.length ? `completion noticed after ${(median(delays) / 1000).toFixed(2)} s median / ${(Math.max(...delays) / 1000).toFixed(2)} s max` : 'completion read by list page (the emulator times GETs only)'} (poll interval ${POLL_S} s)`,
				]);
				console.log(`  ${rows[rows.length - 1][0].padEnd(34)} ${rows[rows.length - 1][1]}`);
			}
		}
		const growth: number[] = [];
		for (let i = 0; i < RUNS; i++) growth.push(await bigDownload());
		console.log(
			`  ${'200 MB result -> filesystem binary'.padEnd(34)} peak RSS growth ${mb(median(growth))} (runs: ${growth.map(mb).join(', ')})`,
		);
		const callbacks: Array<{ beforeResume: number; total: number }> = [];
		for (let i = 0; i < RUNS; i++) callbacks.push(await callbackPolls(emu));
		console.log(
			`  ${'Callback mode, 5 tasks'.padEnd(34)} status polls while waiting ${median(callbacks.map((c) => c.beforeResume))}, reads in all ${median(callbacks.map((c) => c.total))} (one per task when the last is final, more if finals overlap)`,
		);
		console.log(
			`  ${'npm pack tarball'.padEnd(34)} ${((await tarballBytes()) / 1024).toFixed(1)} KB`,
		);
		const loads: Array<{ workflowMs: number; nodeMs: number }> = [];
		for (let i = 0; i < RUNS; i++) loads.push(await coldLoadMs());
		console.log(
			`  ${'cold load (fresh process)'.padEnd(34)} node module ${median(loads.map((l) => l.nodeMs)).toFixed(1)} ms after n8n-workflow (${median(loads.map((l) => l.workflowMs)).toFixed(0)} ms)`,
		);
	}
}

main()
	.catch((error: unknown) => {
		console.error(error);
		process.exitCode = 1;
	})
	.finally(() => setTimeout(() => process.exit(), 100));
