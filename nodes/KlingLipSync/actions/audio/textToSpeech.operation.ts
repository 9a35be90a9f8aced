import type {
	IExecuteFunctions,
	ILoadOptionsFunctions,
	INodeExecutionData,
	INodeListSearchResult,
	INodeProperties,
} from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';

import { KLING_LIMITS } from '../../helpers/constants';
import { searchVoices } from '../../helpers/voices';
import { checkId, notANumber } from '../../helpers/validation';
import type { TextToSpeechInput } from '../../transport/types';
import type { RunSettings } from '../node.type';
import { failOn, requireSupport, unsupported } from '../params';

const properties: INodeProperties[] = [
	{
		displayName: 'Text',
		name: 'text',
		type: 'string',
		typeOptions: { rows: 4 },
		default: '',
		required: true,
		description: 'What the voice says, at most 1000 characters',
	},
	{
		displayName: 'Voice',
		name: 'voice',
		type: 'resourceLocator',
		default: { mode: 'list', value: 'oversea_male1' },
		required: true,
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				typeOptions: { searchListMethod: 'searchVoices', searchable: true },
			},
			{ displayName: 'By ID', name: 'id', type: 'string', placeholder: 'e.g. oversea_male1' },
		],
	},
	{
		displayName: 'Language',
		name: 'language',
		type: 'options',
		options: [
			{ name: 'English', value: 'en' },
			{ name: 'Chinese', value: 'zh' },
		],
		default: 'en',
	},
	{
		displayName: 'Speed',
		name: 'speed',
		type: 'number',
		typeOptions: { minValue: 0.8, maxValue: 2, numberPrecision: 1 },
		default: 1,
		description: 'From 0.8 (slower) to 2.0 (faster)',
	},
];

export const description = updateDisplayOptions(
	{ show: { operation: ['textToSpeech'] } },
	properties,
);

/** The Voice list: Kling's voices, searchable by name, id or language. */
export async function listVoices(
	this: ILoadOptionsFunctions,
	filter?: string,
): Promise<INodeListSearchResult> {
	return {
		results: searchVoices(filter).map((voice) => ({
			name: `${voice.name} (${voice.language}, ${voice.id})`,
			value: voice.id,
		})),
	};
}

export interface TextToSpeechPlan {
	itemIndex: number;
	input: TextToSpeechInput;
}

export async function plan(
	this: IExecuteFunctions,
	itemIndex: number,
	run: RunSettings,
): Promise<TextToSpeechPlan> {
	const text = this.getNodeParameter('text', itemIndex) as unknown;
	if (typeof text !== 'string' || text.trim() === '')
		failOn.call(this, itemIndex, 'Text is required');
	const length = [...(text as string)].length;
	if (length > KLING_LIMITS.maxTtsChars)
		failOn.call(this, itemIndex, `Text must be at most 1000 characters (it has ${length})`);
	const voiceId = this.getNodeParameter('voice', itemIndex, '', { extractValue: true }) as unknown;
	failOn.call(this, itemIndex, checkId('Voice', voiceId));
	const language = this.getNodeParameter('language', itemIndex) as string;
	if (language !== 'en' && language !== 'zh')
		failOn.call(
			this,
			itemIndex,
			`Language must be en or zh (got "${String(language).slice(0, 20)}")`,
		);
	const speed = this.getNodeParameter('speed', itemIndex) as unknown;
	failOn.call(this, itemIndex, notANumber('Speed', speed, 'a number from 0.8 to 2.0'));
	if (typeof speed !== 'number' || !(speed >= 0.8 && speed <= 2))
		failOn.call(this, itemIndex, `Speed must be from 0.8 to 2.0 (got ${String(speed)})`);
	requireSupport.call(this, itemIndex, run.api, 'textToSpeech');
	return {
		itemIndex,
		input: {
			text: (text as string).trim(),
			voiceId: (voiceId as string).trim(),
			language: language as 'en' | 'zh',
			speed: speed as number,
		},
	};
}

export async function execute(
	this: IExecuteFunctions,
	{ itemIndex, input }: TextToSpeechPlan,
	run: RunSettings,
): Promise<INodeExecutionData[]> {
	if (!run.api.textToSpeech) throw unsupported.call(this, itemIndex, run.api, 'textToSpeech');
	const speech = await run.api.textToSpeech(input);
	const audio = speech.audios[0];
	if (speech.status === 'failed' || !audio?.id) {
		throw new NodeOperationError(
			this.getNode(),
			`Kling text to speech ${speech.status === 'failed' ? 'failed' : 'returned no audio'}: ${speech.statusMessage ?? 'no reason given'}`,
			{
				itemIndex,
				description: `task_id ${speech.taskId}. Check the voice and language.`,
			},
		);
	}
	return [
		{
			json: {
				audio_id: audio.id,
				audio_url: audio.url,
				audio_duration_ms: audio.durationMs ?? null,
				audio_duration: audio.durationMs === undefined ? null : audio.durationMs / 1000,
				task_id: speech.taskId,
				voice_id: input.voiceId,
				voice_language: input.language,
				voice_speed: input.speed,
			},
		},
	];
}
