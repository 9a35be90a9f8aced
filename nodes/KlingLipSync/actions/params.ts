import type { IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import type { RuleViolation } from '../helpers/validation';
import type { LipSyncApi, ProviderSupport } from '../transport/types';

/** Turns a broken rule into the error n8n shows on the parameter, before anything is sent. */
export function failOn(this: IExecuteFunctions, itemIndex: number, violation: RuleViolation): void {
	if (violation) throw new NodeOperationError(this.getNode(), violation, { itemIndex });
}

const FEATURE_NAMES: Record<keyof ProviderSupport, string> = {
	videoId: 'Kling video IDs (use a video URL)',
	audioId: 'Kling audio IDs (use an audio URL, a binary file or base64)',
	externalTaskId: 'external task IDs (find the task by its task_id)',
	listTasks: 'listing tasks',
	textToSpeech: 'text to speech (use Kling itself, or another TTS and an audio URL)',
};

/** Says plainly, before any call, that the credential's provider cannot do what was asked. */
export function requireSupport(this: IExecuteFunctions, itemIndex: number, api: LipSyncApi, feature: keyof ProviderSupport): void {
	if (!api.supports[feature]) {
		throw new NodeOperationError(this.getNode(), `${api.provider} does not support ${FEATURE_NAMES[feature]}`, {
			itemIndex,
			description: 'This is a limit of the provider chosen in the credential, not of the node.',
		});
	}
}
