import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { textToSpeech } from './actions/audio';
import { searchTasks } from './actions/lipSync/getTask.operation';
import { CALLBACK_WEBHOOKS, resumeOnCallback } from './actions/pipeline/callbackWebhook';
import { isDialogueCallback, resumeDialogueOnCallback } from './actions/dubDialogue/webhook';
import { OPERATION_SUBTITLE } from './actions/operations';
import { router } from './actions/router';
import { hints, properties } from './actions/versionDescription';

export class KlingLipSync implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Kling Lip Sync',
		name: 'klingLipSync',
		icon: { light: 'file:kling.svg', dark: 'file:kling.dark.svg' },
		group: ['transform'],
		// 1.1 runs as 1: for a version-1 node n8n evaluates an expression on every webhook request
		// (2.41: in a new isolate, ~20 ms of CPU and several MB each), so a resume callback costs far
		// less from 1.1 on. 1.2: Get Task's Task ID starts empty instead of as an expression.
		version: [1, 1.1, 1.2],
		defaultVersion: 1.2,
		subtitle: OPERATION_SUBTITLE,
		description:
			'Lip-sync a video to new audio with Kling AI: identify faces, sync, and get the video',
		defaults: { name: 'Kling Lip Sync' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'klingApi', required: true }],
		webhooks: CALLBACK_WEBHOOKS,
		properties,
		hints,
	};

	methods = {
		listSearch: { searchTasks, searchVoices: textToSpeech.listVoices },
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		return isDialogueCallback(this)
			? await resumeDialogueOnCallback.call(this)
			: await resumeOnCallback.call(this);
	}
}
