import { randomUUID } from 'node:crypto';
import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties, NodeHint } from 'n8n-workflow';
import { NodeApiError, NodeOperationError, updateDisplayOptions } from 'n8n-workflow';

import {
	castSpeakers,
	checkAudioAfterCropStart,
	matchFace,
	timingInWindow,
	type AudioTiming,
	type CastSpeaker,
	type SpeakerFace,
	type SpeakerPlacement,
} from '../../helpers/faceFit';
import { dialogueKey } from '../../helpers/externalId';
import { checkMilliseconds } from '../../helpers/validation';
import type { RunContext } from '../../transport';
import { isFinal, type IdentifyFaceInput, type IdentifyFaceResult, type LipSyncApi, type LipSyncTask } from '../../transport/types';
import { maxInFlightOption, waitFields, type WaitSettings } from '../common.descriptions';
import type { RunSettings, TaskRequest } from '../node.type';
import { waitModeField } from '../pipeline/callback';
import type { TaskExecutor } from '../pipeline/executor';
import { taskError, taskOutput } from '../pipeline/output';
import { failOn, requireSupport } from '../params';
import { readVideo, videoSourceFields } from '../face/identifyFace.operation';
import { audioSourceFields, resolveAudio, type ResolvedAudio } from './audioSource';
import { createOptionFields, readCreateOptions, taskCreateFields, type CreateOptions, type CreateOptionValues } from './createOptions';

/** One speaker's fields: their face, their audio, where it goes. */
const speakerFields: INodeProperties[] = [
	{
		displayName: 'Face',
		name: 'faceBy',
		type: 'options',
		options: [
			{ name: 'Visible at Time', value: 'visibleAt', description: 'The face Kling finds on screen at this moment of the video' },
			{ name: 'By Index', value: 'index', description: 'The n-th face Kling finds in the video (0 = first)' },
			{ name: 'By Face ID', value: 'faceId', description: 'A face_id from an Identify Face of the same video' },
		],
		default: 'visibleAt',
	},
	{
		displayName: 'Visible At (Ms)',
		name: 'visibleAtMs',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description: 'A moment of the video (from its start) at which only this speaker\'s face is in view',
		displayOptions: { show: { faceBy: ['visibleAt'] } },
	},
	{
		displayName: 'Face Index',
		name: 'faceIndex',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		displayOptions: { show: { faceBy: ['index'] } },
	},
	{
		displayName: 'Face ID',
		name: 'faceId',
		type: 'string',
		default: '',
		placeholder: 'e.g. 0',
		displayOptions: { show: { faceBy: ['faceId'] } },
	},
	...audioSourceFields,
	{
		displayName: 'Audio Placement',
		name: 'placement',
		type: 'options',
		options: [
			{
				name: 'Full-Length Track',
				value: 'fullLength',
				description: "The track runs alongside the whole video (silence where others speak); the part inside the face's window is used",
			},
			{ name: 'Clip at Insert At', value: 'clip', description: 'A clip of this speaker alone, placed at Insert At on the video' },
		],
		default: 'fullLength',
	},
	{
		displayName: 'Insert At (Ms)',
		name: 'insertMs',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description: 'Where on the video the clip starts; it must end inside the face\'s window',
		displayOptions: { show: { placement: ['clip'] } },
	},
	{
		displayName: 'Crop Start (Ms)',
		name: 'cropStartMs',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description: 'Skip this much of the start of the clip',
		displayOptions: { show: { placement: ['clip'] } },
	},
];

const properties: INodeProperties[] = [
	...videoSourceFields,
	{
		displayName: 'Speakers',
		name: 'speakers',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true, sortable: true },
		placeholder: 'Add Speaker',
		default: {},
		hint: 'Each speaker costs one lip-sync task and one Identify Face call, one after another; each step re-encodes the video',
		options: [{ name: 'speaker', displayName: 'Speaker', values: speakerFields }],
	},
	{ ...waitModeField, displayOptions: undefined },
	...waitFields('dubDialogue', { always: true }),
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			createOptionFields.soundVolume,
			{ ...maxInFlightOption(), description: 'How many dialogues (items) are dubbed at once; each holds one Kling task at a time' },
			createOptionFields.newTaskEveryRun,
			createOptionFields.originalAudioVolume,
			createOptionFields.watermark,
		],
	},
];

export const description = updateDisplayOptions({ show: { operation: ['dubDialogue'] } }, properties);

/** Speakers a dialogue may have: each step re-encodes the video, so quality drops with every one. */
const MAX_SPEAKERS = 10;

/**
 * The editor says what a dialogue costs before it runs: one hint per speaker count (a hint's text
 * is not an expression; its condition is).
 */
export const hints: NodeHint[] = Array.from({ length: MAX_SPEAKERS }, (_, index) => {
	const count = index + 1;
	return {
		message: `Each item (dialogue) costs ${count} lip-sync task${count > 1 ? 's' : ''} and ${count} Identify Face call${count > 1 ? 's' : ''}, made one after another; each step re-encodes the video.`,
		type: 'info',
		location: 'ndv',
		whenToDisplay: 'always',
		displayCondition: `={{ $parameter["operation"] === "dubDialogue" && ($parameter["speakers"]?.speaker ?? []).length === ${count} }}`,
	};
});

/** What a run of dialogues costs, for n8n's output pane once it ran. */
export function runCostHint(dialogues: number, speakers: number, reused: number): string {
	return `This run: ${dialogues} dialogue(s), ${speakers} lip-sync task(s)${reused ? ` (${reused} taken over from an earlier run, not paid again)` : ''} and ${speakers} Identify Face call(s).`;
}

/** A speaker, checked (the audio measured; nothing billed). */
export interface SpeakerPlan {
	face: SpeakerFace;
	audio: ResolvedAudio;
	audioMs: number;
	placement: SpeakerPlacement;
}

/** One dialogue (item), checked: the video and its speakers, in the order they are synced. */
export interface DialoguePlan {
	itemIndex: number;
	video: IdentifyFaceInput;
	speakers: SpeakerPlan[];
	create: CreateOptions;
}

const speakerPath = (position: number): string => `speakers.speaker[${position}].`;

function readSpeakerFace(this: IExecuteFunctions, itemIndex: number, at: string, name: string): SpeakerFace {
	const by = this.getNodeParameter(`${at}faceBy`, itemIndex, 'visibleAt') as SpeakerFace['by'];
	if (by === 'index') {
		const index = this.getNodeParameter(`${at}faceIndex`, itemIndex, 0) as unknown;
		failOn.call(this, itemIndex, typeof index === 'number' && Number.isInteger(index) && index >= 0 ? undefined : `${name}: Face Index must be a whole number from 0`);
		return { by, index: index as number };
	}
	if (by === 'faceId') {
		const faceId = this.getNodeParameter(`${at}faceId`, itemIndex, '') as unknown;
		failOn.call(this, itemIndex, typeof faceId === 'string' && faceId.trim() ? undefined : `${name}: Face ID is required when choosing the face by ID`);
		return { by, faceId: (faceId as string).trim() };
	}
	if (by !== 'visibleAt') failOn.call(this, itemIndex, `${name}: Face must be visibleAt, index or faceId (got "${String(by).slice(0, 40)}")`);
	const atMs = this.getNodeParameter(`${at}visibleAtMs`, itemIndex, 0) as unknown;
	failOn.call(this, itemIndex, checkMilliseconds(`${name}: Visible At (ms)`, atMs));
	return { by: 'visibleAt', atMs: atMs as number };
}

function readPlacement(this: IExecuteFunctions, itemIndex: number, at: string, name: string, audioMs: number): SpeakerPlacement {
	const kind = this.getNodeParameter(`${at}placement`, itemIndex, 'fullLength') as SpeakerPlacement['kind'];
	if (kind === 'fullLength') return { kind };
	failOn.call(this, itemIndex, kind === 'clip' ? undefined : `${name}: Audio Placement must be fullLength or clip (got "${String(kind).slice(0, 40)}")`);
	const insertMs = this.getNodeParameter(`${at}insertMs`, itemIndex, 0) as unknown;
	const cropStartMs = this.getNodeParameter(`${at}cropStartMs`, itemIndex, 0) as unknown;
	failOn.call(this, itemIndex, checkMilliseconds(`${name}: Insert At (ms)`, insertMs));
	failOn.call(this, itemIndex, checkMilliseconds(`${name}: Crop Start (ms)`, cropStartMs));
	const tooShort = checkAudioAfterCropStart(audioMs, cropStartMs as number);
	if (tooShort) failOn.call(this, itemIndex, `${name}: ${tooShort}`);
	return { kind, insertMs: insertMs as number, cropStartMs: cropStartMs as number };
}

/** Two speakers who name the same face by index or id: known before anything is sent. */
function sameFaceNamed(speakers: SpeakerPlan[]): string | undefined {
	const seen = new Map<string, number>();
	for (const [position, { face }] of speakers.entries()) {
		const key = face.by === 'index' ? `index ${face.index}` : face.by === 'faceId' ? `ID ${face.faceId}` : undefined;
		if (key === undefined) continue;
		const earlier = seen.get(key);
		if (earlier !== undefined) return `Speaker ${position + 1} and Speaker ${earlier + 1} both name the face with ${key}: each speaker needs a face of their own`;
		seen.set(key, position);
	}
	return undefined;
}

export async function plan(this: IExecuteFunctions, itemIndex: number, run: RunSettings): Promise<DialoguePlan> {
	const video = readVideo.call(this, itemIndex, run.api);
	const count = (this.getNodeParameter('speakers.speaker', itemIndex, []) as unknown[]).length;
	failOn.call(this, itemIndex, count > 0 ? undefined : 'Speakers: add at least one speaker (a face and its audio)');
	failOn.call(this, itemIndex, count <= MAX_SPEAKERS ? undefined : `Speakers: at most ${MAX_SPEAKERS} (got ${count}); each one re-encodes the video once more`);
	// Every step after the first identifies the video the step before made, by its Kling video id.
	if (count > 1) requireSupport.call(this, itemIndex, run.api, 'videoId');
	// A Callback-mode run finds its dialogues' steps in the account's task list.
	if (run.waitMode === 'callback') requireSupport.call(this, itemIndex, run.api, 'listTasks');
	const speakers: SpeakerPlan[] = [];
	for (let position = 0; position < count; position++) {
		const at = speakerPath(position);
		const name = `Speaker ${position + 1}`;
		const face = readSpeakerFace.call(this, itemIndex, at, name);
		const audio = await resolveAudio.call(this, itemIndex, run.audioReads, at, `${name}: `);
		if (audio.audioId) requireSupport.call(this, itemIndex, run.api, 'audioId');
		if (run.waitMode === 'callback' && position > 0 && audio.sound && !('url' in audio.sound)) {
			failOn.call(
				this,
				itemIndex,
				`${name}: in Callback wait mode the audio of every speaker after the first must be a URL or a Kling Audio ID: their steps are made by the webhook that receives Kling's callback, and n8n gives it no access to the item's files. Use Wait Mode Poll, or give the audio as a URL`,
			);
		}
		if (audio.durationMs === undefined) {
			failOn.call(this, itemIndex, `${name}: Dub Dialogue needs the audio's length: with a Kling Audio ID, feed it from Text to Speech (audio_duration_ms), or give the audio as a URL or file`);
		}
		const audioMs = audio.durationMs as number;
		speakers.push({ face, audio, audioMs, placement: readPlacement.call(this, itemIndex, at, name, audioMs) });
	}
	failOn.call(this, itemIndex, sameFaceNamed(speakers));
	const options = this.getNodeParameter('options', itemIndex, {}) as CreateOptionValues;
	return { itemIndex, video, speakers, create: readCreateOptions.call(this, itemIndex, options, run.api) };
}

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

/** A dialogue after its first Identify Face: every speaker's face and timing known, nothing created. */
export interface CastDialogue extends ChainDialogue {
	plan: DialoguePlan;
	first: IdentifyFaceResult;
	cast: CastSpeaker[];
}

/**
 * The first Identify Face of the video, and every speaker placed on it (faces found, no face
 * named twice, every audio inside its face's window): a dialogue that cannot be dubbed stops here,
 * before any task.
 */
export async function castDialogue(this: IExecuteFunctions, planned: DialoguePlan, run: RunSettings): Promise<CastDialogue> {
	const first = await run.api.identifyFace(planned.video);
	const cast = castSpeakers(first.faces, planned.speakers);
	if (typeof cast === 'string') {
		const error = new NodeOperationError(this.getNode(), cast, {
			itemIndex: planned.itemIndex,
			description: `session_id ${first.sessionId}; faces: ${first.faces.map((face) => `${face.faceId} (${face.startMs ?? '?'}-${face.endMs ?? '?'} ms)`).join(', ') || 'none'}. No lip-sync task was created.`,
		});
		error.context.session_id = first.sessionId;
		throw error;
	}
	const { soundVolume, originalAudioVolume, watermark, derivedId } = planned.create;
	const work = {
		video: subjectOf(planned.video),
		speakers: cast.map(({ face, timing }, position) => [face.faceId, face.startMs, face.endMs, timing, planned.speakers[position].audio.fingerprint]),
		options: [soundVolume, originalAudioVolume, watermark],
	};
	return { plan: planned, first, cast, key: dialogueKey(work, derivedId === 'fresh' ? randomUUID() : '') };
}

/** The video a step lip-syncs: the item's own for the first, then the one the step before made. */
const subjectOf = (video: IdentifyFaceInput): string =>
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

/** The first step's request, straight from the first session. */
export function firstRequest(dialogue: CastDialogue): TaskRequest {
	const [speaker] = dialogue.cast;
	return stepRequest(dialogue, 0, { sessionId: dialogue.first.sessionId, faceId: speaker.face.faceId }, dialogue.plan.video, speaker.timing);
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

export const startChain = (dialogue: CastDialogue): ChainRun => ({ dialogue, tasks: [], steps: [], start: firstRequest(dialogue), stepsBefore: 0 });

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
			} Running the item again finds these tasks and goes on from there.`
		: 'No lip-sync task was made for this dialogue.';
	described.description = before ? `${before} ${note}` : note;
	return stopped;
}

/** A step whose task failed at Kling: the chain stops there. */
export function stepFailed(ctx: RunContext, itemIndex: number, step: number, task: LipSyncTask): NodeOperationError {
	return taskError(
		ctx,
		itemIndex,
		task,
		`Speaker ${step}'s lip-sync failed at Kling: ${task.statusMessage ?? 'no reason given'}`,
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
		...(task.reused ? { reused_existing_task: true } : {}),
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
	const made = async (request: TaskRequest): Promise<LipSyncTask> => {
		const task = await createStep(request);
		chain.tasks.push(task);
		chain.steps.push(stepJson(chain.stepsBefore + chain.tasks.length, task, request));
		return task;
	};
	try {
		const started = chain.tasks[chain.tasks.length - 1];
		if (!started && !chain.start) throw new NodeOperationError(ctx.getNode(), 'The dialogue has no step to go on from', { itemIndex });
		let task = started ?? (await made(chain.start as TaskRequest));
		for (;;) {
			if (!isFinal(task)) return 'running';
			const step = chain.stepsBefore + chain.tasks.length;
			if (task.status === 'failed') throw stepFailed(ctx, itemIndex, step, task);
			const videoId = resultVideoId(task);
			if (!videoId) throw taskError(ctx, itemIndex, task, `Speaker ${step}'s task succeeded without a video id`, 'The next speaker cannot be lip-synced without it.');
			if (step === count) return 'done';
			if (cancelled()) return 'cancelled';
			const next = await nextRequest(api, dialogue, step, videoId);
			if (typeof next === 'string') throw new NodeOperationError(ctx.getNode(), next, { itemIndex });
			task = await made(next);
		}
	} catch (error) {
		throw chainError(ctx, itemIndex, error, chain);
	}
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
		throw chainError(ctx, itemIndex, error, chain);
	}
}

/**
 * Poll mode: the steps one after another, each created and waited for through the run's executor
 * (its slots, uploads and registry of paid tasks); the last step's video is the item's output.
 */
export async function execute(
	this: IExecuteFunctions,
	dialogue: CastDialogue,
	run: RunSettings,
	executor: TaskExecutor,
): Promise<INodeExecutionData | undefined> {
	const chain = startChain(dialogue);
	const createStep: CreateStep = async (request) => (await executor.execute(request, undefined)).task;
	const ended = await advanceChain(this, run.api, chain, createStep, () => executor.cancelled);
	return ended === 'done' ? await chainOutput(this, dialogue.plan.itemIndex, chain, run.wait) : undefined;
}
