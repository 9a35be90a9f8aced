import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import type { RunContext } from '../../transport';
import type { LipSyncTask } from '../../transport/types';
import type { TaskRequest, WaitSettings } from '../node.type';
import { taskError, taskOutput } from '../pipeline/output';
import { dialogueCost } from './cost';
import type { ChainRun } from './dialogue';

/** How a dialogue's chain is reported: its steps, its errors (naming every task paid), its output. */

/** The video a succeeded step made, which the next step lip-syncs. */
export function resultVideoId(task: LipSyncTask): string | undefined {
	return task.videos[0]?.id;
}

/** The video of the last step that succeeded: the dialogue's work up to there. */
export function lastGoodVideoId(chain: Pick<ChainRun, 'tasks'>): string | undefined {
	const good = chain.tasks.filter((task) => task.status === 'succeed');
	const last = good[good.length - 1];
	return last && resultVideoId(last);
}

const descriptionsBeforeNote = new WeakMap<Error, string | undefined>();

/**
 * An error that stops a dialogue: it names every task made so far (paid for) and the last good
 * video id (the item's work up to there), in the message's description and in `context`, so
 * Continue On Fail outputs them.
 */
export function chainError(
	ctx: RunContext,
	itemIndex: number,
	error: unknown,
	chain: Pick<ChainRun, 'tasks'>,
): Error {
	const stopped =
		error instanceof NodeOperationError || error instanceof NodeApiError
			? error
			: new NodeOperationError(ctx.getNode(), error as Error, { itemIndex });
	const taskIds = chain.tasks.map((task) => task.taskId);
	const lastGood = lastGoodVideoId(chain);
	const described = stopped as Error & { description?: string | null };
	// Told again with more of the chain known (a webhook's), the note is replaced, not repeated.
	if (!descriptionsBeforeNote.has(stopped))
		descriptionsBeforeNote.set(stopped, described.description ?? undefined);
	const before = descriptionsBeforeNote.get(stopped);
	stopped.context.task_ids = taskIds;
	stopped.context.last_good_video_id = lastGood ?? null;
	const note = taskIds.length
		? `Tasks made for this dialogue (paid): task_id ${taskIds.join(', ')}. ${
				lastGood
					? `The last good video (speakers 1-${chain.tasks.filter((task) => task.status === 'succeed').length} dubbed) has video_id ${lastGood}.`
					: 'No step succeeded.'
			} Running the item again takes over every step that succeeded or still runs (nothing paid for them), makes a step that failed anew and goes on from there.`
		: 'No lip-sync task was made for this dialogue.';
	described.description = before ? `${before} ${note}` : note;
	return stopped;
}

/**
 * How every error of a dialogue's step starts: which speaker, which step of how many (a resumed
 * Callback-mode run knows the count of a dialogue other than the calling one only from its last step).
 */
export const stepLabel = (step: number, count: number | undefined): string =>
	`Speaker ${step} (step ${step}${count ? ` of ${count}` : ''})`;

/** An error of a step, its message starting with the step (once). */
export function ofStep(error: Error, step: number, count: number | undefined): Error {
	const label = stepLabel(step, count);
	if (!error.message.startsWith(label))
		error.message = `${label}: ${error.message.replace(new RegExp(`^Speaker ${step}:? `), '')}`;
	return error;
}

/** A step whose task failed at Kling: the chain stops there. */
export function stepFailed(
	ctx: RunContext,
	itemIndex: number,
	step: number,
	task: LipSyncTask,
	count: number | undefined,
): NodeOperationError {
	return taskError(
		ctx,
		itemIndex,
		task,
		`${stepLabel(step, count)}: lip-sync failed at Kling: ${task.statusMessage ?? 'no reason given'}`,
		"Kling could not lip-sync this step. The reason above comes from Kling; check this speaker's audio and face.",
	);
}

/** One step as the output lists it: with its request where the run made it. */
export function stepJson(step: number, task: LipSyncTask, request?: TaskRequest): IDataObject {
	return {
		speaker: step,
		...(request
			? {
					session_id: request.create.sessionId,
					face_id: request.create.faceId,
					crop_start_time: request.create.cropStartMs,
					crop_end_time: request.create.cropEndMs,
					insert_time: request.create.insertMs,
				}
			: {}),
		task_id: task.taskId,
		external_task_id: task.externalTaskId ?? null,
		task_status: task.status,
		video_id: resultVideoId(task) ?? null,
		reused_existing_task: task.reused === true,
	};
}

/** The task a failed create-and-wait made, from the error that names it (it is paid for), if any. */
export function paidTaskOf(error: unknown): LipSyncTask | undefined {
	const context = (error as { context?: IDataObject }).context ?? {};
	if (typeof context.task_id !== 'string') return undefined;
	const status = context.task_status;
	return {
		taskId: context.task_id,
		status:
			status === 'submitted' || status === 'succeed' || status === 'failed' ? status : 'processing',
		...(typeof context.external_task_id === 'string'
			? { externalTaskId: context.external_task_id }
			: {}),
		videos: [],
		raw: {},
	};
}

/** A finished dialogue as its output item: the last step's video, with every step listed. */
export async function chainOutput(
	ctx: RunContext,
	itemIndex: number,
	chain: Pick<ChainRun, 'tasks' | 'steps'>,
	wait: WaitSettings | undefined,
): Promise<INodeExecutionData> {
	const task = chain.tasks[chain.tasks.length - 1];
	const details = {
		speakers: chain.steps,
		task_ids: chain.tasks.map((made) => made.taskId),
		...dialogueCost(chain.tasks.length),
		reused_tasks: chain.tasks.filter((made) => made.reused).length,
	};
	try {
		return await taskOutput(ctx, { itemIndex, task, details }, wait);
	} catch (error) {
		// The last step's video: its download is that step's.
		throw ofStep(chainError(ctx, itemIndex, error, chain), chain.tasks.length, chain.tasks.length);
	}
}
