import type { INodeProperties } from 'n8n-workflow';

import { operationPicker } from '../operations';
import * as textToSpeech from './textToSpeech.operation';

export { textToSpeech };

/** Audio: a voice track made from text, which Lip Sync and Lip Sync Video take by its audio_id. */
export const description: INodeProperties[] = [
	operationPicker('audio', 'textToSpeech'),
	...textToSpeech.description,
];
