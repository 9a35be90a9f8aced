/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
/**
 * n8n in queue mode (Redis + main + one worker with a single slot): a Callback-mode Lip Sync
 * execution waits without holding the worker's slot (a Poll-mode execution runs and finishes on
 * the worker meanwhile), and finishes on the worker when the emulator's callback arrives; the
 * fire-and-forget examples (submit many; trigger -> store) run the same way.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import type { Emulator } from '../../test/emulator/server';
import { CREDENTIAL_ID, exampleFor } from './examples';
import { OWNER, type N8nUser } from './n8n';
import { ensureQueueServices, startRedis } from './services';
import {
	DIALOGUE_RETRY_WORKFLOW_ID,
	RETRY_WORKFLOW_ID,
	checkNothingPaidTwice,
	dialogueRetryWorkflow,
	retryWorkflow,
} from './retry';
import {
	SIGNED_TRIGGER_ID,
	WEBHOOK_CREDENTIAL,
	checkTriggerTrust,
	checkTriggerUnderLoad,
	signedTriggerWorkflow,
} from './trigger';

const VIDEO = 'https://cdn.example.com/queue-talk.mp4?durationMs=8000&faces=0-8000';

/** A Webhook-started workflow: Identify Face -> Lip Sync with the given wait mode. */
function webhookWorkflow(
	id: string,
	waitMode: 'poll' | 'callback',
	emu: Emulator,
): Record<string, unknown> {
	const kling = { klingApi: { id: CREDENTIAL_ID, name: 'Kling API' } };
	return {
		id,
		name: `Queue ${waitMode}`,
		nodes: [
			{
				id: `${id}-start`,
				name: 'Start',
				type: 'n8n-nodes-base.webhook',
				typeVersion: 2,
				position: [0, 0],
				webhookId: `kling-queue-${waitMode}`,
				parameters: {
					httpMethod: 'POST',
					path: `kling-queue-${waitMode}`,
					responseMode: 'onReceived',
					options: {},
				},
			},
			{
				id: `${id}-identify`,
				name: 'Identify Face',
				type: 'n8n-nodes-kling-lipsync.klingLipSync',
				typeVersion: 1.1,
				position: [220, 0],
				credentials: kling,
				parameters: {
					resource: 'face',
					operation: 'identifyFace',
					videoUrl: '={{ $json.body.video_url }}',
				},
			},
			{
				id: `${id}-lipsync`,
				name: 'Lip Sync',
				type: 'n8n-nodes-kling-lipsync.klingLipSync',
				typeVersion: 1.1,
				position: [440, 0],
				credentials: kling,
				parameters: {
					resource: 'lipSync',
					operation: 'lipSync',
					audioUrl: `${emu.baseUrl}/media/fixtures/tone-3s.wav`,
					waitMode,
					waitOptions: { pollIntervalSeconds: 0.5, maxWaitMinutes: 5 },
				},
			},
		],
		connections: {
			Start: { main: [[{ node: 'Identify Face', type: 'main', index: 0 }]] },
			'Identify Face': { main: [[{ node: 'Lip Sync', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
		pinData: {},
	};
}

/**
 * Webhook (a list of videos) -> Split Out -> Identify Face -> Lip Sync in Callback mode: a batch
 * larger than the account's concurrency limit.
 */
function callbackBatchWorkflow(id: string, emu: Emulator): Record<string, unknown> {
	const base = webhookWorkflow(id, 'callback', emu) as { nodes: Array<Record<string, unknown>> };
	const [start, identify, lipSync] = base.nodes;
	return {
		...base,
		name: 'Queue callback batch',
		nodes: [
			{
				...start,
				webhookId: 'kling-queue-batch',
				parameters: {
					httpMethod: 'POST',
					path: 'kling-queue-batch',
					responseMode: 'onReceived',
					options: {},
				},
			},
			{
				id: `${id}-split`,
				name: 'Each Video',
				type: 'n8n-nodes-base.splitOut',
				typeVersion: 1,
				position: [110, 0],
				parameters: { fieldToSplitOut: 'body.videos', options: {} },
			},
			{
				...identify,
				parameters: {
					resource: 'face',
					operation: 'identifyFace',
					videoUrl: '={{ $json.video_url }}',
				},
			},
			// Every task may start at once (Max Tasks in Flight 6), so the run waits for callbacks; the account allows 2.
			{
				...lipSync,
				parameters: {
					...(lipSync.parameters as Record<string, unknown>),
					options: { maxInFlight: 6 },
				},
			},
		],
		connections: {
			Start: { main: [[{ node: 'Each Video', type: 'main', index: 0 }]] },
			'Each Video': { main: [[{ node: 'Identify Face', type: 'main', index: 0 }]] },
			'Identify Face': { main: [[{ node: 'Lip Sync', type: 'main', index: 0 }]] },
		},
	};
}

/** Webhook -> Dub Dialogue (two speakers, full-length tracks) in Callback mode. */
function dialogueCallbackWorkflow(id: string, emu: Emulator): Record<string, unknown> {
	const base = webhookWorkflow(id, 'callback', emu) as { nodes: Array<Record<string, unknown>> };
	const [start] = base.nodes;
	const track = `${emu.baseUrl}/media/silence/9000.wav`;
	return {
		...base,
		name: 'Queue callback dialogue',
		nodes: [
			{
				...start,
				webhookId: 'kling-queue-dialogue',
				parameters: {
					httpMethod: 'POST',
					path: 'kling-queue-dialogue',
					responseMode: 'onReceived',
					options: {},
				},
			},
			{
				id: `${id}-dub`,
				name: 'Dub Dialogue',
				type: 'n8n-nodes-kling-lipsync.klingLipSync',
				typeVersion: 1.1,
				position: [220, 0],
				credentials: { klingApi: { id: CREDENTIAL_ID, name: 'Kling API' } },
				parameters: {
					resource: 'lipSync',
					operation: 'dubDialogue',
					videoUrl: '={{ $json.body.video_url }}',
					speakers: {
						speaker: [
							{ faceChoice: 'visibleAt', visibleAtMs: 1000, audioUrl: track },
							{ faceChoice: 'visibleAt', visibleAtMs: 6000, audioUrl: track },
						],
					},
					waitMode: 'callback',
					waitOptions: { maxWaitMinutes: 5 },
				},
			},
		],
		connections: { Start: { main: [[{ node: 'Dub Dialogue', type: 'main', index: 0 }]] } },
	};
}

/** The REST API as the editor uses it: owner setup (or login, when the editor check set it up), then the session cookie. */
export async function restSession(
	baseUrl: string,
): Promise<(pathName: string, body?: unknown) => Promise<unknown>> {
	const post = async (pathName: string, body: unknown) =>
		await fetch(`${baseUrl}/rest${pathName}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify(body),
		});
	let signedIn = await post('/owner/setup', OWNER);
	for (const login of [
		{ emailOrLdapLoginId: OWNER.email, password: OWNER.password },
		{ email: OWNER.email, password: OWNER.password },
	]) {
		if (signedIn.ok) break;
		signedIn = await post('/login', login);
	}
	const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0];
	assert.ok(signedIn.ok && cookie, `owner setup and login answered ${signedIn.status}`);
	// GET, or POST when there is a body.
	return async (pathName, body) => {
		const method = body === undefined ? 'GET' : 'POST';
		const reply = await fetch(`${baseUrl}/rest${pathName}`, {
			method,
			headers: { cookie, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
			...(body === undefined ? {} : { body: JSON.stringify(body) }),
		});
		assert.ok(
			reply.ok,
			`${method} /rest${pathName} answered ${reply.status}: ${reply.ok ? '' : await reply.text()}`,
		);
		return ((await reply.json()) as { data: unknown }).data;
	};
}

interface OutputItem {
	json: Record<string, unknown>;
	binary?: Record<string, { mimeType: string }>;
}

interface ExecutionSummary {
	id: string;
	workflowId: string;
	status: string;
}

export async function until<T>(
	what: string,
	probe: () => Promise<T | undefined>,
	timeoutMs = 60_000,
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await probe();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 300));
	}
}

export async function checkQueueMode(
	n8n: N8nUser,
	emu: Emulator,
	check: (name: string, fn: () => Promise<void>) => Promise<void>,
): Promise<void> {
	const version = n8n.target.version;
	await ensureQueueServices(true);
	const redis = await startRedis();
	const store = mkdtempSync(path.join(tmpdir(), 'kling-store-'));
	const queueEnv = {
		EXECUTIONS_MODE: 'queue',
		QUEUE_BULL_REDIS_HOST: '127.0.0.1',
		QUEUE_BULL_REDIS_PORT: String(redis.port),
		N8N_RESTRICT_FILE_ACCESS_TO: store,
		OFFLOAD_MANUAL_EXECUTIONS_TO_WORKERS: 'true',
	};
	try {
		const resultsUrl = `${n8n.baseUrl}/webhook/kling-lipsync-results/kling-lipsync`;
		await n8n.importJson('workflow', [
			webhookWorkflow('klingQueueCallbk', 'callback', emu),
			webhookWorkflow('klingQueuePollWf', 'poll', emu),
			callbackBatchWorkflow('klingQueueBatchW', emu),
			dialogueCallbackWorkflow('klingQueueDialog', emu),
			// Its external ids differ from the nightly batch example's, which ran on this emulator already.
			exampleFor(emu, 'submit', {
				'https://your-n8n.example.com/webhook/kling-lipsync-results/kling-lipsync': resultsUrl,
				"'nightly-'": "'callback-'",
			}),
			exampleFor(emu, 'results', { '/home/node/.n8n-files/kling-lipsync/': `${store}/` }),
			signedTriggerWorkflow(),
			retryWorkflow(emu),
			dialogueRetryWorkflow(emu),
		]);
		await n8n.importJson('credentials', [WEBHOOK_CREDENTIAL]);
		for (const id of [
			'klingQueueCallbk',
			'klingQueuePollWf',
			'klingQueueBatchW',
			'klingQueueDialog',
			'klingCallbkResult',
			SIGNED_TRIGGER_ID,
			RETRY_WORKFLOW_ID,
			DIALOGUE_RETRY_WORKFLOW_ID,
		]) {
			const published = await n8n.cli(['publish:workflow', `--id=${id}`]);
			assert.equal(
				published.code,
				0,
				`publish:workflow ${id}: ${published.stdout}${published.stderr}`,
			);
		}
		await n8n.start(queueEnv);
		await n8n.startWorker(queueEnv, 1);
		const rest = await restSession(n8n.baseUrl);
		const executions = async (workflowId: string): Promise<ExecutionSummary[]> => {
			const data = (await rest(
				`/executions?filter=${encodeURIComponent(JSON.stringify({ workflowId }))}`,
			)) as { results: ExecutionSummary[] };
			return data.results;
		};
		const statusOf = async (workflowId: string): Promise<ExecutionSummary | undefined> =>
			(await executions(workflowId))[0];
		/** A node's last run in an execution (a resumed node runs twice): its output items, or its error. */
		const runOf = async (
			executionId: string,
			node: string,
		): Promise<{ items: OutputItem[]; error?: { message: string } }> => {
			const full = (await rest(`/executions/${executionId}`)) as { data: string };
			const flatted = require(path.join(n8n.installFolder, 'node_modules', 'flatted')) as {
				parse(text: string): unknown;
			};
			const data = flatted.parse(full.data) as {
				resultData: {
					runData: Record<
						string,
						Array<{ data?: { main: OutputItem[][] }; error?: { message: string } }>
					>;
				};
			};
			const runs = data.resultData.runData[node] ?? [];
			const last = runs[runs.length - 1];
			return { items: last?.data?.main[0] ?? [], error: last?.error };
		};
		const outputOf = async (executionId: string, node: string): Promise<OutputItem[]> =>
			(await runOf(executionId, node)).items;
		// Active webhooks answer once registered; the trigger answers a non-callback with 400.
		await until('the trigger webhook', async () => {
			const reply = await fetch(resultsUrl, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: '{}',
			});
			return reply.status === 400 ? true : undefined;
		});
		const start = async (waitMode: string) => {
			const reply = await fetch(`${n8n.baseUrl}/webhook/kling-queue-${waitMode}`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ video_url: VIDEO }),
			});
			assert.equal(reply.status, 200, `starting the ${waitMode} workflow answered ${reply.status}`);
		};

		await check(
			`n8n ${version} queue mode: Callback waits holding no worker slot, survives a restart, finishes on the worker; Poll runs on the worker`,
			async () => {
				emu.resetStats();
				// Long enough for the Poll run and a restart of n8n before the callback comes.
				emu.configure({ taskTimeMs: 45_000 });
				await start('callback');
				const waiting = await until('the Callback execution to wait', async () => {
					const execution = await statusOf('klingQueueCallbk');
					return execution?.status === 'waiting' ? execution : undefined;
				});
				assert.equal(emu.stats.requests.get ?? 0, 0, 'a waiting Callback execution does not poll');
				// The task_ids are kept with the waiting execution (a timeout resumes it without the node).
				const waitingData = (await rest(`/executions/${waiting.id}`)) as {
					customData?: Record<string, string>;
				};
				assert.match(
					waitingData.customData?.kling_task_ids ?? '',
					/^\d{18}$/,
					`custom data: ${JSON.stringify(waitingData.customData)}`,
				);

				// The worker has one slot: the Poll execution can only run if the waiting one holds none.
				emu.configure({ taskTimeMs: 2000 });
				await start('poll');
				const polled = await until('the Poll execution to finish', async () => {
					const execution = await statusOf('klingQueuePollWf');
					return execution && ['success', 'error', 'crashed'].includes(execution.status)
						? execution
						: undefined;
				});
				assert.equal(polled.status, 'success');
				assert.equal(
					(await statusOf('klingQueueCallbk'))?.status,
					'waiting',
					'still waiting while the Poll execution ran',
				);

				// The wait survives a restart of n8n (main and worker) before the callback comes.
				await n8n.stop();
				await n8n.start(queueEnv);
				await n8n.startWorker(queueEnv, 1);
				assert.equal(
					(await statusOf('klingQueueCallbk'))?.status,
					'waiting',
					'still waiting after the restart',
				);
				assert.ok(emu.runningTasks() > 0, 'the Callback task was still running when n8n came back');

				const finished = await until(
					'the Callback execution to finish',
					async () => {
						const execution = await statusOf('klingQueueCallbk');
						return execution &&
							execution.status !== 'waiting' &&
							execution.status !== 'running' &&
							execution.status !== 'new'
							? execution
							: undefined;
					},
					90_000,
				);
				assert.equal(finished.status, 'success');
				assert.equal(finished.id, waiting.id);
				console.log(
					`    queue: Callback execution ${waiting.id} waited while Poll execution ${polled.id} ran on the one worker slot`,
				);
				const [item] = await outputOf(finished.id, 'Lip Sync');
				assert.equal(item.json.task_status, 'succeed');
				assert.equal(item.binary?.data.mimeType, 'video/mp4');
				for (const id of [finished.id, polled.id]) {
					assert.match(
						n8n.workerLog,
						new RegExp(`execution ${id}\\b`),
						`the worker ran execution ${id}`,
					);
				}
				assert.ok(
					!new RegExp(`Worker started execution ${finished.id}\\b`).test(n8n.serverLog),
					'main did not run it',
				);
			},
		);

		await check(
			`n8n ${version} queue mode: a Callback batch of 6 over a concurrency limit of 2 waits, resumes on the worker, every video made`,
			async () => {
				emu.resetStats();
				emu.configure({ taskTimeMs: 3000, concurrencyLimit: 2 });
				try {
					const videos = Array.from({ length: 6 }, (_, take) => ({
						video_url: `${VIDEO}&batch=${take}`,
					}));
					const reply = await fetch(`${n8n.baseUrl}/webhook/kling-queue-batch`, {
						method: 'POST',
						headers: { 'content-type': 'application/json' },
						body: JSON.stringify({ videos }),
					});
					assert.equal(reply.status, 200, `starting the batch answered ${reply.status}`);
					const finished = await until(
						'the batch execution to finish',
						async () => {
							const execution = await statusOf('klingQueueBatchW');
							return execution && ['success', 'error', 'crashed'].includes(execution.status)
								? execution
								: undefined;
						},
						120_000,
					);
					assert.equal(finished.status, 'success');
					const items = await outputOf(finished.id, 'Lip Sync');
					assert.deepEqual(
						items.map((item) => item.json.task_status),
						Array(6).fill('succeed'),
					);
					assert.ok(items.every((item) => item.binary?.data.mimeType === 'video/mp4'));
					assert.equal(emu.stats.billed.create, 6);
					assert.ok(
						emu.stats.highestConcurrency <= 2,
						`highest concurrency ${emu.stats.highestConcurrency}`,
					);
					assert.ok((emu.stats.rejected[1303] ?? 0) > 0, 'the limit was reached');
					const reads = (emu.stats.requests.get ?? 0) + (emu.stats.requests.list ?? 0);
					assert.ok(reads <= 12, `status reads ${reads} for 6 tasks`);
					assert.ok(
						(emu.stats.requests.create ?? 0) <= 12,
						`${emu.stats.requests.create} creates for 6 tasks: a turned-away item resubmits when a slot frees`,
					);
					assert.match(
						n8n.workerLog,
						new RegExp(`execution ${finished.id}\\b`),
						'the worker ran it',
					);
					console.log(
						`    queue: Callback batch of 6 over a limit of 2: ${emu.stats.rejected[1303]} answers 1303, ${reads} status reads`,
					);
				} finally {
					emu.configure({ concurrencyLimit: Number.POSITIVE_INFINITY });
				}
			},
		);

		await check(
			`n8n ${version} queue mode: Dub Dialogue in Callback mode waits between steps; n8n's webhook makes step 2; one video`,
			async () => {
				emu.resetStats();
				emu.configure({ taskTimeMs: 6000 });
				const reply = await fetch(`${n8n.baseUrl}/webhook/kling-queue-dialogue`, {
					method: 'POST',
					headers: { 'content-type': 'application/json' },
					body: JSON.stringify({
						video_url:
							'https://cdn.example.com/queue-interview.mp4?durationMs=9000&faces=0-4500,4500-9000',
					}),
				});
				assert.equal(reply.status, 200, `starting the dialogue workflow answered ${reply.status}`);
				const waiting = await until('the dialogue execution to wait', async () => {
					const execution = await statusOf('klingQueueDialog');
					return execution?.status === 'waiting' ? execution : undefined;
				});
				assert.equal(
					emu.stats.billed.create,
					1,
					'only the first step exists when it starts waiting',
				);
				// Step 1 ends; the callback makes step 2 while the execution stays waiting.
				await until(
					'step 2 to be created',
					async () => (emu.stats.billed.create === 2 ? true : undefined),
					60_000,
				);
				assert.equal(
					(await statusOf('klingQueueDialog'))?.status,
					'waiting',
					'still waiting between steps',
				);
				const finished = await until(
					'the dialogue execution to finish',
					async () => {
						const execution = await statusOf('klingQueueDialog');
						return execution && ['success', 'error', 'crashed'].includes(execution.status)
							? execution
							: undefined;
					},
					90_000,
				);
				assert.equal(finished.status, 'success');
				assert.equal(finished.id, waiting.id);
				const [item, ...rest] = await outputOf(finished.id, 'Dub Dialogue');
				assert.equal(rest.length, 0);
				assert.equal(item.json.task_status, 'succeed');
				assert.equal(item.binary?.data.mimeType, 'video/mp4');
				const steps = item.json.speakers as Array<Record<string, unknown>>;
				assert.deepEqual(
					steps.map((step) => step.speaker),
					[1, 2],
				);
				const second = emu.task(String(steps[1].task_id))?.task_info as {
					parent_video?: { id?: string };
				};
				assert.equal(
					second.parent_video?.id,
					steps[0].video_id,
					'step 2 lip-synced the video step 1 made',
				);
				assert.equal(emu.stats.billed.identify, 2);
				assert.ok(
					(emu.stats.requests.get ?? 0) <= 3,
					`no polling: about one API read per step callback (${emu.stats.requests.get ?? 0})`,
				);
				console.log(
					`    queue: Dub Dialogue execution ${finished.id} waited between its 2 steps; ${emu.stats.requests.list ?? 0} list read(s)`,
				);
			},
		);

		await check(
			`n8n ${version} queue mode: fire-and-forget examples (submit 3; the trigger stores each video)`,
			async () => {
				emu.resetStats();
				emu.configure({ taskTimeMs: 2000 });
				const before = (await executions('klingCallbkResult')).length;
				const { result } = await n8n.execute('klingCallbkSubmit');
				const submitted =
					result.data.resultData.runData['Submit Lip Syncs']?.[0]?.data?.main[0] ?? [];
				const statuses = submitted.map((item) => item.json.task_status);
				assert.deepEqual(
					statuses,
					['submitted', 'submitted', 'submitted'],
					`submit output: ${JSON.stringify(result.data.resultData).slice(0, 1500)}`,
				);
				const runs = await until('three trigger executions', async () => {
					const list = await executions('klingCallbkResult');
					const done = list
						.slice(0, list.length - before)
						.filter((execution) => execution.status === 'success');
					return done.length >= 3 ? done : undefined;
				});
				assert.equal(runs.length, 3);
				const files = await until('three stored videos', async () => {
					const names = existsSync(store)
						? readdirSync(store).filter((name) => name.endsWith('.mp4'))
						: [];
					return names.length >= 3 ? names : undefined;
				});
				assert.deepEqual(
					files.sort(),
					[0, 1, 2].map((index) => `${String(submitted[index].json.external_task_id)}.mp4`).sort(),
				);
				assert.ok(files.every((name) => statSync(path.join(store, name)).size > 100_000));
			},
		);

		const trustContext = {
			emu,
			baseUrl: n8n.baseUrl,
			resultsUrl,
			executionIds: async (workflowId: string) =>
				(await executions(workflowId)).map((execution) => execution.id),
			outputOf,
			storedVideo: (name: string) =>
				existsSync(path.join(store, name)) ? statSync(path.join(store, name)).size : undefined,
			until,
		};
		await checkTriggerTrust(trustContext, `n8n ${version} trigger`, check);
		await checkTriggerUnderLoad(
			{
				...trustContext,
				serverRssMb: () => n8n.serverRssMb(),
				realRun: async () => {
					const before = (await executions('klingQueuePollWf')).length;
					const startedAt = Date.now();
					await start('poll');
					const finished = await until(
						'the real Lip Sync run',
						async () => {
							const list = await executions('klingQueuePollWf');
							const newest = list[0];
							return list.length > before &&
								newest &&
								['success', 'error', 'crashed'].includes(newest.status)
								? newest
								: undefined;
						},
						120_000,
					);
					assert.equal(finished.status, 'success');
					return Date.now() - startedAt;
				},
			},
			`n8n ${version} trigger`,
			check,
		);

		await checkNothingPaidTwice(
			{
				emu,
				baseUrl: n8n.baseUrl,
				executions,
				runOf,
				post: async (pathName, body) => await rest(pathName, body),
				until,
			},
			`n8n ${version} queue mode`,
			check,
		);
	} finally {
		await n8n.stop();
		await redis.stop();
	}
}
