import type { IExecuteFunctions } from 'n8n-workflow';

import { describeKlingCode } from '../../helpers/errorCodes';
import { sleepUnlessCancelled } from '../../transport/sleep';
import { isFinal, type LipSyncApi, type LipSyncTask } from '../../transport/types';
import type { WaitSettings } from '../common.descriptions';
import { taskError } from './output';

/** Polls in a row that may fail (each after its own retries) before the wait gives up. */
const MAX_FAILED_POLLS = 3;

/** A failed status read worth polling again: the network, or a retriable refusal (5xxx, 1302, 429/5xx). */
export function isTransient(error: unknown): boolean {
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
			// Whether the task was an earlier run's is known at create only: polled copies keep it.
			task = { ...(await api.getTask(task.taskId)), reused: first.reused };
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
