import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { KLING_LIMITS } from '../../helpers/constants';
import { checkAudioAfterCropStart } from '../../helpers/faceFit';
import { maxInFlightOption, waitFields, waitModeField } from '../common.descriptions';
import type { RunSettings } from '../node.type';
import { ItemParameters } from '../params';
import { audioSourceFields, resolveAudio } from '../shared/audioSource';
import { createOptionFields, readCreateOptions } from '../shared/createOptions';
import { faceChoiceFields, readFaceChoice } from '../shared/faceChoice';
import { readVideo, videoSourceFields } from '../shared/videoSource';
import { MAX_SPEAKERS } from './cost';
import type { DialoguePlan, SpeakerPlacement, SpeakerPlan } from './dialogue';

/** How a speaker's face is chosen; a new speaker takes the next face no other speaker has. */
const SPEAKER_FACE_CHOICES = ['nextFree', 'visibleAt', 'index', 'faceId'] as const;

/** One speaker's fields: their face, their audio, where it goes. */
const speakerFields: INodeProperties[] = [
	...faceChoiceFields(SPEAKER_FACE_CHOICES),
	...audioSourceFields,
	{
		displayName: 'Audio Placement',
		name: 'placement',
		type: 'options',
		options: [
			{
				name: 'Full-Length Track',
				value: 'fullLength',
				description:
					"The track runs alongside the whole video (silence where others speak); the part inside the face's window is used",
			},
			{
				name: 'Clip at Insert At',
				value: 'clip',
				description: 'A clip of this speaker alone, placed at Insert At on the video',
			},
		],
		default: 'fullLength',
	},
	{
		displayName: 'Insert At (Milliseconds)',
		name: 'insertMs',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description: "Where on the video the clip starts; it must end inside the face's window",
		displayOptions: { show: { placement: ['clip'] } },
	},
	{
		displayName: 'Crop Start (Milliseconds)',
		name: 'cropStartMs',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description: 'Skip this much of the start of the clip',
		displayOptions: { show: { placement: ['clip'] } },
	},
	{
		displayName: 'Crop End (Milliseconds)',
		name: 'cropEndMs',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description: 'Where the used part of the clip ends; 0 = the end of the clip',
		displayOptions: { show: { placement: ['clip'] } },
	},
];

const properties: INodeProperties[] = [
	...videoSourceFields,
	{
		// n8n's editor shows no hint under a list of entries: a notice above it does show.
		displayName:
			'Speakers are lip-synced top to bottom. n8n does not number them: the top one is Speaker 1, as errors name them. Each costs one lip-sync task and one Identify Face call, and re-encodes the video. A new speaker takes the next face no other speaker has (Face: Next Free Face)',
		name: 'speakersNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Speakers',
		name: 'speakers',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true, sortable: true },
		placeholder: 'Add Speaker',
		default: {},
		options: [{ name: 'speaker', displayName: 'Speaker', values: speakerFields }],
	},
	{ ...waitModeField, displayOptions: undefined },
	...waitFields('dubDialogue'),
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			createOptionFields.soundVolume,
			maxInFlightOption(
				'How many dialogues (items) are dubbed at once; each holds one Kling task at a time',
			),
			createOptionFields.newTaskEveryRun,
			createOptionFields.originalAudioVolume,
			createOptionFields.watermark,
		],
	},
];

export const description = updateDisplayOptions(
	{ show: { operation: ['dubDialogue'] } },
	properties,
);

const speakerPath = (position: number): string => `speakers.speaker[${position}].`;

function readPlacement(speaker: ItemParameters, audioMs: number): SpeakerPlacement {
	const kind = speaker.choice('placement', 'Audio Placement', ['fullLength', 'clip'], 'fullLength');
	if (kind === 'fullLength') return { kind };
	const insertMs = speaker.ms('insertMs', 'Insert At (Milliseconds)');
	const cropStartMs = speaker.ms(
		'cropStartMs',
		'Crop Start (Milliseconds)',
		KLING_LIMITS.maxAudioMs,
	);
	const end =
		speaker.ms('cropEndMs', 'Crop End (Milliseconds)', KLING_LIMITS.maxAudioMs) || audioMs;
	if (end > audioMs)
		speaker.fail(`Crop End (Milliseconds) ${end} is past the end of the audio (${audioMs} ms)`);
	speaker.check(checkAudioAfterCropStart(end, cropStartMs));
	return { kind, insertMs, cropStartMs, cropEndMs: end };
}

/** Two speakers who name the same face by index or id: known before anything is sent. */
function sameFaceNamed(speakers: SpeakerPlan[]): string | undefined {
	const seen = new Map<string, number>();
	for (const [position, { face }] of speakers.entries()) {
		const key =
			face.by === 'index'
				? `index ${face.index}`
				: face.by === 'faceId'
					? `ID ${face.faceId}`
					: undefined;
		if (key === undefined) continue;
		const earlier = seen.get(key);
		if (earlier !== undefined)
			return `Speaker ${position + 1} and Speaker ${earlier + 1} both name the face with ${key}: each speaker needs a face of their own`;
		seen.set(key, position);
	}
	return undefined;
}

export async function plan(
	this: IExecuteFunctions,
	itemIndex: number,
	run: RunSettings,
): Promise<DialoguePlan> {
	const item = new ItemParameters(this, itemIndex);
	const video = readVideo(item, run.api);
	const listed = item.raw('speakers.speaker', []);
	const count = Array.isArray(listed) ? listed.length : 0;
	if (count === 0) item.fail('Speakers: add at least one speaker (a face and its audio)');
	if (count > MAX_SPEAKERS) {
		item.fail(
			`Speakers: at most ${MAX_SPEAKERS} (got ${count}); each one re-encodes the video once more`,
		);
	}
	// Every step after the first identifies the video the step before made, by its Kling video id.
	if (count > 1) item.requireSupport(run.api, 'videoId');
	// A Callback-mode run finds its dialogues' steps in the account's task list.
	if (run.waitMode === 'callback') item.requireSupport(run.api, 'listTasks');
	const speakers: SpeakerPlan[] = [];
	for (let position = 0; position < count; position++) {
		const speaker: ItemParameters = item.within(speakerPath(position), `Speaker ${position + 1}: `);
		const face = readFaceChoice(speaker, SPEAKER_FACE_CHOICES);
		const audio = await resolveAudio(speaker, run.audioReads);
		if (audio.audioId) speaker.requireSupport(run.api, 'audioId');
		if (run.waitMode === 'callback' && position > 0 && audio.sound && !('url' in audio.sound)) {
			speaker.fail(
				"in Callback wait mode the audio of every speaker after the first must be a URL or a Kling Audio ID: their steps are made by the webhook that receives Kling's callback, and n8n gives it no access to the item's files. Use Wait Mode Poll, or give the audio as a URL",
			);
		}
		const audioMs = audio.durationMs;
		if (audioMs === undefined) {
			speaker.fail(
				"Dub Dialogue needs the audio's length: with a Kling Audio ID, feed it from Text to Speech (audio_duration_ms), or give the audio as a URL or file",
			);
		}
		speakers.push({ face, audio, audioMs, placement: readPlacement(speaker, audioMs) });
	}
	item.check(sameFaceNamed(speakers));
	return { itemIndex, video, speakers, create: readCreateOptions(item, run) };
}
