import type { IExecuteFunctions, INodeProperties, NodeHint } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { KLING_LIMITS } from '../../helpers/constants';
import { checkAudioAfterCropStart } from '../../helpers/faceFit';
import { checkMilliseconds } from '../../helpers/validation';
import { maxInFlightOption, waitFields, waitModeField } from '../common.descriptions';
import type { RunSettings } from '../node.type';
import { failOn, requireSupport } from '../params';
import { audioSourceFields, resolveAudio } from '../shared/audioSource';
import {
	createOptionFields,
	readCreateOptions,
	type CreateOptionValues,
} from '../shared/createOptions';
import { faceChoiceFields, readFaceChoice } from '../shared/faceChoice';
import { readVideo, videoSourceFields } from '../shared/videoSource';
import type { DialoguePlan, SpeakerPlacement, SpeakerPlan } from './dialogue';

/** One speaker's fields: their face, their audio, where it goes. */
const speakerFields: INodeProperties[] = [
	...faceChoiceFields(['visibleAt', 'index', 'faceId']),
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
		displayName: 'Insert At (Ms)',
		name: 'insertMs',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description: "Where on the video the clip starts; it must end inside the face's window",
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
	{
		displayName: 'Crop End (Ms)',
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
	...waitFields('dubDialogue'),
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			createOptionFields.soundVolume,
			{
				...maxInFlightOption(),
				description:
					'How many dialogues (items) are dubbed at once; each holds one Kling task at a time',
			},
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
		displayCondition: `={{ $parameter["operation"] === "dubDialogue" && (($parameter["speakers"] && $parameter["speakers"].speaker) || []).length === ${count} }}`,
	};
});

/** What a run of dialogues costs, for n8n's output pane once it ran. */
export function runCostHint(dialogues: number, speakers: number, reused: number): string {
	return `This run: ${dialogues} dialogue(s), ${speakers} lip-sync task(s)${reused ? ` (${reused} taken over from an earlier run, not paid again)` : ''} and ${speakers} Identify Face call(s).`;
}

const speakerPath = (position: number): string => `speakers.speaker[${position}].`;

function readPlacement(
	this: IExecuteFunctions,
	itemIndex: number,
	at: string,
	name: string,
	audioMs: number,
): SpeakerPlacement {
	const kind = this.getNodeParameter(
		`${at}placement`,
		itemIndex,
		'fullLength',
	) as SpeakerPlacement['kind'];
	if (kind === 'fullLength') return { kind };
	failOn.call(
		this,
		itemIndex,
		kind === 'clip'
			? undefined
			: `${name}: Audio Placement must be fullLength or clip (got "${String(kind).slice(0, 40)}")`,
	);
	const insertMs = this.getNodeParameter(`${at}insertMs`, itemIndex, 0) as unknown;
	const cropStartMs = this.getNodeParameter(`${at}cropStartMs`, itemIndex, 0) as unknown;
	const cropEndMs = this.getNodeParameter(`${at}cropEndMs`, itemIndex, 0) as unknown;
	failOn.call(this, itemIndex, checkMilliseconds(`${name}: Insert At (ms)`, insertMs));
	failOn.call(
		this,
		itemIndex,
		checkMilliseconds(`${name}: Crop Start (ms)`, cropStartMs, KLING_LIMITS.maxAudioMs),
	);
	failOn.call(
		this,
		itemIndex,
		checkMilliseconds(`${name}: Crop End (ms)`, cropEndMs, KLING_LIMITS.maxAudioMs),
	);
	const end = (cropEndMs as number) || audioMs;
	if (end > audioMs)
		failOn.call(
			this,
			itemIndex,
			`${name}: Crop End (ms) ${end} is past the end of the audio (${audioMs} ms)`,
		);
	const tooShort = checkAudioAfterCropStart(end, cropStartMs as number);
	if (tooShort) failOn.call(this, itemIndex, `${name}: ${tooShort}`);
	return { kind, insertMs: insertMs as number, cropStartMs: cropStartMs as number, cropEndMs: end };
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
	const video = readVideo.call(this, itemIndex, run.api);
	const count = (this.getNodeParameter('speakers.speaker', itemIndex, []) as unknown[]).length;
	failOn.call(
		this,
		itemIndex,
		count > 0 ? undefined : 'Speakers: add at least one speaker (a face and its audio)',
	);
	failOn.call(
		this,
		itemIndex,
		count <= MAX_SPEAKERS
			? undefined
			: `Speakers: at most ${MAX_SPEAKERS} (got ${count}); each one re-encodes the video once more`,
	);
	// Every step after the first identifies the video the step before made, by its Kling video id.
	if (count > 1) requireSupport.call(this, itemIndex, run.api, 'videoId');
	// A Callback-mode run finds its dialogues' steps in the account's task list.
	if (run.waitMode === 'callback') requireSupport.call(this, itemIndex, run.api, 'listTasks');
	const speakers: SpeakerPlan[] = [];
	for (let position = 0; position < count; position++) {
		const at = speakerPath(position);
		const name = `Speaker ${position + 1}`;
		const face = readFaceChoice.call(this, itemIndex, 'visibleAt', at, `${name}: `);
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
			failOn.call(
				this,
				itemIndex,
				`${name}: Dub Dialogue needs the audio's length: with a Kling Audio ID, feed it from Text to Speech (audio_duration_ms), or give the audio as a URL or file`,
			);
		}
		const audioMs = audio.durationMs as number;
		speakers.push({
			face,
			audio,
			audioMs,
			placement: readPlacement.call(this, itemIndex, at, name, audioMs),
		});
	}
	failOn.call(this, itemIndex, sameFaceNamed(speakers));
	const options = this.getNodeParameter('options', itemIndex, {}) as CreateOptionValues;
	return {
		itemIndex,
		video,
		speakers,
		create: readCreateOptions.call(this, itemIndex, options, run),
	};
}
