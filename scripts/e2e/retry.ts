/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
/**
 * Nothing paid twice, in real n8n: a Lip Sync run that reached Max Wait, retried with n8n's own
 * Retry (POST /rest/executions/:id/retry) after its task finished, returns that task and creates
 * none; a task planted at Kling under the external_task_id this work derives, but made for
 * another video, is never adopted.
 */
import assert from 'node:assert/strict';

import type { Emulator } from '../../test/emulator/server';
import { derivedTaskId, identify, plantTask } from '../../test/engine/helpers';
import { CREDENTIAL_ID } from './examples';

export const RETRY_WORKFLOW_ID = 'klingRetryWorkfl';
const RETRY_PATH = 'kling-retry';
const VIDEO = 'https://cdn.example.com/retry-talk.mp4?durationMs=8000&faces=0-8000';

/**
 * Webhook (an Identify Face output as its body) -> Lip Sync, polling with a Max Wait of 6 s.
 * Crop and insert are explicit, so the test can derive the external_task_id as the node does.
 */
export function retryWorkflow(emu: Emulator): Record<string, unknown> {
	return {
		id: RETRY_WORKFLOW_ID,
		name: 'Lip Sync retried',
		nodes: [
			{
				id: `${RETRY_WORKFLOW_ID}-start`,
				name: 'Start',
				type: 'n8n-nodes-base.webhook',
				typeVersion: 2,
				position: [0, 0],
				webhookId: RETRY_PATH,
				parameters: {
					httpMethod: 'POST',
					path: RETRY_PATH,
					responseMode: 'onReceived',
					options: {},
				},
			},
			{
				id: `${RETRY_WORKFLOW_ID}-body`,
				name: 'Identified',
				type: 'n8n-nodes-base.set',
				typeVersion: 3.4,
				position: [220, 0],
				parameters: { mode: 'raw', jsonOutput: '={{ JSON.stringify($json.body) }}', options: {} },
			},
			{
				id: `${RETRY_WORKFLOW_ID}-lipsync`,
				name: 'Lip Sync',
				type: 'n8n-nodes-kling-lipsync.klingLipSync',
				typeVersion: 1.1,
				position: [440, 0],
				credentials: { klingApi: { id: CREDENTIAL_ID, name: 'Kling API' } },
				parameters: {
					resource: 'lipSync',
					operation: 'lipSync',
					audioUrl: `${emu.baseUrl}/media/fixtures/tone-3s.wav`,
					cropEndMs: 3000,
					downloadVideo: false,
					waitOptions: { pollIntervalSeconds: 1, maxWaitMinutes: 0.1 },
				},
			},
		],
		connections: {
			Start: { main: [[{ node: 'Identified', type: 'main', index: 0 }]] },
			Identified: { main: [[{ node: 'Lip Sync', type: 'main', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
		pinData: {},
	};
}

export const DIALOGUE_RETRY_WORKFLOW_ID = 'klingRetryDialog';
const DIALOGUE_RETRY_PATH = 'kling-retry-dialogue';

/** Webhook (a video URL) -> Dub Dialogue (two speakers, full-length tracks, Poll). */
export function dialogueRetryWorkflow(emu: Emulator): Record<string, unknown> {
	const track = `${emu.baseUrl}/media/silence/9000.wav`;
	return {
		id: DIALOGUE_RETRY_WORKFLOW_ID,
		name: 'Dub Dialogue retried',
		nodes: [
			{
				id: `${DIALOGUE_RETRY_WORKFLOW_ID}-start`,
				name: 'Start',
				type: 'n8n-nodes-base.webhook',
				typeVersion: 2,
				position: [0, 0],
				webhookId: DIALOGUE_RETRY_PATH,
				parameters: {
					httpMethod: 'POST',
					path: DIALOGUE_RETRY_PATH,
					responseMode: 'onReceived',
					options: {},
				},
			},
			{
				id: `${DIALOGUE_RETRY_WORKFLOW_ID}-dub`,
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
					downloadVideo: false,
					waitOptions: { pollIntervalSeconds: 0.5, maxWaitMinutes: 2 },
				},
			},
		],
		connections: { Start: { main: [[{ node: 'Dub Dialogue', type: 'main', index: 0 }]] } },
		settings: { executionOrder: 'v1' },
		pinData: {},
	};
}

interface RetryContext {
	emu: Emulator;
	baseUrl: string;
	/** Executions of a workflow, newest first. */
	executions(workflowId: string): Promise<Array<{ id: string; status: string }>>;
	/** An execution's last run of a node: its output items, or its error. */
	runOf(
		executionId: string,
		node: string,
	): Promise<{ items: Array<{ json: Record<string, unknown> }>; error?: { message: string } }>;
	post(pathName: string, body: unknown): Promise<unknown>;
	until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs?: number): Promise<T>;
}

export async function checkNothingPaidTwice(
	ctx: RetryContext,
	label: string,
	check: (name: string, fn: () => Promise<void>) => Promise<void>,
): Promise<void> {
	const { emu } = ctx;
	/** Starts the workflow with an Identify Face output and waits for the execution's end. */
	const runWorkflow = async (session: Record<string, unknown>) => {
		const before = (await ctx.executions(RETRY_WORKFLOW_ID)).map((execution) => execution.id);
		const reply = await fetch(`${ctx.baseUrl}/webhook/${RETRY_PATH}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify(session),
		});
		assert.equal(reply.status, 200, `starting the workflow answered ${reply.status}`);
		return await ctx.until(
			'the execution to end',
			async () => {
				const [latest] = (await ctx.executions(RETRY_WORKFLOW_ID)).filter(
					(execution) => !before.includes(execution.id),
				);
				return latest && ['success', 'error', 'crashed'].includes(latest.status)
					? latest
					: undefined;
			},
			90_000,
		);
	};
	const identified = async (videoUrl: string) => ({
		...(await identify(emu, videoUrl)),
		face_id: '0',
		video_url: videoUrl,
		video_id: null,
	});

	await check(
		`${label}: a run that reached Max Wait, retried with n8n's Retry, returns its task: 1 billed create in all`,
		async () => {
			emu.configure({ taskTimeMs: 15_000 });
			const session = await identified(VIDEO);
			emu.resetStats();
			const failed = await runWorkflow(session);
			assert.equal(failed.status, 'error');
			const timedOut = await ctx.runOf(failed.id, 'Lip Sync');
			assert.match(
				timedOut.error?.message ?? '',
				/still (submitted|processing) after .* \(task_id (\d{18})\)/,
			);
			const taskId = /task_id (\d{18})/.exec(timedOut.error?.message ?? '')?.[1];
			await ctx.until(
				'the task to finish at Kling',
				async () => (emu.task(String(taskId))?.task_status === 'succeed' ? true : undefined),
				60_000,
			);

			await ctx.post(`/executions/${failed.id}/retry`, { loadWorkflow: false });
			const retried = await ctx.until('the retry to end', async () => {
				const [latest] = await ctx.executions(RETRY_WORKFLOW_ID);
				return latest &&
					latest.id !== failed.id &&
					['success', 'error', 'crashed'].includes(latest.status)
					? latest
					: undefined;
			});
			assert.equal(retried.status, 'success');
			const [item] = (await ctx.runOf(retried.id, 'Lip Sync')).items;
			assert.equal(item.json.task_id, taskId);
			assert.equal(item.json.task_status, 'succeed');
			assert.equal(item.json.reused_existing_task, true);
			assert.equal(emu.stats.billed.create, 1, 'billed creates in all');
			console.log(
				`    retry: execution ${retried.id} (Retry of ${failed.id}) returned task ${taskId}; billed creates 1`,
			);
		},
	);

	await check(
		`${label}: a task planted under this work's external_task_id, for another video, is never adopted`,
		async () => {
			emu.configure({ taskTimeMs: 2000 });
			const session = await identified(VIDEO);
			const other = await identified(`${VIDEO}&planted=1`);
			await plantTask(emu, other.session_id, derivedTaskId(session.session_id));
			emu.resetStats();
			const failed = await runWorkflow(session);
			assert.equal(failed.status, 'error');
			const { error, items } = await ctx.runOf(failed.id, 'Lip Sync');
			assert.equal(items.length, 0);
			assert.match(
				error?.message ?? '',
				/exists at Kling for other work \(it lip-syncs the video at .*planted=1/,
			);
			assert.equal(emu.stats.billed.create, 0);
		},
	);

	await check(
		`${label}: a Dub Dialogue whose step 2 Kling failed, retried with n8n's Retry, takes over step 1 and makes step 2 anew: 3 billed creates in all`,
		async () => {
			emu.configure({ taskTimeMs: 2000 });
			const video =
				'https://cdn.example.com/retry-dialogue.mp4?durationMs=9000&faces=0-4500,4500-9000&fail=GPU%20busy&failAtStep=2&failTimes=1';
			emu.resetStats();
			const before = (await ctx.executions(DIALOGUE_RETRY_WORKFLOW_ID)).map(
				(execution) => execution.id,
			);
			const reply = await fetch(`${ctx.baseUrl}/webhook/${DIALOGUE_RETRY_PATH}`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ video_url: video }),
			});
			assert.equal(reply.status, 200);
			const failed = await ctx.until(
				'the dialogue to fail',
				async () => {
					const [latest] = (await ctx.executions(DIALOGUE_RETRY_WORKFLOW_ID)).filter(
						(execution) => !before.includes(execution.id),
					);
					return latest && ['success', 'error', 'crashed'].includes(latest.status)
						? latest
						: undefined;
				},
				90_000,
			);
			assert.equal(failed.status, 'error');
			const stopped = await ctx.runOf(failed.id, 'Dub Dialogue');
			assert.match(
				stopped.error?.message ?? '',
				/^Speaker 2 \(step 2 of 2\): lip-sync failed at Kling: GPU busy/,
			);
			assert.equal(emu.stats.billed.create, 2);

			await ctx.post(`/executions/${failed.id}/retry`, { loadWorkflow: false });
			const retried = await ctx.until(
				'the retry to end',
				async () => {
					const [latest] = await ctx.executions(DIALOGUE_RETRY_WORKFLOW_ID);
					return latest &&
						latest.id !== failed.id &&
						['success', 'error', 'crashed'].includes(latest.status)
						? latest
						: undefined;
				},
				90_000,
			);
			assert.equal(retried.status, 'success');
			const [item] = (await ctx.runOf(retried.id, 'Dub Dialogue')).items;
			const steps = item.json.speakers as Array<Record<string, unknown>>;
			assert.deepEqual(
				steps.map((step) => step.reused_existing_task),
				[true, false],
			);
			assert.match(String(steps[1].external_task_id), /-r1$/);
			assert.equal(emu.stats.billed.create, 3, 'billed creates in all');
			console.log(
				`    retry: Dub Dialogue execution ${retried.id} (Retry of ${failed.id}) took over step 1, made step 2 anew (${String(steps[1].external_task_id)}); billed creates 3`,
			);
		},
	);
}
