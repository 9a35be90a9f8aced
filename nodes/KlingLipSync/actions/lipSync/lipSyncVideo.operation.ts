import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';

import {
	checkAudioAfterCropStart,
	chooseFace,
	fitAudio,
	type FaceChoice,
} from '../../helpers/faceFit';
import { KLING_LIMITS } from '../../helpers/constants';
import type { IdentifyFaceInput } from '../../transport/types';
import {
	maxInFlightOption,
	waitFields,
	waitForCompletionField,
	waitModeField,
} from '../common.descriptions';
import type { RunSettings, TaskRequest } from '../node.type';
import { ItemParameters } from '../params';
import { audioSourceFields, resolveAudio, type ResolvedAudio } from '../shared/audioSource';
import {
	createOptionFields,
	readCreateOptions,
	taskCreateFields,
	type CreateOptions,
} from '../shared/createOptions';
import { faceChoiceFields, readFaceChoice } from '../shared/faceChoice';
import { readVideo, videoSourceFields } from '../shared/videoSource';

/** How the face is chosen: by default the one whose window holds most of the audio. */
const FACE_CHOICES = ['mostOverlap', 'visibleAt', 'index', 'faceId'] as const;

const properties: INodeProperties[] = [
	...videoSourceFields,
	...audioSourceFields,
	...faceChoiceFields(FACE_CHOICES),
	{ ...waitForCompletionField('lipSyncVideo'), default: true },
	waitModeField,
	...waitFields('lipSyncVideo'),
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			createOptionFields.soundVolume,
			{
				displayName: 'Crop Start (Milliseconds)',
				name: 'cropStartMs',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 0,
				description: 'Skip this much of the start of the audio',
			},
			createOptionFields.externalTaskId,
			{
				displayName: 'Insert At (Milliseconds)',
				name: 'insertMs',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 0,
				description:
					"Where on the video the audio starts. Without this option it starts where the face's window starts.",
			},
			maxInFlightOption(),
			createOptionFields.newTaskEveryRun,
			createOptionFields.originalAudioVolume,
			createOptionFields.watermark,
		],
	},
];

export const description = updateDisplayOptions(
	{ show: { operation: ['lipSyncVideo'] } },
	properties,
);

/** One Lip Sync Video item, checked (the audio measured; nothing billed): what to identify and how to fit. */
export interface LipSyncVideoPlan {
	itemIndex: number;
	video: IdentifyFaceInput;
	audio: ResolvedAudio;
	audioMs: number;
	choice: FaceChoice;
	cropStartMs: number;
	/** Without it, the audio starts where the chosen face's window starts. */
	insertMs?: number;
	create: CreateOptions;
}

export async function plan(
	this: IExecuteFunctions,
	itemIndex: number,
	run: RunSettings,
): Promise<LipSyncVideoPlan> {
	const item: ItemParameters = new ItemParameters(this, itemIndex);
	const video = readVideo(item, run.api);
	const audio = await resolveAudio(item, run.audioReads);
	if (audio.audioId) item.requireSupport(run.api, 'audioId');
	const audioMs = audio.durationMs;
	if (audioMs === undefined) {
		item.fail(
			"Lip Sync Video needs the audio's length: with a Kling Audio ID, feed it from Text to Speech (audio_duration_ms) or use Lip Sync",
		);
	}
	const choice = readFaceChoice(item, FACE_CHOICES);
	const cropStartMs = item.ms(
		'options.cropStartMs',
		'Crop Start (Milliseconds)',
		KLING_LIMITS.maxAudioMs,
	);
	const insertMs =
		item.collection('options').insertMs === undefined
			? undefined
			: item.ms('options.insertMs', 'Insert At (Milliseconds)');
	item.check(checkAudioAfterCropStart(audioMs, cropStartMs));
	const create = readCreateOptions(item, run);
	return { itemIndex, video, audio, audioMs, choice, cropStartMs, insertMs, create };
}

/**
 * Identifies the faces (one billed identify), chooses one and fits the audio into its window
 * (trimming the end when the audio is longer, and saying so): the task to create.
 */
export async function request(
	this: IExecuteFunctions,
	planned: LipSyncVideoPlan,
	run: RunSettings,
): Promise<TaskRequest> {
	const { itemIndex, video, audio, audioMs, choice, cropStartMs, insertMs } = planned;
	const identified = await run.api.identifyFace(video);
	const stop = (message: string): NodeOperationError => {
		const error = new NodeOperationError(this.getNode(), message, {
			itemIndex,
			description: `session_id ${identified.sessionId}. No lip-sync task was created.`,
		});
		error.context.session_id = identified.sessionId;
		return error;
	};
	const chosen = chooseFace(identified.faces, audioMs - cropStartMs, choice, insertMs);
	if (typeof chosen === 'string') throw stop(chosen);
	const face = identified.faces[chosen];
	const fit = fitAudio(face, audioMs, cropStartMs, insertMs);
	if (typeof fit === 'string') throw stop(fit);

	const timing = { cropStartMs: fit.cropStartMs, cropEndMs: fit.cropEndMs, insertMs: fit.insertMs };
	// Keyed by the video, not the session: a retry identifies again (a new session) and still
	// finds the task it paid for.
	const subject = video.videoId ? `video_id:${video.videoId}` : `video_url:${video.videoUrl ?? ''}`;
	const fields = taskCreateFields(
		planned.create,
		{ subject, faceId: face.faceId, audio: audio.fingerprint, ...timing },
		{ url: video.videoUrl, id: video.videoId },
	);
	const details: IDataObject = {
		session_id: identified.sessionId,
		face_count: identified.faces.length,
		identify_units: identified.units ?? null,
		face_id: face.faceId,
		face_index: chosen,
		face_start_time: face.startMs ?? null,
		face_end_time: face.endMs ?? null,
		audio_id: audio.audioId ?? null,
		audio_duration_ms: audioMs,
		crop_start_time: fit.cropStartMs,
		crop_end_time: fit.cropEndMs,
		insert_time: fit.insertMs,
		trimmed: fit.trimmedMs > 0,
		trimmed_ms: fit.trimmedMs,
		...(fit.trimmedMs > 0
			? {
					note: `The audio is ${fit.trimmedMs} ms longer than face ${face.faceId}'s window from ${fit.insertMs} ms: its end was cut`,
				}
			: {}),
	};
	return {
		itemIndex,
		create: {
			sessionId: identified.sessionId,
			faceId: face.faceId,
			audioId: audio.audioId,
			...timing,
			...fields,
		},
		audio,
		details,
	};
}
