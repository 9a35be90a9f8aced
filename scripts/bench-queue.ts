/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
/**
 * Nightly batches in real n8n 2.41.1 queue mode: PostgreSQL and Redis (Debian's packages,
 * installed when missing), one main and 2 workers, the emulator with a task time of 20 s and an
 * account limit of 50 running tasks. Scenarios (BENCH_QUEUE_SCENARIOS, all by default):
 *   poll      one execution of 1,000 items, Identify Face -> Lip Sync (Poll), Max Tasks in Flight 50
 *   callback  the same in Callback mode
 *   trigger   Wait for Completion off, the Kling Lip Sync Trigger downstream, 1,000 videos
 *   parallel  10 executions of 100 items started at once (Callback mode, Max Tasks in Flight 5 each)
 * For each: wall against the ideal (items / limit x task time), API requests and media downloads
 * per task, how long each worker was busy, peak RSS of every process against its idle RSS,
 * results checked item by item, billed creates, duplicates, callbacks, trigger runs per task.
 *   BENCH_QUEUE_ITEMS=200 BENCH_QUEUE_TASK_MS=5000 BENCH_QUEUE_SCENARIOS=callback npm run bench:queue
 * BENCH_QUEUE_EXPRESSION_ENGINE=legacy runs n8n with its in-process expression engine (2.41's
 * default, vm, makes an isolate per webhook request and per execution): what memory is n8n's.
 * BENCH_QUEUE_NODE_OPTIONS (e.g. --max-old-space-size=512) is given to every n8n process.
 */
import path from 'node:path';

import { startEmulator } from '../test/emulator/server';
import { CREDENTIAL_ID, credential } from './e2e/examples';
import { N8nUser, TARGETS, packPackage } from './e2e/n8n';
import { restSession, until } from './e2e/queue';
import { ensureQueueServices, startPostgres, startRedis } from './e2e/services';

const ITEMS = Number(process.env.BENCH_QUEUE_ITEMS ?? 1000);
const TASK_MS = Number(process.env.BENCH_QUEUE_TASK_MS ?? 20_000);
const ACCOUNT_LIMIT = Number(process.env.BENCH_QUEUE_LIMIT ?? 50);
const EXECUTIONS_AT_ONCE = 10;
const WORKER_CONCURRENCY = 10;
const SCENARIOS = (process.env.BENCH_QUEUE_SCENARIOS ?? 'poll,callback,trigger,parallel').split(
	',',
);
const EXPRESSION_ENGINE = process.env.BENCH_QUEUE_EXPRESSION_ENGINE;
const NODE_OPTIONS = process.env.BENCH_QUEUE_NODE_OPTIONS;
const IDEAL_MS = (ITEMS / ACCOUNT_LIMIT) * TASK_MS;
/** A scenario that makes no progress for this long has lost something: it ends and says so. */
const STALL_MS = 5 * 60_000;
const TRIGGER_WEBHOOK_ID = 'kling-bench-results';

type Mode = 'poll' | 'callback' | 'submit';

interface OutputItem {
	json: Record<string, unknown>;
	binary?: Record<string, { mimeType: string }>;
	pairedItem?: { item: number } | Array<{ item: number }>;
}

function batchWorkflow(
	id: string,
	mode: Mode,
	inFlight: number,
	triggerUrl: string,
	audioUrl: string,
): Record<string, unknown> {
	const kling = { klingApi: { id: CREDENTIAL_ID, name: 'Kling API' } };
	const lipSync =
		mode === 'submit'
			? { waitForCompletion: false, options: { maxInFlight: inFlight, callbackUrl: triggerUrl } }
			: {
					waitMode: mode,
					downloadVideo: true,
					options: { maxInFlight: inFlight },
					waitOptions: { pollIntervalSeconds: 2, maxWaitMinutes: 60 },
				};
	return {
		id,
		name: `Bench ${id}`,
		nodes: [
			{
				id: `${id}-start`,
				name: 'Start',
				type: 'n8n-nodes-base.webhook',
				typeVersion: 2,
				position: [0, 0],
				webhookId: id,
				parameters: { httpMethod: 'POST', path: id, responseMode: 'onReceived', options: {} },
			},
			{
				id: `${id}-split`,
				name: 'Each Video',
				type: 'n8n-nodes-base.splitOut',
				typeVersion: 1,
				position: [200, 0],
				parameters: { fieldToSplitOut: 'body.videos', options: {} },
			},
			{
				id: `${id}-identify`,
				name: 'Identify Face',
				type: 'n8n-nodes-kling-lipsync.klingLipSync',
				typeVersion: 1.1,
				position: [400, 0],
				credentials: kling,
				parameters: {
					resource: 'face',
					operation: 'identifyFace',
					videoUrl: '={{ $json.video_url }}',
				},
			},
			{
				id: `${id}-lipsync`,
				name: 'Lip Sync',
				type: 'n8n-nodes-kling-lipsync.klingLipSync',
				typeVersion: 1.1,
				position: [600, 0],
				credentials: kling,
				parameters: { resource: 'lipSync', operation: 'lipSync', audioUrl, ...lipSync },
			},
		],
		connections: {
			Start: { main: [[{ node: 'Each Video', type: 'main', index: 0 }]] },
			'Each Video': { main: [[{ node: 'Identify Face', type: 'main', index: 0 }]] },
			'Identify Face': { main: [[{ node: 'Lip Sync', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
		pinData: {},
	};
}

function triggerWorkflow(): Record<string, unknown> {
	return {
		id: 'benchTriggerRuns',
		name: 'Bench trigger',
		nodes: [
			{
				id: 'bench-trigger',
				name: 'Lip Sync Finished',
				type: 'n8n-nodes-kling-lipsync.klingLipSyncTrigger',
				typeVersion: 1.1,
				position: [0, 0],
				webhookId: TRIGGER_WEBHOOK_ID,
				credentials: { klingApi: { id: CREDENTIAL_ID, name: 'Kling API' } },
				parameters: {
					verification: 'apiRead',
					events: 'finished',
					downloadVideo: true,
					binaryPropertyName: 'data',
				},
			},
		],
		connections: {},
		settings: { executionOrder: 'v1' },
		pinData: {},
	};
}

/** Resident memory of main and each worker, sampled once a second. */
class MemorySampler {
	private timer?: NodeJS.Timeout;
	idle: number[] = [];
	peak: number[] = [];
	constructor(private readonly n8n: N8nUser) {}
	private read(): number[] {
		return [this.n8n.serverRssMb() ?? 0, ...this.n8n.workerRssMb().map((mb) => mb ?? 0)];
	}
	start(): void {
		this.idle = this.read();
		this.peak = [...this.idle];
		this.timer = setInterval(
			() => (this.peak = this.read().map((mb, index) => Math.max(mb, this.peak[index] ?? 0))),
			1000,
		);
	}
	stop(): void {
		clearInterval(this.timer);
	}
}

/** Per worker: the union of the times it ran at least one job (Worker started/finished execution). */
class BusyClock {
	private readonly open = new Map<string, number>();
	private readonly intervals: Array<{
		worker: number;
		from: number;
		to: number;
		execution: string;
	}> = [];
	readonly executions = new Set<string>();
	constructor(n8n: N8nUser) {
		n8n.onWorkerLine = (worker, line, at) => {
			const started = /Worker started execution (\d+)/.exec(line);
			const finished = /Worker finished execution (\d+)/.exec(line);
			if (started) this.open.set(`${worker}:${started[1]}`, at);
			if (finished) {
				const from = this.open.get(`${worker}:${finished[1]}`);
				this.open.delete(`${worker}:${finished[1]}`);
				if (from !== undefined)
					this.intervals.push({ worker, from, to: at, execution: finished[1] });
			}
		};
	}
	reset(): void {
		this.intervals.length = 0;
	}
	/** Busy seconds per worker, and jobs run, since the last reset. */
	figures(workers: number): Array<{ busyS: number; jobs: number; longestJobS: number }> {
		return Array.from({ length: workers }, (_, worker) => {
			const mine = this.intervals
				.filter((interval) => interval.worker === worker)
				.sort((a, b) => a.from - b.from);
			let busy = 0;
			let end = 0;
			for (const { from, to } of mine) {
				if (to <= end) continue;
				busy += to - Math.max(from, end);
				end = to;
			}
			const longest = Math.max(0, ...mine.map((interval) => interval.to - interval.from));
			return { busyS: busy / 1000, jobs: mine.length, longestJobS: longest / 1000 };
		});
	}
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(0)} s`;
const perTask = (count: number | undefined, tasks: number): string =>
	((count ?? 0) / tasks).toFixed(2);
const line = (label: string, text: string): void => console.log(`  ${label.padEnd(24)} ${text}`);

async function main(): Promise<void> {
	const target = TARGETS[0];
	console.log(
		`bench:queue: n8n ${target.version} queue mode, ${ITEMS} items, task time ${TASK_MS / 1000} s, account limit ${ACCOUNT_LIMIT}, ideal ${seconds(IDEAL_MS)}, expression engine ${EXPRESSION_ENGINE ?? 'n8n default'}${NODE_OPTIONS ? `, NODE_OPTIONS ${NODE_OPTIONS}` : ''}`,
	);
	await ensureQueueServices();
	const [postgres, redis] = [await startPostgres(), await startRedis()];
	const emu = await startEmulator({
		taskTimeMs: TASK_MS,
		concurrencyLimit: ACCOUNT_LIMIT,
		submittedMs: 1000,
	});
	const n8n = await N8nUser.create(target);
	let failed = false;
	try {
		const tarball = await packPackage();
		await n8n.installPackage(tarball);
		const queueEnv = {
			...postgres.env,
			EXECUTIONS_MODE: 'queue',
			QUEUE_BULL_REDIS_HOST: '127.0.0.1',
			QUEUE_BULL_REDIS_PORT: String(redis.port),
			// The main process and the workers are on one machine: the filesystem store is shared.
			N8N_DEFAULT_BINARY_DATA_MODE: 'filesystem',
			N8N_LOG_LEVEL: 'info',
			EXECUTIONS_DATA_PRUNE: 'false',
			// n8n 2.41's expression engine (vm: isolates; legacy: in-process), to tell its memory from the node's.
			...(EXPRESSION_ENGINE ? { N8N_EXPRESSION_ENGINE: EXPRESSION_ENGINE } : {}),
			// e.g. --max-old-space-size=512: whether a process's peak is what it holds or garbage V8 keeps while it has room.
			...(NODE_OPTIONS ? { NODE_OPTIONS } : {}),
		};
		n8n.useEnv(queueEnv);
		const triggerUrl = `${n8n.baseUrl}/webhook/${TRIGGER_WEBHOOK_ID}/kling-lipsync`;
		const audioUrl = `${emu.baseUrl}/media/fixtures/tone-3s.wav`;
		await n8n.importJson('credentials', [credential(emu)]);
		const workflows = [
			batchWorkflow('benchPoll', 'poll', ACCOUNT_LIMIT, triggerUrl, audioUrl),
			batchWorkflow('benchCallback', 'callback', ACCOUNT_LIMIT, triggerUrl, audioUrl),
			batchWorkflow('benchSubmit', 'submit', ACCOUNT_LIMIT, triggerUrl, audioUrl),
			batchWorkflow(
				'benchParallel',
				'callback',
				ACCOUNT_LIMIT / EXECUTIONS_AT_ONCE,
				triggerUrl,
				audioUrl,
			),
			triggerWorkflow(),
		];
		await n8n.importJson('workflow', workflows);
		for (const workflow of workflows) {
			const published = await n8n.cli(['publish:workflow', `--id=${String(workflow.id)}`]);
			if (published.code !== 0)
				throw new Error(
					`publish:workflow ${String(workflow.id)}: ${published.stdout}${published.stderr}`,
				);
		}
		const busy = new BusyClock(n8n);
		await n8n.start({});
		await n8n.startWorker({}, WORKER_CONCURRENCY);
		await n8n.startWorker({}, WORKER_CONCURRENCY);
		const rest = await restSession(n8n.baseUrl);
		const flatted = require(path.join(n8n.installFolder, 'node_modules', 'flatted')) as {
			parse(text: string): unknown;
		};
		// A main busy with a thousand webhooks may answer 503 ("Database is not ready") for a moment.
		const restRetried = async (pathName: string): Promise<unknown> => {
			for (let attempt = 1; ; attempt++) {
				try {
					return await rest(pathName);
				} catch (error) {
					if (attempt >= 10) throw error;
					await new Promise((resolve) => setTimeout(resolve, 3000));
				}
			}
		};
		const executionsOf = async (
			workflowId: string,
		): Promise<Array<{ id: string; status: string }>> => {
			const found = new Map<string, { id: string; status: string }>();
			const filter = encodeURIComponent(JSON.stringify({ workflowId }));
			// n8n 2.41 pages by an opaque cursor (its first page also lists the running and waiting ones); older ones by the last id.
			for (let next = ''; ; ) {
				const page = (await restRetried(`/executions?filter=${filter}&limit=100${next}`)) as {
					results: Array<{ id: string; status: string }>;
					nextCursor?: string | null;
				};
				for (const execution of page.results) found.set(execution.id, execution);
				if (
					page.nextCursor === null ||
					(page.nextCursor === undefined && page.results.length < 100)
				)
					return [...found.values()];
				next = page.nextCursor
					? `&cursor=${encodeURIComponent(page.nextCursor)}`
					: `&lastId=${page.results[page.results.length - 1].id}`;
			}
		};
		/** How many executions of a workflow have this status: one small REST read (listing 1,000 each time would load main). */
		const countOf = async (workflowId: string, status: string): Promise<number> => {
			const filter = encodeURIComponent(JSON.stringify({ workflowId, status: [status] }));
			const page = (await restRetried(`/executions?filter=${filter}&limit=1`)) as {
				count?: number;
			};
			if (typeof page.count !== 'number') throw new Error("n8n's executions list gave no count");
			return page.count;
		};
		const outputOf = async (executionId: string, node: string): Promise<OutputItem[]> => {
			const full = (await restRetried(`/executions/${executionId}`)) as { data: string };
			const data = flatted.parse(full.data) as {
				resultData: { runData: Record<string, Array<{ data?: { main: OutputItem[][] } }>> };
			};
			const runs = data.resultData.runData[node] ?? [];
			return runs[runs.length - 1]?.data?.main[0] ?? [];
		};
		await until('the trigger webhook', async () => {
			const reply = await fetch(triggerUrl, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: '{}',
			});
			return reply.status === 400 ? true : undefined;
		});

		const startBatches = async (
			workflowId: string,
			tag: string,
			executions: number,
		): Promise<void> => {
			const size = ITEMS / executions;
			await Promise.all(
				Array.from({ length: executions }, async (_, run) => {
					const videos = Array.from({ length: size }, (_, take) => ({
						video_url: `https://cdn.example.com/bench-${tag}-${run}-${take}.mp4?durationMs=8000&faces=0-8000`,
					}));
					const reply = await fetch(`${n8n.baseUrl}/webhook/${workflowId}`, {
						method: 'POST',
						headers: { 'content-type': 'application/json' },
						body: JSON.stringify({ videos }),
					});
					if (reply.status !== 200)
						throw new Error(`starting ${workflowId} answered ${reply.status}`);
				}),
			);
		};
		/** Until `done` says so, or nothing moved for STALL_MS (progress: a number that grows). */
		const waitFor = async (
			what: string,
			progress: () => Promise<number>,
			done: (value: number) => boolean,
		): Promise<boolean> => {
			let last = -1;
			let movedAt = Date.now();
			let printedAt = Date.now();
			for (;;) {
				const value = await progress();
				if (done(value)) return true;
				if (value !== last) {
					last = value;
					movedAt = Date.now();
				}
				if (Date.now() - printedAt > 60_000) {
					console.log(`    ... ${what}: ${value}`);
					printedAt = Date.now();
				}
				if (Date.now() - movedAt > STALL_MS) return false;
				await new Promise((resolve) => setTimeout(resolve, 2000));
			}
		};

		for (const scenario of SCENARIOS) {
			const workflowId = {
				poll: 'benchPoll',
				callback: 'benchCallback',
				trigger: 'benchSubmit',
				parallel: 'benchParallel',
			}[scenario];
			if (!workflowId) throw new Error(`unknown scenario ${scenario}`);
			const executions = scenario === 'parallel' ? EXECUTIONS_AT_ONCE : 1;
			const before = new Set((await executionsOf(workflowId)).map((execution) => execution.id));
			const triggerBefore = new Set(
				(await executionsOf('benchTriggerRuns')).map((execution) => execution.id),
			);
			const triggerSucceededBefore = await countOf('benchTriggerRuns', 'success');
			emu.resetStats();
			emu.callbacks.length = 0;
			busy.reset();
			const memory = new MemorySampler(n8n);
			memory.start();
			const cpuBefore = [n8n.serverCpuSeconds() ?? 0, ...n8n.workerCpuSeconds().map((s) => s ?? 0)];
			const started = Date.now();
			await startBatches(workflowId, `${scenario}-${started}`, executions);
			const mine = async () =>
				(await executionsOf(workflowId)).filter((execution) => !before.has(execution.id));
			const finishedRuns = async () =>
				(await mine()).filter((execution) =>
					['success', 'error', 'crashed', 'canceled'].includes(execution.status),
				);
			let completed: boolean;
			let waitingSeen = 0;
			if (scenario === 'trigger') {
				completed = await waitFor(
					'trigger runs',
					async () => (await countOf('benchTriggerRuns', 'success')) - triggerSucceededBefore,
					(count) => count >= ITEMS,
				);
			} else {
				completed = await waitFor(
					'executions finished, tasks made',
					async () => {
						const list = await mine();
						waitingSeen = Math.max(
							waitingSeen,
							list.filter((execution) => execution.status === 'waiting').length,
						);
						return (
							list.filter((execution) =>
								['success', 'error', 'crashed', 'canceled'].includes(execution.status),
							).length *
								1e6 +
							emu.stats.billed.create
						);
					},
					(value) => Math.floor(value / 1e6) >= executions,
				);
			}
			const wallMs = Date.now() - started;
			memory.stop();
			const cpu = [n8n.serverCpuSeconds() ?? 0, ...n8n.workerCpuSeconds().map((s) => s ?? 0)].map(
				(s, index) => s - (cpuBefore[index] ?? 0),
			);
			// Callbacks still under retry when the run ended are counted as they stand now.
			await new Promise((resolve) => setTimeout(resolve, 3000));

			// Results, item by item: each task in exactly one output item, with its video.
			const items: OutputItem[] = [];
			const runsOf =
				scenario === 'trigger'
					? (await executionsOf('benchTriggerRuns')).filter(
							(execution) => !triggerBefore.has(execution.id),
						)
					: await finishedRuns();
			for (const execution of runsOf)
				items.push(
					...(await outputOf(
						execution.id,
						scenario === 'trigger' ? 'Lip Sync Finished' : 'Lip Sync',
					)),
				);
			const taskIds = items.map((item) => String(item.json.task_id ?? ''));
			const good = items.filter(
				(item) =>
					item.json.task_status === 'succeed' && item.binary?.data?.mimeType === 'video/mp4',
			).length;
			const distinct = new Set(taskIds.filter(Boolean)).size;
			const correct = completed && good === ITEMS && distinct === ITEMS && items.length === ITEMS;
			const seenTwice = taskIds.filter((taskId, index) => taskIds.indexOf(taskId) !== index);
			for (const taskId of seenTwice.slice(0, 3)) {
				console.log(
					`    task ${taskId} is in more than one output item; its callbacks: ${JSON.stringify(emu.callbacks.filter((delivery) => delivery.taskId === taskId).map(({ status, attempts, delivered }) => ({ status, attempts, delivered })))}`,
				);
				for (const logLine of n8n.serverLog
					.split('\n')
					.filter((text) => text.includes(taskId))
					.slice(0, 10))
					console.log(`      main: ${logLine.slice(0, 300)}`);
			}
			failed ||= !correct;

			const stats = emu.stats;
			const downloads = Object.values(stats.videoDownloads);
			const videoDownloads = downloads.reduce((sum, count) => sum + count, 0);
			const callbacks = emu.callbacks;
			const attempts = callbacks.reduce((sum, delivery) => sum + delivery.attempts, 0);
			const acknowledged = callbacks.filter((delivery) => delivery.delivered).length;
			const finalCallbacks = callbacks.filter(
				(delivery) => delivery.status === 'succeed' || delivery.status === 'failed',
			);
			const finalLost = finalCallbacks.filter((delivery) => !delivery.delivered).length;
			console.log(`\n${scenario}: ${executions} execution(s) of ${ITEMS / executions} items`);
			line(
				'wall',
				`${seconds(wallMs)} against ideal ${seconds(IDEAL_MS)}: ${(wallMs / IDEAL_MS).toFixed(2)}x${completed ? '' : ` (STALLED: nothing moved for ${STALL_MS / 60_000} min)`}`,
			);
			line(
				'results',
				`${correct ? 'correct' : 'WRONG'}: ${items.length} output items, ${good} with a video, ${distinct} distinct tasks`,
			);
			line(
				'billed creates',
				`${stats.billed.create} (${stats.billed.create - distinct} beyond one per task), repeated external ids ${stats.repeatedExternalTaskIds}`,
			);
			line(
				'API requests per task',
				`identify ${perTask(stats.requests.identify, ITEMS)}, create ${perTask(stats.requests.create, ITEMS)} (1303: ${stats.rejected[1303] ?? 0}), status reads ${perTask(stats.requests.get, ITEMS)}, list pages ${perTask(stats.requests.list, ITEMS)}`,
			);
			line(
				'media per task',
				`video downloads ${perTask(videoDownloads, ITEMS)} (most for one task ${Math.max(0, ...downloads)}), audio fetches ${perTask((stats.requests.media ?? 0) - videoDownloads, ITEMS)} (the node's measuring read and Kling's own)`,
			);
			line(
				'callbacks',
				`${callbacks.length} events, ${attempts} attempts, ${acknowledged} acknowledged, ${callbacks.length - acknowledged} given up (final ones given up: ${finalLost})${scenario === 'trigger' ? `, trigger runs per task ${perTask(runsOf.length, ITEMS)}` : ''}`,
			);
			const workerFigures = busy.figures(2);
			line(
				'workers busy',
				workerFigures
					.map(
						(figure, worker) =>
							`worker ${worker + 1}: ${figure.busyS.toFixed(0)} s (${figure.jobs} jobs, longest ${figure.longestJobS.toFixed(0)} s)`,
					)
					.join('; ') + (waitingSeen ? `; executions seen waiting: ${waitingSeen}` : ''),
			);
			line(
				'peak RSS (idle)',
				memory.peak
					.map(
						(mb, index) =>
							`${index === 0 ? 'main' : `worker ${index}`} ${mb} MB (${memory.idle[index]} MB, ${(mb / Math.max(1, memory.idle[index] ?? 1)).toFixed(2)}x)`,
					)
					.join('; '),
			);
			line(
				'CPU',
				cpu
					.map((s, index) => `${index === 0 ? 'main' : `worker ${index}`} ${s.toFixed(1)} s`)
					.join('; '),
			);
		}
	} finally {
		await n8n.stop();
		await emu.stop();
		await redis.stop();
		await postgres.stop();
		n8n.cleanup();
	}
	if (failed) process.exitCode = 1;
}

main()
	.catch((error: unknown) => {
		console.error(error);
		process.exitCode = 1;
	})
	.finally(() => setTimeout(() => process.exit(), 100));
