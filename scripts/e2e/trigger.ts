/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
/**
 * The Kling Lip Sync Trigger against forged callbacks, in real n8n: an unsigned callback is only a
 * hint (the task is read from the API), and nothing is fetched from a URL the API did not give.
 * A trigger set to verify signatures takes a signed callback as it is, with no API read.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { callApi } from '../../test/emulator/client';
import type { Emulator } from '../../test/emulator/server';
import { signWebhook } from '../../test/emulator/webhook';
import { identify } from '../../test/engine/helpers';

export const WEBHOOK_SECRET = 'whsec_ZTJlc2VjcmV0ZTJlc2VjcmV0ZTJlc2VjcmV0MTI=';
export const WEBHOOK_CREDENTIAL = { id: 'kling-webhook-credential', name: 'Kling webhook', type: 'klingWebhookApi', data: { secret: WEBHOOK_SECRET } };
export const SIGNED_TRIGGER_ID = 'klingSignedTrigg';
const SIGNED_PATH = 'kling-lipsync-signed';

/** A workflow of one trigger that verifies signatures (its path differs from the results example's). */
export function signedTriggerWorkflow(): Record<string, unknown> {
	return {
		id: SIGNED_TRIGGER_ID,
		name: 'Kling signed callbacks',
		nodes: [
			{
				id: `${SIGNED_TRIGGER_ID}-trigger`,
				name: 'Signed Callbacks',
				type: 'n8n-nodes-kling-lipsync.klingLipSyncTrigger',
				typeVersion: 1,
				position: [0, 0],
				webhookId: SIGNED_PATH,
				parameters: { verification: 'signature', events: 'finished' },
				credentials: { klingWebhookApi: { id: WEBHOOK_CREDENTIAL.id, name: WEBHOOK_CREDENTIAL.name } },
			},
		],
		connections: {},
		settings: { executionOrder: 'v1' },
		pinData: {},
	};
}

interface TrustContext {
	emu: Emulator;
	baseUrl: string;
	/** The results example's trigger URL (API read, Download Video on, stores each video). */
	resultsUrl: string;
	/** Executions of a workflow, newest first, and one execution's output items of a node. */
	executionIds(workflowId: string): Promise<string[]>;
	outputOf(executionId: string, node: string): Promise<Array<{ json: Record<string, unknown> }>>;
	storedVideo(name: string): number | undefined;
	until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs?: number): Promise<T>;
}

/** A local service a forged callback points at, as an attacker would point at an internal one. */
async function internalService(): Promise<{ url: string; hits: () => number; stop: () => Promise<void> }> {
	let hits = 0;
	const server = http.createServer((_request, response) => {
		hits++;
		response.writeHead(200, { 'content-type': 'application/json' });
		response.end('{"internal":"secret"}');
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	return {
		url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/latest/meta-data`,
		hits: () => hits,
		stop: async () => await new Promise<void>((resolve) => server.close(() => resolve())),
	};
}

/** A lip-sync task made at the emulator without a callback, read until it has finished. */
async function finishedTask(emu: Emulator): Promise<Record<string, unknown> & { task_id: string }> {
	const session = await identify(emu, 'https://cdn.example.com/trust.mp4?durationMs=6000&faces=0-6000');
	const created = await callApi(emu.baseUrl, 'POST', '/v1/videos/advanced-lip-sync', {
		body: {
			session_id: session.session_id,
			face_choose: [{ face_id: '0', sound_file: `${emu.baseUrl}/media/fixtures/tone-3s.wav`, sound_start_time: 0, sound_end_time: 3000, sound_insert_time: 0 }],
		},
	});
	const taskId = String(created.body.data.task_id);
	for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
		const reply = await callApi(emu.baseUrl, 'GET', `/v1/videos/advanced-lip-sync/${taskId}`);
		if (reply.body.data.task_status === 'succeed') return reply.body.data as Record<string, unknown> & { task_id: string };
		await new Promise((resolve) => setTimeout(resolve, 200));
	}
	throw new Error(`task ${taskId} did not finish`);
}

const post = async (url: string, body: string, headers: Record<string, string> = {}) => {
	const reply = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
	return { status: reply.status, body: (await reply.json()) as Record<string, unknown> };
};

const forgedBody = (taskId: string, url: string) =>
	JSON.stringify({ task_id: taskId, task_status: 'succeed', task_result: { videos: [{ id: '1', url, duration: '5' }] } });

export async function checkTriggerTrust(
	ctx: TrustContext,
	label: string,
	check: (name: string, fn: () => Promise<void>) => Promise<void>,
): Promise<void> {
	const { emu } = ctx;
	const internal = await internalService();
	try {
		await check(`${label}: a forged unsigned callback for an unknown task starts no run and fetches nothing`, async () => {
			const before = await ctx.executionIds('klingCallbkResult');
			const reply = await post(ctx.resultsUrl, forgedBody('899999999999999999', internal.url));
			assert.equal(reply.status, 200);
			assert.match(String(reply.body.ignored), /^unknown task: Kling has no task 899999999999999999/);
			await new Promise((resolve) => setTimeout(resolve, 3000));
			assert.deepEqual(await ctx.executionIds('klingCallbkResult'), before, 'no run started');
			assert.equal(internal.hits(), 0, 'the forged URL was fetched');
		});

		await check(`${label}: a forged callback naming a real task yields the API's video URL, never the forged one`, async () => {
			const task = await finishedTask(emu);
			const apiUrl = String((task.task_result as { videos: Array<{ url: string }> }).videos[0].url);
			const before = await ctx.executionIds('klingCallbkResult');
			const reply = await post(ctx.resultsUrl, forgedBody(task.task_id, internal.url));
			assert.deepEqual(reply.body, { received: true });
			const executionId = await ctx.until('the run the verified callback started', async () => {
				const ids = await ctx.executionIds('klingCallbkResult');
				return ids.length > before.length ? ids[0] : undefined;
			});
			const [item] = await ctx.until('its output', async () => {
				const items = await ctx.outputOf(executionId, 'Lip Sync Finished').catch(() => []);
				return items.length ? items : undefined;
			});
			assert.equal(item.json.task_id, task.task_id);
			assert.equal(item.json.video_url, apiUrl);
			const size = await ctx.until('the stored video', async () => ctx.storedVideo(`${task.task_id}.mp4`));
			assert.ok(size > 100_000, `the stored video has ${size} bytes: not the emulator's video`);
			assert.equal(internal.hits(), 0, 'the forged URL was fetched');
		});

		await check(`${label}: a trigger set to verify signatures takes a signed callback with no API read, and refuses an unsigned one`, async () => {
			const url = `${ctx.baseUrl}/webhook/${SIGNED_PATH}/kling-lipsync`;
			const task = await finishedTask(emu);
			const body = JSON.stringify(task);
			const unsigned = await post(url, body);
			assert.equal(unsigned.status, 401);
			const readsBefore = emu.stats.requests.get ?? 0;
			const before = await ctx.executionIds(SIGNED_TRIGGER_ID);
			const timestamp = Math.floor(Date.now() / 1000);
			const signed = await post(url, body, {
				'webhook-id': 'msg_e2e',
				'webhook-timestamp': String(timestamp),
				'webhook-signature': signWebhook(WEBHOOK_SECRET, 'msg_e2e', timestamp, body),
			});
			assert.deepEqual(signed.body, { received: true });
			const executionId = await ctx.until('the signed run', async () => {
				const ids = await ctx.executionIds(SIGNED_TRIGGER_ID);
				return ids.length > before.length ? ids[0] : undefined;
			});
			const [item] = await ctx.until('its output', async () => {
				const items = await ctx.outputOf(executionId, 'Signed Callbacks').catch(() => []);
				return items.length ? items : undefined;
			});
			assert.equal(item.json.task_id, task.task_id);
			assert.equal(emu.stats.requests.get ?? 0, readsBefore, 'a signed callback is not read from the API');
		});
	} finally {
		await internal.stop();
	}
}
