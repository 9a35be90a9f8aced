import type { INodeProperties } from 'n8n-workflow';

import * as textToSpeech from './textToSpeech.operation';

export { textToSpeech };

/** Audio: a voice track made from text, which Lip Sync and Lip Sync Video take by its audio_id. */
export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['audio'] } },
		options: [
			{
				name: 'Text to Speech',
				value: 'textToSpeech',
				action: 'Convert text to speech',
				description: 'Kling text to speech: an audio_id (and URL) that Lip Sync and Lip Sync Video take directly (Kling and proxies)',
			},
		],
		default: 'textToSpeech',
	},
	...textToSpeech.description,
];
