import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import * as lipSync from './actions/lipSync';
import { CALLBACK_WEBHOOKS, resumeOnCallback } from './actions/pipeline/callback';
import { textToSpeech } from './actions/lipSync';
import { router } from './actions/router';

export class KlingLipSync implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Kling Lip Sync',
		name: 'klingLipSync',
		icon: { light: 'file:kling.svg', dark: 'file:kling.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle:
			'={{ { identifyFace: "Identify Face", lipSync: "Lip Sync", lipSyncVideo: "Lip Sync Video", textToSpeech: "Text to Speech", getTask: "Get Task", listTasks: "List Tasks" }[$parameter["operation"]] }}',
		description: 'Lip-sync a video to new audio with Kling AI: identify faces, sync, and get the video',
		defaults: { name: 'Kling Lip Sync' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'klingApi', required: true }],
		webhooks: CALLBACK_WEBHOOKS,
		properties: lipSync.description,
	};

	methods = {
		listSearch: { searchVoices: textToSpeech.listVoices },
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await router.call(this);
	}

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		return await resumeOnCallback.call(this);
	}
}
