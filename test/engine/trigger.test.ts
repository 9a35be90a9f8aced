/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { KlingLipSyncTrigger } from '../../nodes/KlingLipSyncTrigger/KlingLipSyncTrigger.node';
import { callApi } from '../emulator/client';
import { startEmulator, type Emulator } from '../emulator/server';
import { signWebhook } from '../emulator/webhook';
import { emulatorCredentials, runKlingNode, triggerWorkflow } from './harness';
import { identify, lipSyncParameters } from './helpers';
import type { WebhookCall } from './resume';

const SECRET = 'whsec_dGVzdHNlY3JldHRlc3RzZWNyZXR0ZXN0c2VjcmV0MTI=';

/**
 * The Kling Lip Sync Trigger's webhook in n8n-core's WebhookContext, fed by the emulator's real
 * callbacks (Lip Sync's Callback URL points at it) and by hand-made deliveries for the edge cases.
 */
describe('Kling Lip Sync Trigger', () => {
	let emu: Emulator;
	beforeAll(async () => {
		emu = await startEmulator({ taskTimeMs: 600, submittedMs: 150, webhookSecret: SECRET });
	});
	afterAll(async () => emu.stop());

	/** An HTTP endpoint in front of the trigger, as n8n's /webhook/... route would be. */
	async function endpoint(
		deliver: (request: {
			headers: Record<string, string>;
			rawBody: Buffer;
		}) => Promise<WebhookCall>,
	) {
		const calls: WebhookCall[] = [];
		const server = http.createServer((req, res) => {
			const chunks: Buffer[] = [];
			req.on('data', (chunk: Buffer) => chunks.push(chunk));
			req.on('end', () => {
				void deliver({
					headers: req.headers as Record<string, string>,
					rawBody: Buffer.concat(chunks),
				}).then((call) => {
					calls.push(call);
					res.writeHead(call.status, { 'content-type': 'application/json' });
					res.end(call.body);
				});
			});
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook/kling-trigger-test/kling-lipsync`;
		return {
			url,
			calls,
			stop: async () => await new Promise<void>((resolve) => server.close(() => resolve())),
		};
	}

	const runs = (calls: WebhookCall[]) =>
		calls.filter((call) => call.result.workflowData).map((call) => call.result.workflowData![0][0]);

	async function submit(callbackUrl: string, count: number) {
		// A session each: the same work would share one task.
		const sessions = await Promise.all(Array.from({ length: count }, () => identify(emu)));
		const created = await runKlingNode({
			credentials: emulatorCredentials(emu.baseUrl),
			items: sessions.map((session) => ({ ...session, face_id: '0' })),
			parameters: lipSyncParameters(emu, {
				waitForCompletion: false,
				options: callbackUrl ? { callbackUrl } : {},
			}),
		});
		return created.output.map((item) => String(item.json.task_id));
	}

	/** Waits until the trigger has started `expected` runs. */
	async function settle(calls: WebhookCall[], expected: number) {
		for (
			const deadline = Date.now() + 8000;
			runs(calls).length < expected && Date.now() < deadline;

		) {
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
	}

	const reads = () => (emu.stats.requests.get ?? 0) + (emu.stats.requests.list ?? 0);

	/** A stand-in for an internal service a forged callback points at: counts every request. */
	async function internalService() {
		let hits = 0;
		const server = http.createServer((_req, res) => {
			hits++;
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end(JSON.stringify({ api_key: 'internal-secret' }));
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		return {
			url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/latest/meta-data`,
			hits: () => hits,
			stop: async () => await new Promise<void>((resolve) => server.close(() => resolve())),
		};
	}

	/** A task that has finished at the emulator (created without a callback, then read until final). */
	async function finishedTask(): Promise<{ taskId: string; videoUrl: string }> {
		const [taskId] = await submit('', 1);
		for (const deadline = Date.now() + 8000; Date.now() < deadline; ) {
			const reply = await callApi(emu.baseUrl, 'GET', `/v1/videos/advanced-lip-sync/${taskId}`);
			if (reply.body.data.task_status === 'succeed')
				return { taskId, videoUrl: reply.body.data.task_result.videos[0].url };
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
		throw new Error(`task ${taskId} did not finish`);
	}

	const forged = (taskId: string, videoUrl: string) =>
		Buffer.from(
			JSON.stringify({
				task_id: taskId,
				task_status: 'succeed',
				task_result: { videos: [{ id: '1', url: videoUrl, duration: '5' }] },
			}),
		);

	const readingTrigger = (parameters: Record<string, unknown> = {}) =>
		triggerWorkflow(
			{ downloadVideo: true, ...parameters },
			{ klingApi: emulatorCredentials(emu.baseUrl) },
		);

	it('starts one run per finished task from signed Kling callbacks and reads nothing; a video on an internal host is not fetched', async () => {
		const trigger = triggerWorkflow(
			{ verification: 'signature', downloadVideo: true },
			{ klingWebhookApi: { secret: SECRET } },
		);
		const hook = await endpoint(trigger.deliver);
		try {
			const taskIds = await submit(hook.url, 2);
			const readsBefore = reads();
			await settle(hook.calls, 2);
			const items = runs(hook.calls);
			expect(items.map((item) => item.json.task_id).sort()).toEqual([...taskIds].sort());
			expect(
				items.every(
					(item) => item.json.task_status === 'succeed' && item.json.provider === 'Kling',
				),
			).toBe(true);
			// A signed body's video URL is still a provider's answer: with no API credential whose base
			// URL is this machine, a video on 127.0.0.1 is refused, and the item says why.
			expect(items[0].binary).toBeUndefined();
			expect(items[0].json.download_error).toMatch(
				new RegExp(
					`^The video of task ${items[0].json.task_id} was not stored: refused to fetch from 127\\.0\\.0\\.1:\\d+: its host 127\\.0\\.0\\.1 is a loopback address`,
				),
			);
			// The emulator calls on each status change: processing is acknowledged and starts nothing.
			expect(
				hook.calls.filter((call) => /"ignored":"status processing"/.test(call.body)),
			).toHaveLength(2);
			expect(hook.calls.every((call) => call.status === 200)).toBe(true);
			// A verified signature is trusted as it is: no status read.
			expect(reads()).toBe(readsBefore);
		} finally {
			await hook.stop();
		}
	});

	it("by default reads each callback's task from the API: one read per delivered callback, repeats dropped unread", async () => {
		const trigger = readingTrigger({ events: 'everyChange', downloadVideo: false });
		const hook = await endpoint(trigger.deliver);
		try {
			const [taskId] = await submit(hook.url, 1);
			const readsBefore = reads();
			await settle(hook.calls, 2);
			expect(runs(hook.calls).map((item) => item.json.task_status)).toEqual([
				'processing',
				'succeed',
			]);
			expect(reads() - readsBefore).toBe(2);
			const last = emu.callbacks.filter((delivery) => delivery.taskId === taskId).pop()!;
			const repeat = await trigger.deliver({
				headers: last.headers,
				rawBody: Buffer.from(last.body),
			});
			expect(repeat.result.workflowData).toBeUndefined();
			expect(JSON.parse(repeat.body)).toEqual({ received: true, ignored: 'repeat' });
			expect(reads() - readsBefore).toBe(2);
		} finally {
			await hook.stop();
		}
	});

	it('a forged unsigned callback for a task the API does not know starts nothing and fetches nothing', async () => {
		const internal = await internalService();
		try {
			const readsBefore = reads();
			const call = await readingTrigger().deliver({
				rawBody: forged('899999999999999999', internal.url),
			});
			expect(call.status).toBe(200);
			expect(JSON.parse(call.body)).toEqual({
				received: true,
				ignored: 'unknown task: Kling has no task 899999999999999999 for this credential',
			});
			expect(call.result.workflowData).toBeUndefined();
			expect(internal.hits()).toBe(0);
			expect(reads() - readsBefore).toBe(1);
		} finally {
			await internal.stop();
		}
	});

	it("a forged callback naming a real task gets the API's task and video, never the forged URL", async () => {
		const internal = await internalService();
		try {
			const { taskId, videoUrl } = await finishedTask();
			const call = await readingTrigger().deliver({ rawBody: forged(taskId, internal.url) });
			const item = call.result.workflowData![0][0];
			expect(item.json).toEqual(
				expect.objectContaining({
					task_id: taskId,
					task_status: 'succeed',
					video_url: videoUrl,
					provider: 'Kling',
				}),
			);
			expect(item.binary?.data.mimeType).toBe('video/mp4');
			expect(internal.hits()).toBe(0);
		} finally {
			await internal.stop();
		}
	});

	it('a callback claiming "succeed" for a task the API says still works starts nothing', async () => {
		const [taskId] = await submit('', 1);
		const call = await readingTrigger().deliver({
			rawBody: forged(taskId, `${emu.baseUrl}/media/forged.mp4`),
		});
		expect(call.result.workflowData).toBeUndefined();
		expect(JSON.parse(call.body).ignored).toMatch(
			/^status (submitted|processing) \(read from the API\)$/,
		);
	});

	it('answers 503 when the task cannot be read (the sender tries again later), and starts nothing', async () => {
		const wrongKey = { ...emulatorCredentials(emu.baseUrl, 'apiKey'), apiKey: 'not-the-key' };
		const trigger = triggerWorkflow({}, { klingApi: wrongKey });
		const call = await trigger.deliver({
			rawBody: forged('812345678901234567', `${emu.baseUrl}/media/x.mp4`),
		});
		expect(call.status).toBe(503);
		expect(call.headers['retry-after']).toBe('5');
		// The API's words stay in n8n's log: the sender may be anyone.
		expect(JSON.parse(call.body).reason).toBe(
			'Could not read the task from the API to verify the callback; try again later',
		);
		expect(call.result.workflowData).toBeUndefined();
	});

	describe('under concurrency and floods', () => {
		/** A genuine final callback of a finished task, as Kling sent it. */
		async function finalCallback(hookUrl: string) {
			const [taskId] = await submit(hookUrl, 1);
			for (const deadline = Date.now() + 8000; Date.now() < deadline; ) {
				const delivery = emu.callbacks.find(
					(sent) => sent.taskId === taskId && sent.status === 'succeed',
				);
				if (delivery)
					return { taskId, headers: delivery.headers, rawBody: Buffer.from(delivery.body) };
				await new Promise((resolve) => setTimeout(resolve, 50));
			}
			throw new Error(`no final callback for ${taskId}`);
		}

		/** Collects callbacks without answering them (the test replays them itself). */
		async function sink() {
			const server = http.createServer((req, res) => {
				req.resume();
				req.on('end', () => res.writeHead(200).end('{}'));
			});
			await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
			return {
				url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/cb`,
				stop: async () => await new Promise<void>((resolve) => server.close(() => resolve())),
			};
		}

		it('20 identical deliveries at once start 1 run and cost 1 read (API read); repeats later start none', async () => {
			const collector = await sink();
			try {
				const genuine = await finalCallback(collector.url);
				const trigger = readingTrigger({ downloadVideo: false });
				const readsBefore = reads();
				const calls = await Promise.all(Array.from({ length: 20 }, () => trigger.deliver(genuine)));
				expect(calls.filter((call) => call.result.workflowData)).toHaveLength(1);
				expect(calls.every((call) => call.status === 200)).toBe(true);
				expect(calls.filter((call) => JSON.parse(call.body).ignored === 'repeat')).toHaveLength(19);
				expect(reads() - readsBefore).toBe(1);
				// The claim reached the stored static data (what a restarted n8n reads).
				expect(trigger.staticData().deliveries).toEqual([`${genuine.taskId}:succeed`]);
				const later = await Promise.all(Array.from({ length: 5 }, () => trigger.deliver(genuine)));
				expect(later.filter((call) => call.result.workflowData)).toHaveLength(0);
				expect(reads() - readsBefore).toBe(1);
			} finally {
				await collector.stop();
			}
		});

		it('signed deliveries: 20 copies at once start 1 run and read nothing', async () => {
			const collector = await sink();
			try {
				const genuine = await finalCallback(collector.url);
				const trigger = triggerWorkflow(
					{ verification: 'signature' },
					{ klingWebhookApi: { secret: SECRET } },
				);
				const readsBefore = reads();
				const calls = await Promise.all(Array.from({ length: 20 }, () => trigger.deliver(genuine)));
				expect(calls.filter((call) => call.result.workflowData)).toHaveLength(1);
				expect(reads()).toBe(readsBefore);
			} finally {
				await collector.stop();
			}
		});

		it("three tasks' callbacks at once, then each again interleaved: 3 runs, one per task", async () => {
			const collector = await sink();
			try {
				const genuine = await Promise.all([1, 2, 3].map(() => finalCallback(collector.url)));
				const trigger = readingTrigger({ downloadVideo: false });
				const first = await Promise.all(genuine.map((delivery) => trigger.deliver(delivery)));
				const again = await Promise.all(
					[...genuine, ...genuine, ...genuine].map((delivery) => trigger.deliver(delivery)),
				);
				const started = [...first, ...again]
					.filter((call) => call.result.workflowData)
					.map((call) => call.result.workflowData![0][0].json.task_id);
				expect(started.sort()).toEqual(genuine.map((delivery) => delivery.taskId).sort());
				expect(trigger.staticData().deliveries as string[]).toHaveLength(3);
			} finally {
				await collector.stop();
			}
		});

		it('a forged flood: reads capped by the budget, every delivery answered within 1 s, unknown ids remembered, a real callback still gets through', async () => {
			const collector = await sink();
			try {
				const genuine = await finalCallback(collector.url);
				const trigger = readingTrigger({ downloadVideo: false });
				const readsBefore = reads();
				const floodStarted = Date.now();
				// 300 deliveries, 200 distinct made-up ids, 100 per second for 3 s.
				const ids = Array.from({ length: 300 }, (_, n) => `7${String(n % 200).padStart(17, '0')}`);
				const answers: Array<{ status: number; ms: number; retryAfter?: string }> = [];
				const flood: Array<Promise<void>> = [];
				for (const [n, id] of ids.entries()) {
					if (n % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 100));
					const sentAt = Date.now();
					flood.push(
						trigger.deliver({ rawBody: forged(id, 'http://127.0.0.1:1/x.mp4') }).then((call) => {
							answers.push({
								status: call.status,
								ms: call.answeredAt - sentAt,
								retryAfter: call.headers['retry-after'],
							});
							expect(call.result.workflowData).toBeUndefined();
						}),
					);
				}
				await Promise.all(flood);
				const floodReads = reads() - readsBefore;
				// A burst of 4, then one per second while ids wait to be read (each waits 10 s at most).
				const floodSeconds = Math.ceil((Date.now() - floodStarted) / 1000);
				expect(floodSeconds).toBeLessThanOrEqual(15);
				expect(floodReads).toBeLessThanOrEqual(4 + floodSeconds);
				expect(Math.max(...answers.map((answer) => answer.ms))).toBeLessThan(1000);
				expect(reads() - readsBefore).toBe(floodReads);
				expect(
					answers
						.filter((answer) => answer.status !== 200)
						.every((answer) => answer.retryAfter === '5'),
				).toBe(true);
				expect(
					[...new Set(answers.map((answer) => answer.status))].every((status) =>
						[200, 429, 503].includes(status),
					),
				).toBe(true);
				// An id found unknown is answered from memory.
				const known = await trigger.deliver({
					rawBody: forged(ids[0], 'http://127.0.0.1:1/x.mp4'),
				});
				expect(JSON.parse(known.body).ignored).toMatch(/was not found moments ago/);
				expect(reads() - readsBefore).toBe(floodReads);
				// The genuine callback, retried as its sender does once the budget has refilled, starts its run.
				await new Promise((resolve) => setTimeout(resolve, 1100));
				const call = await trigger.deliver(genuine);
				expect(call.result.workflowData?.[0][0].json.task_id).toBe(genuine.taskId);
			} finally {
				await collector.stop();
			}
		});

		it('never retries a read inside the request: a rate-limited read answers 503, a slow one 503 within 1 s', async () => {
			const collector = await sink();
			try {
				const genuine = await finalCallback(collector.url);
				const trigger = readingTrigger({ downloadVideo: false });
				emu.injectFault({ route: 'get', kind: 'error', code: 1302, times: 1 });
				// Its own reads: the flood before may still be reading the ids it queued.
				const readsOf = () => emu.stats.taskReads[genuine.taskId] ?? 0;
				const readsBefore = readsOf();
				const limited = await trigger.deliver(genuine);
				expect(limited.status).toBe(503);
				expect(readsOf() - readsBefore).toBe(1);
				// A slow read: the request ends within 1 s with a 503 and no run (n8n holds resources per
				// open request), the read goes on; the sender's next try starts the run with no read of its own.
				emu.injectFault({ route: 'get', kind: 'delay', ms: 2000, times: 1 });
				const startedAt = Date.now();
				const slow = await trigger.deliver(genuine);
				expect(slow.status).toBe(503);
				expect(slow.headers['retry-after']).toBe('5');
				expect(slow.answeredAt - startedAt).toBeLessThan(1000);
				expect(Date.now() - startedAt).toBeLessThan(1000);
				expect(slow.result.workflowData).toBeUndefined();
				await new Promise((resolve) => setTimeout(resolve, 2000));
				const retried = await trigger.deliver(genuine);
				expect(retried.result.workflowData?.[0][0].json.task_id).toBe(genuine.taskId);
				const repeat = await trigger.deliver(genuine);
				expect(JSON.parse(repeat.body)).toEqual({ received: true, ignored: 'repeat' });
				expect(readsOf() - readsBefore).toBe(2);
			} finally {
				await collector.stop();
			}
		});
	});

	describe('signatures', () => {
		const body = JSON.stringify({
			task_id: '812345678901234567',
			task_status: 'succeed',
			task_result: { videos: [] },
		});
		const now = () => Math.floor(Date.now() / 1000);
		const signed = (timestamp: number, secret = SECRET) => ({
			'webhook-id': 'msg_1',
			'webhook-timestamp': String(timestamp),
			'webhook-signature': signWebhook(secret, 'msg_1', timestamp, body),
		});

		it.each([
			['a valid signature', 200, signed(now())],
			[
				'a signature made with another secret',
				401,
				signed(now(), 'whsec_b3RoZXJzZWNyZXRvdGhlcnNlY3JldG90aGVy'),
			],
			['no signature headers', 401, {}],
			['a timestamp 6 minutes old', 401, signed(now() - 360)],
			['a timestamp 6 minutes ahead', 401, signed(now() + 360)],
		])('%s -> HTTP %s', async (_name, status, headers) => {
			const trigger = triggerWorkflow(
				{ verification: 'signature' },
				{ klingWebhookApi: { secret: SECRET } },
			);
			const call = await trigger.deliver({ headers, rawBody: Buffer.from(body) });
			expect(call.status).toBe(status);
			expect(call.result.workflowData === undefined).toBe(status !== 200);
			if (status === 401) expect(JSON.parse(call.body).reason).toMatch(/^Signature check failed: /);
		});
	});

	it("reads apimodels.app's callback shape, verified through apimodels.app's API", async () => {
		const session = await identify(emu);
		const created = await callApi(emu.baseUrl, 'POST', '/api/v1/audio/generations', {
			body: {
				model: 'kling-advanced-lip-sync',
				session_id: session.session_id,
				face_choose: [
					{
						face_id: '0',
						sound_file: `${emu.baseUrl}/media/fixtures/tone-3s.wav`,
						sound_start_time: 0,
						sound_end_time: 3000,
						sound_insert_time: 0,
					},
				],
			},
		});
		const taskId = String((created.body as unknown as { data: { taskId: string } }).data.taskId);
		const trigger = triggerWorkflow(
			{},
			{ klingApi: emulatorCredentials(emu.baseUrl, 'apimodels') },
		);
		const callback = (resultUrl: string) => ({
			code: 200,
			msg: 'success',
			data: {
				taskId,
				model: 'kling-advanced-lip-sync',
				state: 'completed',
				resultJson: JSON.stringify({ resultUrls: [resultUrl] }),
				failMsg: null,
			},
		});
		const early = await trigger.deliver({
			rawBody: Buffer.from(JSON.stringify(callback('https://forged.example.com/out.mp4'))),
		});
		expect(early.result.workflowData).toBeUndefined();
		let item;
		// A task read not final is not read again for a few seconds (those deliveries get 503).
		for (const deadline = Date.now() + 15_000; !item && Date.now() < deadline; ) {
			await new Promise((resolve) => setTimeout(resolve, 250));
			const call = await trigger.deliver({
				rawBody: Buffer.from(JSON.stringify(callback('https://forged.example.com/out.mp4'))),
			});
			item = call.result.workflowData?.[0][0];
		}
		expect(item?.json).toEqual(
			expect.objectContaining({
				task_id: taskId,
				task_status: 'succeed',
				provider: 'apimodels.app',
			}),
		);
		expect(String(item?.json.video_url)).toMatch(new RegExp(`^${emu.baseUrl}/`));
		// The repeat is dropped.
		const repeat = await trigger.deliver({
			rawBody: Buffer.from(JSON.stringify(callback('https://forged.example.com/out.mp4'))),
		});
		expect(JSON.parse(repeat.body)).toEqual({ received: true, ignored: 'repeat' });
	});

	it('answers 400 to a body that is no task callback', async () => {
		const call = await triggerWorkflow({}).deliver({
			rawBody: Buffer.from(JSON.stringify({ hello: 'world' })),
		});
		expect(call.status).toBe(400);
		expect(call.result.workflowData).toBeUndefined();
	});

	it('tests the webhook secret credential by its form', async () => {
		const test = new KlingLipSyncTrigger().methods.credentialTest.klingWebhookSecretTest;
		const run = async (secret: string) =>
			await test.call({} as never, {
				id: '1',
				name: 'secret',
				type: 'klingWebhookApi',
				data: { secret },
			});
		expect(await run(SECRET)).toEqual({ status: 'OK', message: 'The secret has the whsec_ form' });
		expect((await run('abc')).status).toBe('Error');
		expect((await run('whsec_c2hvcnQ=')).message).toMatch(/at least 16 bytes/);
	});
});
