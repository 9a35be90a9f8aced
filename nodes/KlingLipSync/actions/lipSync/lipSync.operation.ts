import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { KLING_LIMITS } from '../../helpers/constants';
import { checkTiming, type SceneBounds } from '../../helpers/validation';
import {
	maxInFlightOption,
	waitFields,
	waitForCompletionField,
	waitModeField,
} from '../common.descriptions';
import type { RunSettings, TaskRequest } from '../node.type';
import { ItemParameters } from '../params';
import { audioSourceFields, resolveAudio } from '../shared/audioSource';
import { createOptionFields, readCreateOptions, taskCreateFields } from '../shared/createOptions';

const properties: INodeProperties[] = [
	{
		displayName: 'Session ID',
		name: 'sessionId',
		type: 'string',
		default: '={{ $json.session_id }}',
		required: true,
		description: 'The session_id from Identify Face (valid for 24 hours)',
	},
	{
		displayName: 'Face ID',
		name: 'faceId',
		type: 'string',
		default: '={{ $json.face_id }}',
		required: true,
		description: 'The face_id from Identify Face ("0" is a valid ID)',
	},
	...audioSourceFields,
	{
		displayName: 'Crop Start (Milliseconds)',
		name: 'cropStartMs',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description: 'Where in the audio the used part starts, in milliseconds',
	},
	{
		displayName: 'Crop End (Milliseconds)',
		name: 'cropEndMs',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description:
			'Where in the audio the used part ends, in milliseconds. 0 means the end of the audio, measured from the file. Required for a Kling Audio ID.',
		hint: '0 = the end of the audio, measured from the file (with a Kling Audio ID give the end). The used part must be at least 2000 ms long',
	},
	{
		displayName: 'Insert At (Milliseconds)',
		name: 'insertMs',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description:
			"Where on the video the audio starts, in milliseconds. The audio must end within the video and overlap the face's window by at least 2000 ms.",
	},
	{ ...waitForCompletionField('lipSync'), default: true },
	waitModeField,
	...waitFields('lipSync'),
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			createOptionFields.soundVolume,
			{
				displayName: 'Callback URL',
				name: 'callbackUrl',
				type: 'string',
				default: '',
				placeholder: 'e.g. https://your-n8n.example.com/webhook/kling-lipsync',
				description:
					"Kling POSTs the task to this URL whenever its status changes, e.g. a Kling Lip Sync Trigger's Production URL. Leave it empty in Callback wait mode: the node sets it to this execution.",
			},
			createOptionFields.externalTaskId,
			createOptionFields.newTaskEveryRun,
			{
				displayName: 'Face Window From (Milliseconds)',
				name: 'faceStartMs',
				type: 'number',
				default: 0,
				description:
					"Start of the face's lip-sync window, to check the 2 s overlap before submitting. Taken from the input item (start_time) when it comes from Identify Face.",
			},
			{
				displayName: 'Face Window To (Milliseconds)',
				name: 'faceEndMs',
				type: 'number',
				default: 0,
				description:
					"End of the face's lip-sync window, to check the 2 s overlap before submitting. Taken from the input item (end_time) when it comes from Identify Face.",
				hint: '0: not set (the window is then taken from the input item, when it comes from Identify Face)',
			},
			maxInFlightOption(),
			createOptionFields.originalAudioVolume,
			{
				displayName: 'Video Duration (Milliseconds)',
				name: 'videoDurationMs',
				type: 'number',
				default: 0,
				description:
					'Length of the video, to check before submitting that the audio ends within it',
				hint: '0: not set (the end of the video is then not checked before submitting)',
			},
			createOptionFields.watermark,
		],
	},
];

export const description = updateDisplayOptions({ show: { operation: ['lipSync'] } }, properties);

/**
 * The face window to check against: the user's options, else the input item when it is an
 * Identify Face output for the same face (so Identify Face -> Lip Sync is checked locally).
 */
function sceneBounds(item: ItemParameters, input: IDataObject, faceId: string): SceneBounds {
	const positive = (value: unknown): number | undefined =>
		typeof value === 'number' && value > 0 ? value : undefined;
	const window =
		String(input.face_id) === faceId &&
		typeof input.start_time === 'number' &&
		typeof input.end_time === 'number'
			? { startMs: input.start_time, endMs: input.end_time }
			: undefined;
	const options = item.collection('options');
	const faceEndMs = positive(options.faceEndMs) ?? window?.endMs;
	const ownStart = options.faceStartMs;
	return {
		faceStartMs:
			faceEndMs === undefined
				? undefined
				: typeof ownStart === 'number'
					? ownStart
					: (window?.startMs ?? 0),
		faceEndMs,
		videoDurationMs: positive(options.videoDurationMs),
	};
}

/** Reads and checks one item (the audio is measured; nothing billed): the task to create, as plain data. */
export async function plan(
	this: IExecuteFunctions,
	itemIndex: number,
	run: RunSettings,
): Promise<TaskRequest> {
	const item: ItemParameters = new ItemParameters(this, itemIndex);
	const session = item.id('sessionId', 'Session ID');
	const faceId = item.id('faceId', 'Face ID');
	const create = readCreateOptions(item, run);
	const cropStartMs = item.ms('cropStartMs', 'Crop Start (Milliseconds)', KLING_LIMITS.maxAudioMs);
	const requestedEnd = item.ms('cropEndMs', 'Crop End (Milliseconds)', KLING_LIMITS.maxAudioMs);
	const insertMs = item.ms('insertMs', 'Insert At (Milliseconds)');
	const audio = await resolveAudio(item, run.audioReads);
	// 0: the end of the audio, measured from the file.
	const cropEndMs = requestedEnd || audio.durationMs;
	if (cropEndMs === undefined) {
		item.fail(
			'Crop End (Milliseconds) is required with a Kling Audio ID: the node cannot measure audio it does not have',
		);
	}
	const timing = { cropStartMs, cropEndMs, insertMs };
	const input = this.getInputData()[itemIndex]?.json ?? {};
	item.check(checkTiming(timing, audio.durationMs, sceneBounds(item, input, faceId)));
	if (audio.audioId) item.requireSupport(run.api, 'audioId');
	const fields = taskCreateFields(
		create,
		{ subject: `session:${session}`, faceId, audio: audio.fingerprint, ...timing },
		sessionVideo(input, session),
	);
	return {
		itemIndex,
		create: { sessionId: session, faceId, audioId: audio.audioId, ...timing, ...fields },
		audio,
	};
}

/** A Lip Sync plan is its task already: every field comes from the item. */
export async function request(this: IExecuteFunctions, planned: TaskRequest): Promise<TaskRequest> {
	return planned;
}

/** The session's video, when the input item is the Identify Face output of that session. */
function sessionVideo(
	input: IDataObject,
	sessionId: string,
): { url?: string; id?: string } | undefined {
	if (String(input.session_id) !== sessionId) return undefined;
	const text = (value: unknown) => (typeof value === 'string' && value ? value : undefined);
	return { url: text(input.video_url), id: text(input.video_id) };
}
