import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { KLING_LIMITS } from '../../helpers/constants';
import {
	checkId,
	checkMilliseconds,
	checkTiming,
	type SceneBounds,
} from '../../helpers/validation';
import {
	maxInFlightOption,
	waitFields,
	waitForCompletionField,
	waitModeField,
} from '../common.descriptions';
import type { RunSettings, TaskRequest } from '../node.type';
import { failOn, requireSupport } from '../params';
import { audioSourceFields, resolveAudio } from '../shared/audioSource';
import {
	createOptionFields,
	readCreateOptions,
	taskCreateFields,
	type CreateOptionValues,
} from '../shared/createOptions';

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
		displayName: 'Crop Start (Ms)',
		name: 'cropStartMs',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description: 'Where in the audio the used part starts, in milliseconds',
	},
	{
		displayName: 'Crop End (Ms)',
		name: 'cropEndMs',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description:
			'Where in the audio the used part ends, in milliseconds. 0 means the end of the audio, measured from the file. Required for a Kling Audio ID.',
		hint: 'The used part must be at least 2000 ms long',
	},
	{
		displayName: 'Insert At (Ms)',
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
				description: 'Kling POSTs the task to this URL whenever its status changes',
			},
			createOptionFields.externalTaskId,
			createOptionFields.newTaskEveryRun,
			{
				displayName: 'Face Window End (Ms)',
				name: 'faceEndMs',
				type: 'number',
				default: 0,
				description:
					"End of the face's lip-sync window, to check the 2 s overlap before submitting. Taken from the input item (end_time) when it comes from Identify Face.",
			},
			{
				displayName: 'Face Window Start (Ms)',
				name: 'faceStartMs',
				type: 'number',
				default: 0,
				description:
					"Start of the face's lip-sync window, to check the 2 s overlap before submitting. Taken from the input item (start_time) when it comes from Identify Face.",
			},
			maxInFlightOption(),
			createOptionFields.originalAudioVolume,
			{
				displayName: 'Video Duration (Ms)',
				name: 'videoDurationMs',
				type: 'number',
				default: 0,
				description:
					'Length of the video, to check before submitting that the audio ends within it',
			},
			createOptionFields.watermark,
		],
	},
];

export const description = updateDisplayOptions({ show: { operation: ['lipSync'] } }, properties);

interface LipSyncOptions extends CreateOptionValues {
	faceStartMs?: number;
	faceEndMs?: number;
	videoDurationMs?: number;
	maxInFlight?: number;
}

/**
 * The face window to check against: the user's options, else the input item when it is an
 * Identify Face output for the same face (so Identify Face -> Lip Sync is checked locally).
 */
function sceneBounds(options: LipSyncOptions, input: IDataObject, faceId: string): SceneBounds {
	const positive = (value: unknown): number | undefined =>
		typeof value === 'number' && value > 0 ? value : undefined;
	const fromInput =
		String(input.face_id) === faceId &&
		typeof input.start_time === 'number' &&
		typeof input.end_time === 'number';
	const faceEndMs =
		positive(options.faceEndMs) ?? (fromInput ? (input.end_time as number) : undefined);
	return {
		faceStartMs:
			faceEndMs === undefined
				? undefined
				: (options.faceStartMs ?? (fromInput ? (input.start_time as number) : 0)),
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
	const sessionId = this.getNodeParameter('sessionId', itemIndex) as unknown;
	failOn.call(this, itemIndex, checkId('Session ID', sessionId));
	const faceId = this.getNodeParameter('faceId', itemIndex) as unknown;
	failOn.call(this, itemIndex, checkId('Face ID', faceId));
	const options = this.getNodeParameter('options', itemIndex, {}) as LipSyncOptions;
	const create = readCreateOptions.call(this, itemIndex, options, run);

	const cropStartMs = this.getNodeParameter('cropStartMs', itemIndex) as number;
	const requestedEnd = this.getNodeParameter('cropEndMs', itemIndex) as number;
	const insertMs = this.getNodeParameter('insertMs', itemIndex) as number;
	const audio = await resolveAudio.call(this, itemIndex, run.audioReads);
	failOn.call(
		this,
		itemIndex,
		requestedEnd === undefined
			? undefined
			: checkMilliseconds('Crop End (ms)', requestedEnd, KLING_LIMITS.maxAudioMs),
	);
	const cropEndOmitted = requestedEnd === 0 || requestedEnd === undefined;
	if (cropEndOmitted && audio.durationMs === undefined) {
		failOn.call(
			this,
			itemIndex,
			'Crop End (ms) is required with a Kling Audio ID: the node cannot measure audio it does not have',
		);
	}
	const cropEndMs = cropEndOmitted ? (audio.durationMs as number) : requestedEnd;
	const timing = { cropStartMs, cropEndMs, insertMs };
	const normalisedFaceId = (faceId as string).trim();
	const input = this.getInputData()[itemIndex]?.json ?? {};
	failOn.call(
		this,
		itemIndex,
		checkTiming(timing, audio.durationMs, sceneBounds(options, input, normalisedFaceId)),
	);
	if (audio.audioId) requireSupport.call(this, itemIndex, run.api, 'audioId');
	const session = (sessionId as string).trim();
	const fields = taskCreateFields(
		create,
		{
			subject: `session:${session}`,
			faceId: normalisedFaceId,
			audio: audio.fingerprint,
			...timing,
		},
		sessionVideo(input, session),
	);
	return {
		itemIndex,
		create: {
			sessionId: session,
			faceId: normalisedFaceId,
			audioId: audio.audioId,
			...timing,
			...fields,
		},
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
