import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { matchFace, timingInWindow, type AudioTiming, type CastSpeaker } from '../../helpers/faceFit';
import type { RunContext } from '../../transport';
import { isFinal, type IdentifyFaceInput, type LipSyncApi, type LipSyncTask } from '../../transport/types';
import type { WaitSettings } from '../common.descriptions';
import type { ResolvedAudio } from '../lipSync/audioSource';
import { taskCreateFields, type CreateOptions } from '../lipSync/createOptions';
import type { TaskRequest } from '../node.type';
import { taskError, taskOutput } from './output';

/**
 * A chain of lip-sync tasks (Dub Dialogue): each step lip-syncs one speaker on the video the step
 * before made. The chain's state is plain data (its tasks so far); `advanceChain` takes it as far
 * as it goes, in a run (Poll or Callback mode) and in the webhook that goes on with it.
 */

/**
 * What a dialogue's later steps need, and all a Callback-mode webhook has of it: each speaker's
 * audio, face window and timing from the first session, the create options, the dialogue's key.
 */
export interface ChainDialogue {
	plan: { itemIndex: number; speakers: Array<{ audio: ResolvedAudio }>; create: CreateOptions };
	cast: Array<Pick<CastSpeaker, 'face' | 'timing'>>;
	/** Names the dialogue in its steps' external_task_ids: a digest of all its work. */
	key: string;
}

/** The video a step lip-syncs: the item's own for the first, then the one the step before made. */
export const subjectOf = (video: IdentifyFaceInput): string =>
	video.videoId ? `video_id:${video.videoId}` : `video_url:${video.videoUrl ?? ''}`;

/**
 * One step's task: this speaker's face in this session, their audio at this timing. Its
 * external_task_id is a digest of the work on this video, so a retry of the dialogue finds every
 * step already paid for (each later step's video is the result of the one before).
 */
export function stepRequest(
	dialogue: ChainDialogue,
	position: number,
	session: { sessionId: string; faceId: string },
	video: IdentifyFaceInput,
	timing: AudioTiming,
): TaskRequest {
	const { plan: planned, key } = dialogue;
	const { audio } = planned.speakers[position];
	const chain = { key, step: position + 1, last: position + 1 === planned.speakers.length };
	const fields = taskCreateFields(
		planned.create,
		{ subject: subjectOf(video), faceId: session.faceId, audio: audio.fingerprint, chain, ...timing },
		{ url: video.videoUrl, id: video.videoId },
	);
	return {
		itemIndex: planned.itemIndex,
		create: { sessionId: session.sessionId, faceId: session.faceId, audioId: audio.audioId, ...timing, ...fields },
		audio,
	};
}

/** The video a succeeded step made, which the next step lip-syncs. */
export function resultVideoId(task: LipSyncTask): string | undefined {
	return task.videos[0]?.id;
}

/**
 * A later step: identify the video the step before made (a new session), find the speaker's face
 * there by its window, keep the audio's timing inside it. Returns the request, or why not.
 */
export async function nextRequest(
	api: LipSyncApi,
	dialogue: ChainDialogue,
	position: number,
	videoId: string,
): Promise<TaskRequest | string> {
	const { face, timing } = dialogue.cast[position];
	const video = { videoId };
	const identified = await api.identifyFace(video);
	const window = { faceId: face.faceId, startMs: face.startMs ?? 0, endMs: face.endMs ?? Number.MAX_SAFE_INTEGER };
	const found = matchFace(identified.faces, window);
	if (typeof found === 'string') return `Speaker ${position + 1}: ${found} (session_id ${identified.sessionId})`;
	const matched = identified.faces[found];
	const kept = timingInWindow(timing, matched);
	if (typeof kept === 'string') return `Speaker ${position + 1}: ${kept} (session_id ${identified.sessionId})`;
	return stepRequest(dialogue, position, { sessionId: identified.sessionId, faceId: matched.faceId }, video, kept);
}

/** A dialogue's chain as far as it went: every step's task (paid for), in step order. */
export interface ChainRun {
	dialogue: ChainDialogue;
	tasks: LipSyncTask[];
	/** Each step as the output lists it (what the run knows of it). */
	steps: IDataObject[];
	/** The first step's request, made from the first session (a chain known from its tasks has none). */
	start?: TaskRequest;
	/** Steps made before the first of `tasks` (a webhook goes on from the step that called back). */
	stepsBefore: number;
}

/** A chain not started yet: its first step's request, made from the first session. */
export const startChain = (dialogue: ChainDialogue, start: TaskRequest): ChainRun => ({ dialogue, tasks: [], steps: [], start, stepsBefore: 0 });

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
export function chainError(ctx: RunContext, itemIndex: number, error: unknown, chain: Pick<ChainRun, 'tasks'>): Error {
	const stopped =
		error instanceof NodeOperationError || error instanceof NodeApiError
			? error
			: new NodeOperationError(ctx.getNode(), error as Error, { itemIndex });
	const taskIds = chain.tasks.map((task) => task.taskId);
	const lastGood = lastGoodVideoId(chain);
	const described = stopped as Error & { description?: string | null };
	// Told again with more of the chain known (a webhook's), the note is replaced, not repeated.
	if (!descriptionsBeforeNote.has(stopped)) descriptionsBeforeNote.set(stopped, described.description ?? undefined);
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
export const stepLabel = (step: number, count: number | undefined): string => `Speaker ${step} (step ${step}${count ? ` of ${count}` : ''})`;

/** An error of a step, its message starting with the step (once). */
export function ofStep(error: Error, step: number, count: number | undefined): Error {
	const label = stepLabel(step, count);
	if (!error.message.startsWith(label)) error.message = `${label}: ${error.message.replace(new RegExp(`^Speaker ${step}:? `), '')}`;
	return error;
}

/** A step whose task failed at Kling: the chain stops there. */
export function stepFailed(ctx: RunContext, itemIndex: number, step: number, task: LipSyncTask, count: number | undefined): NodeOperationError {
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

/** Creates one step's task: in Poll mode it returns it final, in Callback mode as created. */
export type CreateStep = (request: TaskRequest) => Promise<LipSyncTask>;

/**
 * Takes a dialogue's chain as far as it goes now: the first step when none was made; then while
 * the last step is final, the next (identify the video it made, find the face, create). Ends
 * "running" at a step still at work (Callback mode leaves it to call back), "done" when the last
 * step succeeded; a failed step or a step that cannot be made throws, naming every task made
 * and the last good video.
 */
export async function advanceChain(
	ctx: RunContext,
	api: LipSyncApi,
	chain: ChainRun,
	createStep: CreateStep,
	cancelled: () => boolean = () => false,
): Promise<'running' | 'done' | 'cancelled'> {
	const { dialogue } = chain;
	const { itemIndex } = dialogue.plan;
	const count = dialogue.plan.speakers.length;
	// The step whose create-and-wait is under way: if it fails after making a task, that task is paid.
	let creating: TaskRequest | undefined;
	const made = async (request: TaskRequest): Promise<LipSyncTask> => {
		creating = request;
		const task = await createStep(request);
		creating = undefined;
		chain.tasks.push(task);
		chain.steps.push(stepJson(chain.stepsBefore + chain.tasks.length, task, request));
		return task;
	};
	// The step being worked on: every error names it.
	let working = chain.stepsBefore + Math.max(1, chain.tasks.length);
	try {
		const started = chain.tasks[chain.tasks.length - 1];
		if (!started && !chain.start) throw new NodeOperationError(ctx.getNode(), 'The dialogue has no step to go on from', { itemIndex });
		let task = started ?? (await made(chain.start as TaskRequest));
		for (;;) {
			if (!isFinal(task)) return 'running';
			const step = chain.stepsBefore + chain.tasks.length;
			working = step;
			if (task.status === 'failed') throw stepFailed(ctx, itemIndex, step, task, count);
			const videoId = resultVideoId(task);
			if (!videoId) throw taskError(ctx, itemIndex, task, `Speaker ${step}'s task succeeded without a video id`, 'The next speaker cannot be lip-synced without it.');
			if (step === count) return 'done';
			if (cancelled()) return 'cancelled';
			working = step + 1;
			const next = await nextRequest(api, dialogue, step, videoId);
			if (typeof next === 'string') throw new NodeOperationError(ctx.getNode(), next, { itemIndex });
			task = await made(next);
		}
	} catch (error) {
		// A step made but not ended well (past Max Wait, its video not downloaded) is listed with the paid ones.
		const paid = creating && paidTaskOf(error);
		if (creating && paid) {
			chain.tasks.push(paid);
			chain.steps.push(stepJson(chain.stepsBefore + chain.tasks.length, paid, creating));
		}
		throw ofStep(chainError(ctx, itemIndex, error, chain), working, count);
	}
}

/** The task a failed create-and-wait made, from the error that names it (it is paid for), if any. */
function paidTaskOf(error: unknown): LipSyncTask | undefined {
	const context = (error as { context?: IDataObject }).context ?? {};
	if (typeof context.task_id !== 'string') return undefined;
	const status = context.task_status;
	return {
		taskId: context.task_id,
		status: status === 'submitted' || status === 'succeed' || status === 'failed' ? status : 'processing',
		...(typeof context.external_task_id === 'string' ? { externalTaskId: context.external_task_id } : {}),
		videos: [],
		raw: {},
	};
}

/** What a dialogue costs: one task and one identify per speaker (a reused step costs its identify only). */
export function dialogueCost(speakers: number): IDataObject {
	return { lip_sync_tasks: speakers, identify_calls: speakers };
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
