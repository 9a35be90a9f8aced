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
import { checkId } from '../../helpers/validation';
import type { TextToSpeechInput } from '../../transport/types';
import type { RunSettings } from '../node.type';
import { ItemParameters } from '../params';

const properties: INodeProperties[] = [
	{
		displayName: 'Text',
		name: 'text',
		type: 'string',
		typeOptions: { rows: 4 },
		default: '',
		required: true,
		description: 'What the voice says',
		hint: 'At most 1,000 characters',
	},
	{
		displayName: 'Voice',
		name: 'voice',
		type: 'resourceLocator',
		default: {
			mode: 'list',
			value: 'oversea_male1',
			cachedResultName: 'Cheerful young man (en, oversea_male1)',
		},
		hint: 'The list shows the voices of the Language below; any other Kling voice_id goes By ID',
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
		hint: 'From 0.8 (slower) to 2.0 (faster)',
	},
];

export const description = updateDisplayOptions(
	{ show: { operation: ['textToSpeech'] } },
	properties,
);

/** The Voice list: Kling's voices of the chosen Language, searchable by name or id. */
export async function listVoices(
	this: ILoadOptionsFunctions,
	filter?: string,
): Promise<INodeListSearchResult> {
	// Unset is the field's default.
	const language = this.getCurrentNodeParameter('language') ?? 'en';
	return {
		results: searchVoices(filter)
			.filter((voice) =>
				language !== 'en' && language !== 'zh' ? true : voice.language === language,
			)
			.map((voice) => ({
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
	const item: ItemParameters = new ItemParameters(this, itemIndex);
	const text = item.raw('text');
	if (typeof text !== 'string' || text.trim() === '') item.fail('Text is required');
	const length = [...text].length;
	if (length > KLING_LIMITS.maxTtsChars) {
		item.fail(`Text must be at most 1000 characters (it has ${length})`);
	}
	const voiceId = this.getNodeParameter('voice', itemIndex, '', { extractValue: true });
	item.check(checkId('Voice', voiceId));
	const language = item.choice('language', 'Language', ['en', 'zh'], 'en');
	const speed = item.number('speed', 'Speed', 'a number from 0.8 to 2.0');
	if (!(speed >= 0.8 && speed <= 2)) item.fail(`Speed must be from 0.8 to 2.0 (got ${speed})`);
	item.requireSupport(run.api, 'textToSpeech');
	return {
		itemIndex,
		input: { text: text.trim(), voiceId: String(voiceId).trim(), language, speed },
	};
}

export async function execute(
	this: IExecuteFunctions,
	{ itemIndex, input }: TextToSpeechPlan,
	run: RunSettings,
): Promise<INodeExecutionData[]> {
	if (!run.api.textToSpeech) {
		throw new ItemParameters(this, itemIndex).unsupported(run.api, 'textToSpeech');
	}
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
				task_id: speech.taskId,
				voice_id: input.voiceId,
				voice_language: input.language,
				voice_speed: input.speed,
			},
		},
	];
}
