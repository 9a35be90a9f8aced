import type {
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	IDataObject,
	INodeCredentialTestResult,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { readTaskCallback, TRIGGER_WEBHOOKS } from '../KlingLipSync/actions/trigger/callbackTask';
import { rememberDelivery } from '../KlingLipSync/helpers/deliveries';
import { taskToJson, videoFileName } from '../KlingLipSync/helpers/output';
import { checkWebhookSecretFormat, checkWebhookSignature } from '../KlingLipSync/helpers/webhookSignature';
import { downloadToBinary } from '../KlingLipSync/transport';
import { isFinal } from '../KlingLipSync/transport/types';

export class KlingLipSyncTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Kling Lip Sync Trigger',
		name: 'klingLipSyncTrigger',
		icon: { light: 'file:../KlingLipSync/kling.svg', dark: 'file:../KlingLipSync/kling.dark.svg' },
		group: ['trigger'],
		version: 1,
		subtitle: '={{ $parameter["events"] === "everyChange" ? "Every status change" : "Finished tasks" }}',
		description: 'Starts the workflow when Kling (or apimodels.app) reports a lip-sync task through its callback URL',
		defaults: { name: 'Kling Lip Sync Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: 'klingWebhookApi',
				required: true,
				testedBy: 'klingWebhookSecretTest',
				displayOptions: { show: { verifySignature: [true] } },
			},
		],
		webhooks: TRIGGER_WEBHOOKS,
		properties: [
			{
				displayName:
					'Give Lip Sync this trigger\'s Production URL as its <b>Callback URL</b> option (activate the workflow first). Kling then calls it whenever a task changes status.',
				name: 'notice',
				type: 'notice',
				default: '',
			},
			{
				displayName: 'Trigger On',
				name: 'events',
				type: 'options',
				options: [
					{ name: 'Finished Tasks', value: 'finished', description: 'One run per task that succeeded or failed' },
					{ name: 'Every Status Change', value: 'everyChange', description: 'Also submitted and processing' },
				],
				default: 'finished',
			},
			{
				displayName: 'Verify Signature',
				name: 'verifySignature',
				type: 'boolean',
				default: false,
				description:
					'Whether to accept only callbacks signed with your Kling webhook secret (Standard Webhooks); others get 401 and start nothing',
			},
			{
				displayName: 'Download Video',
				name: 'downloadVideo',
				type: 'boolean',
				default: false,
				description: 'Whether to download the finished video into a binary field of the output item',
			},
			{
				displayName: 'Put Video in Field',
				name: 'binaryPropertyName',
				type: 'string',
				default: 'data',
				hint: 'The name of the binary field the video is written to',
				displayOptions: { show: { downloadVideo: [true] } },
			},
		],
	};

	methods = {
		credentialTest: {
			// Nothing at Kling answers for a webhook secret: check that it can sign at all.
			async klingWebhookSecretTest(
				this: ICredentialTestFunctions,
				credential: ICredentialsDecrypted,
			): Promise<INodeCredentialTestResult> {
				const problem = checkWebhookSecretFormat(String(credential.data?.secret ?? ''));
				return problem ? { status: 'Error', message: problem } : { status: 'OK', message: 'The secret has the whsec_ form' };
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const request = this.getRequestObject();
		const response = this.getResponseObject();
		const answer = (status: number, body: IDataObject): IWebhookResponseData => {
			response.status(status).json(body);
			return { noWebhookResponse: true };
		};

		if (this.getNodeParameter('verifySignature', false) as boolean) {
			const { secret } = await this.getCredentials<{ secret: string }>('klingWebhookApi');
			const headers = this.getHeaderData();
			const header = (name: string) => (typeof headers[name] === 'string' ? (headers[name] as string) : undefined);
			const rawBody = (request as unknown as { rawBody?: Buffer }).rawBody ?? Buffer.from(JSON.stringify(this.getBodyData()));
			const problem = checkWebhookSignature(
				secret,
				{ id: header('webhook-id'), timestamp: header('webhook-timestamp'), signature: header('webhook-signature'), rawBody },
				Math.floor(Date.now() / 1000),
			);
			if (problem) return answer(401, { received: false, reason: `Signature check failed: ${problem}` });
		}

		const callback = readTaskCallback(this.getBodyData());
		if (!callback) return answer(400, { received: false, reason: 'The body is not a Kling or apimodels.app task callback' });
		const { task, provider } = callback;
		if (!isFinal(task) && this.getNodeParameter('events', 'finished') === 'finished') {
			return answer(200, { received: true, ignored: `status ${task.status}` });
		}
		// Kling retries and repeats callbacks: one run per task and status.
		if (!rememberDelivery(this.getWorkflowStaticData('node'), `${task.taskId}:${task.status}`)) {
			return answer(200, { received: true, ignored: 'repeat' });
		}

		// Answer before downloading: the sender does not wait minutes for a reply.
		answer(200, { received: true });
		const item: INodeExecutionData = { json: { ...taskToJson(task), provider } };
		const url = task.videos[0]?.url;
		if (task.status === 'succeed' && url && (this.getNodeParameter('downloadVideo', false) as boolean)) {
			const property = this.getNodeParameter('binaryPropertyName', 'data') as string;
			try {
				item.binary = { [property]: await downloadToBinary(this, url, videoFileName(task.taskId), 'video/mp4') };
			} catch (error) {
				item.json.download_error = (error as Error).message;
			}
		}
		return { noWebhookResponse: true, workflowData: [[item]] };
	}
}
