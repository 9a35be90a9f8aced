import { NodeOperationError } from 'n8n-workflow';

import type { RunContext } from '../../transport';
import {
	isFinal,
	type IdentifyFaceInput,
	type LipSyncApi,
	type LipSyncTask,
} from '../../transport/types';
import type { TaskRequest } from '../node.type';
import { taskError } from '../pipeline/output';
import { taskCreateFields } from '../shared/createOptions';
import { matchFace, timingInWindow } from './casting';
import {
	subjectOf,
	type AudioTiming,
	type CastDialogue,
	type ChainDialogue,
	type ChainRun,
} from './dialogue';
import { chainError, ofStep, paidTaskOf, resultVideoId, stepFailed, stepJson } from './outcome';

/**
 * A chain of lip-sync tasks (Dub Dialogue): each step lip-syncs one speaker on the video the step
 * before made. The chain's state is plain data (its tasks so far); `advanceChain` takes it as far
 * as it goes, in a run (Poll or Callback mode) and in the webhook that goes on with it.
 */

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
		{
			subject: subjectOf(video),
			faceId: session.faceId,
			audio: audio.fingerprint,
			chain,
			...timing,
		},
		{ url: video.videoUrl, id: video.videoId },
	);
	return {
		itemIndex: planned.itemIndex,
		create: {
			sessionId: session.sessionId,
			faceId: session.faceId,
			audioId: audio.audioId,
			...timing,
			...fields,
		},
		audio,
	};
}

/** The first step's request, straight from the first session. */
export function firstRequest(dialogue: CastDialogue): TaskRequest {
	const [speaker] = dialogue.cast;
	return stepRequest(
		dialogue,
		0,
		{ sessionId: dialogue.first.sessionId, faceId: speaker.face.faceId },
		dialogue.plan.video,
		speaker.timing,
	);
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
	const window = {
		faceId: face.faceId,
		startMs: face.startMs ?? 0,
		endMs: face.endMs ?? Number.MAX_SAFE_INTEGER,
	};
	const found = matchFace(identified.faces, window);
	if (typeof found === 'string')
		return `Speaker ${position + 1}: ${found} (session_id ${identified.sessionId})`;
	const matched = identified.faces[found];
	const kept = timingInWindow(timing, matched);
	if (typeof kept === 'string')
		return `Speaker ${position + 1}: ${kept} (session_id ${identified.sessionId})`;
	return stepRequest(
		dialogue,
		position,
		{ sessionId: identified.sessionId, faceId: matched.faceId },
		video,
		kept,
	);
}

/** A chain not started yet: its first step's request, made from the first session. */
export const startChain = (dialogue: ChainDialogue, start: TaskRequest): ChainRun => ({
	dialogue,
	tasks: [],
	steps: [],
	start,
	stepsBefore: 0,
});

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
		if (!started && !chain.start)
			throw new NodeOperationError(ctx.getNode(), 'The dialogue has no step to go on from', {
				itemIndex,
			});
		let task = started ?? (await made(chain.start as TaskRequest));
		for (;;) {
			if (!isFinal(task)) return 'running';
			const step = chain.stepsBefore + chain.tasks.length;
			working = step;
			if (task.status === 'failed') throw stepFailed(ctx, itemIndex, step, task, count);
			const videoId = resultVideoId(task);
			if (!videoId)
				throw taskError(
					ctx,
					itemIndex,
					task,
					`Speaker ${step}'s task succeeded without a video id`,
					'The next speaker cannot be lip-synced without it.',
				);
			if (step === count) return 'done';
			if (cancelled()) return 'cancelled';
			working = step + 1;
			const next = await nextRequest(api, dialogue, step, videoId);
			if (typeof next === 'string')
				throw new NodeOperationError(ctx.getNode(), next, { itemIndex });
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
