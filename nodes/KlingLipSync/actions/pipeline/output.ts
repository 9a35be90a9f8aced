import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { downloadToBinary, type RunContext } from '../../transport';
import { isFinal, type IdentifyFaceResult, type LipSyncTask } from '../../transport/types';
import type { WaitSettings } from '../node.type';
import { asError, contextOf, descriptionOf, messageOf } from '../../helpers/errorText';

/**
 * The one output mapper: what a task becomes as an output item, in a run and in the webhook call
 * that resumes a Callback-mode run, and what an item's error becomes with Continue On Fail.
 */

/** A created task as the run has it when the item's work ends. */
export interface TaskOutcome {
	itemIndex: number;
	task: LipSyncTask;
	/** What the operation adds to the output (Lip Sync Video: the face and the fit). */
	details?: IDataObject;
	/** Left to report back to a Callback-mode run's resume URL. */
	awaitsCallback?: boolean;
}

/**
 * An error about a task that exists at Kling: it always carries the task_id (in the message, so
 * nobody loses a paid task, and in `context`, so Continue On Fail can output it).
 */
export function taskError(
	ctx: RunContext,
	itemIndex: number,
	task: Pick<LipSyncTask, 'taskId' | 'status' | 'externalTaskId'>,
	message: string,
	description: string,
): NodeOperationError {
	const error = new NodeOperationError(ctx.getNode(), `${message} (task_id ${task.taskId})`, {
		itemIndex,
		description,
	});
	error.context.task_id = task.taskId;
	error.context.task_status = task.status;
	if (task.externalTaskId) error.context.external_task_id = task.externalTaskId;
	return error;
}

/** Marks an item of a Callback-mode run's first output whose task was left to report back. */
const CALLBACK_MARK = 'wait_mode';

/** Whether an output item is a task left to report back to the run's resume URL. */
export const awaitsCallback = (item: INodeExecutionData): boolean =>
	item.json[CALLBACK_MARK] === 'callback' && typeof item.json.task_id === 'string';

/** What the operation added to an item left to call back (its task fields are read again on resume). */
export function callbackDetails(item: INodeExecutionData): IDataObject {
	const details: IDataObject = { ...item.json };
	delete details[CALLBACK_MARK];
	return details;
}

/** Seconds as whole milliseconds, the one unit of every duration the node outputs. */
const toMs = (seconds: number | undefined): number | null =>
	seconds === undefined ? null : Math.round(seconds * 1000);

/**
 * An epoch-milliseconds time as an ISO 8601 string (UTC), as n8n's date fields read it; null for a
 * time no date can hold (a provider's answer is not trusted to be sane).
 */
function toIso(epochMs: number | undefined): string | null {
	const date = new Date(epochMs ?? Number.NaN);
	return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/**
 * The task as the node outputs it: Kling's field names, the first video lifted to the top; one
 * unit per field (durations in ms, units billed as a number, times as ISO 8601).
 */
export function taskToJson(task: LipSyncTask): IDataObject {
	const [first] = task.videos;
	return {
		task_id: task.taskId,
		external_task_id: task.externalTaskId ?? null,
		task_status: task.status,
		task_status_msg: task.statusMessage ?? null,
		video_url: first?.url ?? null,
		watermark_url: first?.watermarkUrl ?? null,
		video_id: first?.id ?? null,
		video_duration_ms: toMs(first?.durationSeconds),
		final_unit_deduction: task.units ?? null,
		created_at: toIso(task.createdAt),
		updated_at: toIso(task.updatedAt),
		videos: task.videos.map((video) => ({
			id: video.id,
			url: video.url,
			watermark_url: video.watermarkUrl ?? null,
			duration_ms: toMs(video.durationSeconds),
		})),
		...(task.parentVideo
			? {
					parent_video: {
						id: task.parentVideo.id ?? null,
						url: task.parentVideo.url ?? null,
						duration_ms: toMs(task.parentVideo.durationSeconds),
					},
				}
			: {}),
		...(task.reused ? { reused_existing_task: true } : {}),
	};
}

/** A face as Identify Face outputs it: Kling's field names, times in ms. */
export function faceToJson(face: IdentifyFaceResult['faces'][number]): IDataObject {
	return {
		face_id: face.faceId,
		face_image: face.imageUrl ?? null,
		start_time: face.startMs ?? null,
		end_time: face.endMs ?? null,
		window_ms:
			face.startMs === undefined || face.endMs === undefined
				? null
				: Math.max(0, face.endMs - face.startMs),
	};
}

/** The file name a task's video gets as n8n binary data. */
export function videoFileName(taskId: string, watermarked = false): string {
	return `kling-lipsync-${taskId}${watermarked ? '-watermarked' : ''}.mp4`;
}

/**
 * A task as the item's output: not waited for, it is the task as created; left to call back, it
 * is marked so; final, a failure is an error (with its task_id) and a success optionally brings
 * its video as binary data.
 */
export async function taskOutput(
	ctx: RunContext,
	outcome: TaskOutcome,
	wait: WaitSettings | undefined,
): Promise<INodeExecutionData> {
	const { task, itemIndex, details } = outcome;
	const json = { ...details, ...taskToJson(task) };
	if (outcome.awaitsCallback)
		return { json: { ...json, [CALLBACK_MARK]: 'callback' }, pairedItem: { item: itemIndex } };
	if (!wait || !isFinal(task)) return { json, pairedItem: { item: itemIndex } };
	if (task.status === 'failed') {
		throw taskError(
			ctx,
			itemIndex,
			task,
			`Kling task failed: ${task.statusMessage ?? 'no reason given'}`,
			'Kling could not lip-sync this video. The reason above comes from Kling; check the video, audio and face choice.',
		);
	}
	const item: INodeExecutionData = { json, pairedItem: { item: itemIndex } };
	if (!wait.download) return item;
	const video = task.videos[0];
	const url = wait.watermarked ? video?.watermarkUrl : video?.url;
	if (!url) {
		throw taskError(
			ctx,
			itemIndex,
			task,
			wait.watermarked ? 'The task has no watermarked video' : 'The task has no video',
			wait.watermarked
				? 'Turn on Watermark in Lip Sync options to get a watermarked variant, or turn off Download Watermarked Video.'
				: 'Kling reported success without a video URL.',
		);
	}
	try {
		item.binary = {
			[wait.binaryPropertyName]: await downloadToBinary(
				ctx,
				url,
				videoFileName(task.taskId, wait.watermarked),
				'video/mp4',
				wait.maxDownloadBytes,
			),
		};
	} catch (error) {
		throw taskError(ctx, itemIndex, task, 'The video could not be downloaded', messageOf(error));
	}
	return item;
}

/** An entry of a run that is an output item already (an error item under Continue On Fail), not a plan. */
export const isOutputItem = (entry: unknown): entry is INodeExecutionData =>
	typeof entry === 'object' && entry !== null && 'json' in entry && 'pairedItem' in entry;

/** Fields an error may carry about a task that exists at Kling: Continue On Fail outputs them. */
const TASK_FIELDS = [
	'task_id',
	'task_status',
	'external_task_id',
	'task_ids',
	'last_good_video_id',
] as const;

/** An item's error as its output item (Continue On Fail): the message, the why, and any task it made. */
export function errorItem(error: unknown, itemIndex: number): INodeExecutionData {
	const json: IDataObject = { error: messageOf(error) };
	const context = contextOf(error);
	for (const field of TASK_FIELDS) if (context[field] !== undefined) json[field] = context[field];
	const description = descriptionOf(error);
	if (description) json.description = description;
	return { json, pairedItem: { item: itemIndex } };
}

/** An item's error as n8n shows it: node errors as they are, anything else wrapped with its item. */
export function asNodeError(ctx: IExecuteFunctions, error: unknown, itemIndex: number): Error {
	if (error instanceof NodeOperationError || error instanceof NodeApiError) {
		// The run shares one API connection: its errors learn their item here.
		error.context.itemIndex = itemIndex;
		return error;
	}
	return new NodeOperationError(ctx.getNode(), asError(error), { itemIndex });
}

/** A final task as a resumed item: its result, or (failed) an item that says why, never a lost run. */
export async function finalItem(
	ctx: RunContext,
	outcome: TaskOutcome,
	wait: WaitSettings,
): Promise<INodeExecutionData> {
	try {
		return await taskOutput(ctx, outcome, wait);
	} catch (error) {
		const { json } = errorItem(error, outcome.itemIndex);
		return {
			json: { ...outcome.details, ...taskToJson(outcome.task), ...json },
			pairedItem: { item: outcome.itemIndex },
		};
	}
}
