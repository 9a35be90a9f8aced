import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { describeKlingCode } from '../../helpers/errorCodes';
import { taskToJson, videoFileName } from '../../helpers/output';
import { downloadToBinary, type ApiContext } from '../../transport';
import { sleepUnlessCancelled } from '../../transport/sleep';
import { isFinal, type LipSyncApi, type LipSyncTask } from '../../transport/types';
import type { Batch } from '../batch';
import type { WaitSettings } from '../common.descriptions';

/**
 * An error about a task that exists at Kling: it always carries the task_id (in the message, so
 * nobody loses a paid task, and in `context`, so Continue On Fail can output it).
 */
export function taskError(
	ctx: ApiContext,
	itemIndex: number,
	task: Pick<LipSyncTask, 'taskId' | 'status' | 'externalTaskId'>,
	message: string,
	description: string,
): NodeOperationError {
	const error = new NodeOperationError(ctx.getNode(), `${message} (task_id ${task.taskId})`, { itemIndex, description });
	error.context.task_id = task.taskId;
	error.context.task_status = task.status;
	if (task.externalTaskId) error.context.external_task_id = task.externalTaskId;
	return error;
}

/** Polls in a row that may fail (each after its own retries) before the wait gives up. */
const MAX_FAILED_POLLS = 3;

/** A failed status read worth polling again: the network, or a retriable refusal (5xxx, 1302, 429/5xx). */
function isTransient(error: unknown): boolean {
	const context = (error as { context?: { klingCode?: number } }).context;
	const httpCode = Number((error as { httpCode?: string | null }).httpCode ?? 0);
	if (context?.klingCode !== undefined) return describeKlingCode(context.klingCode).retriable;
	return !httpCode || httpCode === 429 || httpCode >= 500;
}

/** Polls until the task is final, the wait budget is spent, or the execution is cancelled. */
export async function waitForTask(
	ctx: IExecuteFunctions,
	api: LipSyncApi,
	first: LipSyncTask,
	settings: WaitSettings,
	itemIndex: number,
): Promise<LipSyncTask> {
	const signal = ctx.getExecutionCancelSignal();
	const deadline = Date.now() + settings.maxWaitMs;
	let task = first;
	let failedPolls = 0;
	for (;;) {
		if (isFinal(task)) return task;
		const left = deadline - Date.now();
		if (left <= 0) {
			throw taskError(
				ctx,
				itemIndex,
				task,
				`Kling task still ${task.status} after ${(settings.maxWaitMs / 60_000).toFixed(2)} min`,
				'The task keeps running at Kling. Fetch it later with Get Task (by this task_id), or raise Max Wait.',
			);
		}
		if (!(await sleepUnlessCancelled(Math.min(settings.pollIntervalMs, left), signal))) {
			throw taskError(
				ctx,
				itemIndex,
				task,
				'Waiting was cancelled',
				'The execution was stopped; the task keeps running at Kling. Fetch it later with Get Task.',
			);
		}
		try {
			task = await api.getTask(task.taskId);
			failedPolls = 0;
		} catch (error) {
			// Each poll already retried what is safe to retry; a paid task is worth a few more polls.
			if (++failedPolls < MAX_FAILED_POLLS && isTransient(error)) continue;
			const reason = (error as Error).message;
			const detail = (error as { description?: string }).description;
			throw taskError(ctx, itemIndex, task, "Could not get the task's status", detail ? `${reason}. ${detail}` : reason);
		}
	}
}

/** A final task as the node's output item: failure is an error; success optionally brings the video. */
export async function finishedTaskItem(
	ctx: ApiContext,
	task: LipSyncTask,
	settings: WaitSettings,
	itemIndex: number,
): Promise<INodeExecutionData> {
	if (task.status === 'failed') {
		throw taskError(
			ctx,
			itemIndex,
			task,
			`Kling task failed: ${task.statusMessage ?? 'no reason given'}`,
			'Kling could not lip-sync this video. The reason above comes from Kling; check the video, audio and face choice.',
		);
	}
	const item: INodeExecutionData = { json: taskToJson(task) };
	if (!settings.download) return item;
	const video = task.videos[0];
	const url = settings.watermarked ? video?.watermarkUrl : video?.url;
	if (!url) {
		throw taskError(
			ctx,
			itemIndex,
			task,
			settings.watermarked ? 'The task has no watermarked video' : 'The task has no video',
			settings.watermarked
				? 'Turn on Watermark in Lip Sync options to get a watermarked variant, or turn off Download Watermarked Video.'
				: 'Kling reported success without a video URL.',
		);
	}
	try {
		item.binary = { [settings.binaryPropertyName]: await downloadToBinary(ctx, url, videoFileName(task.taskId, settings.watermarked), 'video/mp4') };
	} catch (error) {
		throw taskError(ctx, itemIndex, task, 'The video could not be downloaded', (error as Error).message);
	}
	return item;
}

export async function waitAndFinish(
	ctx: IExecuteFunctions,
	api: LipSyncApi,
	task: LipSyncTask,
	settings: WaitSettings | undefined,
	itemIndex: number,
	batch: Batch,
): Promise<INodeExecutionData[]> {
	if (!settings) return [{ json: taskToJson(task) }];
	// Whether the task was an earlier run's is known at create only: polled copies keep it.
	const finished = { ...(await waitForTask(ctx, api, task, settings, itemIndex)), reused: task.reused };
	// A task that was final already (adopted from an earlier run) held no slot of this run.
	if (!isFinal(task)) batch.taskFinished();
	return [await finishedTaskItem(ctx, finished, settings, itemIndex)];
}
