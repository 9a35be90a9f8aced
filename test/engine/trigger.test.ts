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
	async function endpoint(deliver: (request: { headers: Record<string, string>; rawBody: Buffer }) => Promise<WebhookCall>) {
		const calls: WebhookCall[] = [];
		const server = http.createServer((req, res) => {
			const chunks: Buffer[] = [];
			req.on('data', (chunk: Buffer) => chunks.push(chunk));
			req.on('end', () => {
				void deliver({ headers: req.headers as Record<string, string>, rawBody: Buffer.concat(chunks) }).then((call) => {
					calls.push(call);
					res.writeHead(call.status, { 'content-type': 'application/json' });
					res.end(call.body);
				});
			});
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook/kling-trigger-test/kling-lipsync`;
		return { url, calls, stop: async () => await new Promise<void>((resolve) => server.close(() => resolve())) };
	}

	const runs = (calls: WebhookCall[]) => calls.filter((call) => call.result.workflowData).map((call) => call.result.workflowData![0][0]);

	async function submit(callbackUrl: string, count: number) {
		// A session each: the same work would share one task.
		const sessions = await Promise.all(Array.from({ length: count }, () => identify(emu)));
		const created = await runKlingNode({
			credentials: emulatorCredentials(emu.baseUrl),
			items: sessions.map((session) => ({ ...session, face_id: '0' })),
			parameters: lipSyncParameters(emu, { waitForCompletion: false, options: callbackUrl ? { callbackUrl } : {} }),
		});
		return created.output.map((item) => String(item.json.task_id));
	}

	/** Waits until the trigger has started `expected` runs. */
	async function settle(calls: WebhookCall[], expected: number) {
		for (const deadline = Date.now() + 8000; runs(calls).length < expected && Date.now() < deadline; ) {
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
	}

	const reads = () => emu.stats.requests.get ?? 0;

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
			if (reply.body.data.task_status === 'succeed') return { taskId, videoUrl: reply.body.data.task_result.videos[0].url };
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
		throw new Error(`task ${taskId} did not finish`);
	}

	const forged = (taskId: string, videoUrl: string) =>
		Buffer.from(JSON.stringify({ task_id: taskId, task_status: 'succeed', task_result: { videos: [{ id: '1', url: videoUrl, duration: '5' }] } }));

	const readingTrigger = (parameters: Record<string, unknown> = {}) =>
		triggerWorkflow({ downloadVideo: true, ...parameters }, { klingApi: emulatorCredentials(emu.baseUrl) });

	it('starts one run per finished task from signed Kling callbacks, with the video as binary, and reads nothing', async () => {
		const trigger = triggerWorkflow({ verification: 'signature', downloadVideo: true }, { klingWebhookApi: { secret: SECRET } });
		const hook = await endpoint(trigger.deliver);
		try {
			const taskIds = await submit(hook.url, 2);
			const readsBefore = reads();
			await settle(hook.calls, 2);
			const items = runs(hook.calls);
			expect(items.map((item) => item.json.task_id).sort()).toEqual([...taskIds].sort());
			expect(items.every((item) => item.json.task_status === 'succeed' && item.json.provider === 'Kling')).toBe(true);
			expect(items[0].binary?.data.mimeType).toBe('video/mp4');
			// The emulator calls on each status change: processing is acknowledged and starts nothing.
			expect(hook.calls.filter((call) => /"ignored":"status processing"/.test(call.body))).toHaveLength(2);
			expect(hook.calls.every((call) => call.status === 200)).toBe(true);
			// A verified signature is trusted as it is: no status read.
			expect(reads()).toBe(readsBefore);
		} finally {
			await hook.stop();
		}
	});

	it('by default reads each callback\'s task from the API: one read per delivered callback, repeats dropped unread', async () => {
		const trigger = readingTrigger({ events: 'everyChange', downloadVideo: false });
		const hook = await endpoint(trigger.deliver);
		try {
			const [taskId] = await submit(hook.url, 1);
			const readsBefore = reads();
			await settle(hook.calls, 2);
			expect(runs(hook.calls).map((item) => item.json.task_status)).toEqual(['processing', 'succeed']);
			expect(reads() - readsBefore).toBe(2);
			const last = emu.callbacks.filter((delivery) => delivery.taskId === taskId).pop()!;
			const repeat = await trigger.deliver({ headers: last.headers, rawBody: Buffer.from(last.body) });
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
			const call = await readingTrigger().deliver({ rawBody: forged('899999999999999999', internal.url) });
			expect(call.status).toBe(200);
			expect(JSON.parse(call.body)).toEqual({ received: true, ignored: 'unknown task: Kling has no task 899999999999999999 for this credential' });
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
			expect(item.json).toEqual(expect.objectContaining({ task_id: taskId, task_status: 'succeed', video_url: videoUrl, provider: 'Kling' }));
			expect(item.binary?.data.mimeType).toBe('video/mp4');
			expect(internal.hits()).toBe(0);
		} finally {
			await internal.stop();
		}
	});

	it('a callback claiming "succeed" for a task the API says still works starts nothing', async () => {
		const [taskId] = await submit('', 1);
		const call = await readingTrigger().deliver({ rawBody: forged(taskId, `${emu.baseUrl}/media/forged.mp4`) });
		expect(call.result.workflowData).toBeUndefined();
		expect(JSON.parse(call.body).ignored).toMatch(/^status (submitted|processing) \(read from the API\)$/);
	});

	it('answers 503 when the task cannot be read (the sender tries again later), and starts nothing', async () => {
		const wrongKey = { ...emulatorCredentials(emu.baseUrl, 'apiKey'), apiKey: 'not-the-key' };
		const trigger = triggerWorkflow({}, { klingApi: wrongKey });
		const call = await trigger.deliver({ rawBody: forged('812345678901234567', `${emu.baseUrl}/media/x.mp4`) });
		expect(call.status).toBe(503);
		expect(JSON.parse(call.body).reason).toMatch(/^Could not read the task from the API to verify the callback: Kling error 10\d\d/);
		expect(call.result.workflowData).toBeUndefined();
	});

	describe('signatures', () => {
		const body = JSON.stringify({ task_id: '812345678901234567', task_status: 'succeed', task_result: { videos: [] } });
		const now = () => Math.floor(Date.now() / 1000);
		const signed = (timestamp: number, secret = SECRET) => ({
			'webhook-id': 'msg_1',
			'webhook-timestamp': String(timestamp),
			'webhook-signature': signWebhook(secret, 'msg_1', timestamp, body),
		});

		it.each([
			['a valid signature', 200, signed(now())],
			['a signature made with another secret', 401, signed(now(), 'whsec_b3RoZXJzZWNyZXRvdGhlcnNlY3JldG90aGVy')],
			['no signature headers', 401, {}],
			['a timestamp 6 minutes old', 401, signed(now() - 360)],
			['a timestamp 6 minutes ahead', 401, signed(now() + 360)],
		])('%s -> HTTP %s', async (_name, status, headers) => {
			const trigger = triggerWorkflow({ verification: 'signature' }, { klingWebhookApi: { secret: SECRET } });
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
				face_choose: [{ face_id: '0', sound_file: `${emu.baseUrl}/media/fixtures/tone-3s.wav`, sound_start_time: 0, sound_end_time: 3000, sound_insert_time: 0 }],
			},
		});
		const taskId = String((created.body as unknown as { data: { taskId: string } }).data.taskId);
		const trigger = triggerWorkflow({}, { klingApi: emulatorCredentials(emu.baseUrl, 'apimodels') });
		const callback = (resultUrl: string) => ({
			code: 200,
			msg: 'success',
			data: { taskId, model: 'kling-advanced-lip-sync', state: 'completed', resultJson: JSON.stringify({ resultUrls: [resultUrl] }), failMsg: null },
		});
		const early = await trigger.deliver({ rawBody: Buffer.from(JSON.stringify(callback('https://forged.example.com/out.mp4'))) });
		expect(early.result.workflowData).toBeUndefined();
		let item;
		for (const deadline = Date.now() + 8000; !item && Date.now() < deadline; ) {
			await new Promise((resolve) => setTimeout(resolve, 100));
			const call = await trigger.deliver({ rawBody: Buffer.from(JSON.stringify(callback('https://forged.example.com/out.mp4'))) });
			item = call.result.workflowData?.[0][0];
		}
		expect(item?.json).toEqual(expect.objectContaining({ task_id: taskId, task_status: 'succeed', provider: 'apimodels.app' }));
		expect(String(item?.json.video_url)).toMatch(new RegExp(`^${emu.baseUrl}/`));
		// The repeat is dropped.
		const repeat = await trigger.deliver({ rawBody: Buffer.from(JSON.stringify(callback('https://forged.example.com/out.mp4'))) });
		expect(JSON.parse(repeat.body)).toEqual({ received: true, ignored: 'repeat' });
	});

	it('answers 400 to a body that is no task callback', async () => {
		const call = await triggerWorkflow({}).deliver({ rawBody: Buffer.from(JSON.stringify({ hello: 'world' })) });
		expect(call.status).toBe(400);
		expect(call.result.workflowData).toBeUndefined();
	});

	it('tests the webhook secret credential by its form', async () => {
		const test = new KlingLipSyncTrigger().methods.credentialTest.klingWebhookSecretTest;
		const run = async (secret: string) =>
			await test.call({} as never, { id: '1', name: 'secret', type: 'klingWebhookApi', data: { secret } });
		expect(await run(SECRET)).toEqual({ status: 'OK', message: 'The secret has the whsec_ form' });
		expect((await run('abc')).status).toBe('Error');
		expect((await run('whsec_c2hvcnQ=')).message).toMatch(/at least 16 bytes/);
	});
});
