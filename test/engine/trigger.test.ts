import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { KlingLipSyncTrigger } from '../../nodes/KlingLipSyncTrigger/KlingLipSyncTrigger.node';
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
		const session = await identify(emu);
		const created = await runKlingNode({
			credentials: emulatorCredentials(emu.baseUrl),
			items: Array.from({ length: count }, () => ({ ...session, face_id: '0' })),
			parameters: lipSyncParameters(emu, { waitForCompletion: false, options: { callbackUrl } }),
		});
		return created.output.map((item) => String(item.json.task_id));
	}

	/** Waits until the trigger has started `expected` runs. */
	async function settle(calls: WebhookCall[], expected: number) {
		for (const deadline = Date.now() + 8000; runs(calls).length < expected && Date.now() < deadline; ) {
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
	}

	it('starts one run per finished task from signed Kling callbacks, with the video as binary', async () => {
		const trigger = triggerWorkflow({ verifySignature: true, downloadVideo: true }, { klingWebhookApi: { secret: SECRET } });
		const hook = await endpoint(trigger.deliver);
		try {
			const taskIds = await submit(hook.url, 2);
			await settle(hook.calls, 2);
			const items = runs(hook.calls);
			expect(items.map((item) => item.json.task_id).sort()).toEqual([...taskIds].sort());
			expect(items.every((item) => item.json.task_status === 'succeed' && item.json.provider === 'Kling')).toBe(true);
			expect(items[0].binary?.data.mimeType).toBe('video/mp4');
			// The emulator calls on each status change: processing is acknowledged and starts nothing.
			expect(hook.calls.filter((call) => /"ignored":"status processing"/.test(call.body))).toHaveLength(2);
			expect(hook.calls.every((call) => call.status === 200)).toBe(true);
		} finally {
			await hook.stop();
		}
	});

	it('with Every Status Change, starts a run per status, and drops repeats of one task and status', async () => {
		const trigger = triggerWorkflow({ events: 'everyChange' });
		const hook = await endpoint(trigger.deliver);
		try {
			const [taskId] = await submit(hook.url, 1);
			await settle(hook.calls, 2);
			expect(runs(hook.calls).map((item) => item.json.task_status)).toEqual(['processing', 'succeed']);
			const last = emu.callbacks.filter((delivery) => delivery.taskId === taskId).pop()!;
			const repeat = await trigger.deliver({ headers: last.headers, rawBody: Buffer.from(last.body) });
			expect(repeat.result.workflowData).toBeUndefined();
			expect(JSON.parse(repeat.body)).toEqual({ received: true, ignored: 'repeat' });
		} finally {
			await hook.stop();
		}
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
			const trigger = triggerWorkflow({ verifySignature: true }, { klingWebhookApi: { secret: SECRET } });
			const call = await trigger.deliver({ headers, rawBody: Buffer.from(body) });
			expect(call.status).toBe(status);
			expect(call.result.workflowData === undefined).toBe(status !== 200);
			if (status === 401) expect(JSON.parse(call.body).reason).toMatch(/^Signature check failed: /);
		});
	});

	it("reads apimodels.app's callback shape", async () => {
		const trigger = triggerWorkflow({});
		const data = {
			taskId: 'cl123abc',
			model: 'kling-advanced-lip-sync',
			state: 'completed',
			param: '{}',
			resultJson: JSON.stringify({ resultUrls: ['https://cdn.example.com/out.mp4'], videoDuration: 5.2 }),
			failCode: null,
			failMsg: null,
			costTime: 61000,
			completeTime: 1781080794151,
			createTime: 1781080733151,
		};
		const call = await trigger.deliver({ rawBody: Buffer.from(JSON.stringify({ code: 200, msg: 'success', data })) });
		const item = call.result.workflowData![0][0];
		expect(item.json).toEqual(
			expect.objectContaining({ task_id: 'cl123abc', task_status: 'succeed', provider: 'apimodels.app', video_url: 'https://cdn.example.com/out.mp4' }),
		);
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
