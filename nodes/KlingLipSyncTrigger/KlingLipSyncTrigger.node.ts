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

import {
	DEFAULT_MAX_DOWNLOAD_MB,
	maxDownloadField,
} from '../KlingLipSync/actions/common.descriptions';
import { downloadLimitBytes } from '../KlingLipSync/actions/pipeline/settings';
import { KLING_CREDENTIAL_TYPE } from '../KlingLipSync/helpers/constants';
import { taskToJson, videoFileName } from '../KlingLipSync/actions/pipeline/output';
import { checkWebhookSecretFormat } from '../KlingLipSync/helpers/webhookSignature';
import { downloadToBinary } from '../KlingLipSync/transport';
import { isFinal } from '../KlingLipSync/transport/types';
import { readTaskCallback, TRIGGER_WEBHOOKS } from './callbackTask';
import { deliveryKey, readFromApi, signatureProblem, type Verified } from './verify';
import { ANSWER_WITHIN_MS, ledgerFor } from './deliveryGuard';

/**
 * How a callback earns trust. Anyone who learns the trigger's URL can POST to it, so an unsigned
 * body is only a hint: the task is read from the provider's API and the run gets what the API says.
 */
type Verification = 'apiRead' | 'signature';

export class KlingLipSyncTrigger implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Kling Lip Sync Trigger',
		name: 'klingLipSyncTrigger',
		icon: { light: 'file:../KlingLipSync/kling.svg', dark: 'file:../KlingLipSync/kling.dark.svg' },
		group: ['trigger'],
		// 1.1 behaves as 1. For a version-1 node n8n evaluates an expression on every webhook
		// request (2.41: in a new isolate, ~20 ms of CPU and several MB each), so a callback costs
		// far less from 1.1 on.
		version: [1, 1.1],
		defaultVersion: 1.1,
		subtitle:
			'={{ $parameter["events"] === "everyChange" ? "Every status change" : "Finished tasks" }}',
		description:
			'Starts the workflow when Kling (or apimodels.app) reports a lip-sync task through its callback URL',
		defaults: { name: 'Kling Lip Sync Trigger' },
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: [
			{
				name: KLING_CREDENTIAL_TYPE,
				required: true,
				displayOptions: { show: { verification: ['apiRead'] } },
			},
			// No display condition: were both credentials shown by Verify Callbacks By, n8n's editor
			// would take that field for the node's authentication and hide it from the panel.
			{
				name: 'klingWebhookApi',
				required: false,
				testedBy: 'klingWebhookSecretTest',
			},
		],
		webhooks: TRIGGER_WEBHOOKS,
		properties: [
			{
				displayName:
					"Give Lip Sync this trigger's Production URL as its <b>Callback URL</b> option (publish the workflow first). Kling then calls it whenever a task changes status. One run per task and status: repeats are dropped (remembered 30 days, last 10,000).",
				name: 'notice',
				type: 'notice',
				default: '',
			},
			{
				displayName: 'Verify Callbacks By',
				name: 'verification',
				type: 'options',
				options: [
					{
						name: 'Reading the Task From the API',
						value: 'apiRead',
						description:
							'At most one status read per task and status, with the Kling API credential of the account that made the task; at most 1 read per second after a burst of 4 (more callbacks at once get 429, try again). The run gets what the API answers, never what the callback says; tasks the API does not know start nothing (remembered 10 minutes). Works for every sender, signed or not (apimodels.app never signs).',
					},
					{
						name: 'Signature (Webhook Secret)',
						value: 'signature',
						description:
							'Only callbacks signed with your Kling webhook secret are accepted (others get 401); the signed body is used as it is, with no API read (no cost per callback). Kling signs once a webhook secret exists in its console. Select the Kling Webhook Secret credential above.',
					},
				],
				default: 'apiRead',
				hint: 'Anyone who learns this URL can post to it: each callback is checked before a run starts, by an API read or by its signature',
			},
			{
				displayName: 'Trigger On',
				name: 'events',
				type: 'options',
				options: [
					{
						name: 'Finished Tasks',
						value: 'finished',
						description: 'One run per task that succeeded or failed',
					},
					{
						name: 'Every Status Change',
						value: 'everyChange',
						description: 'Also submitted and processing',
					},
				],
				default: 'finished',
			},
			{
				displayName: 'Download Video',
				name: 'downloadVideo',
				type: 'boolean',
				default: false,
				description:
					'Whether to download the finished video into a binary field of the output item (from the URL the API or the signed callback gave, never an unverified one)',
			},
			{
				displayName: 'Put Video in Field',
				name: 'binaryPropertyName',
				type: 'string',
				default: 'data',
				hint: 'The name of the binary field the video is written to',
				displayOptions: { show: { downloadVideo: [true] } },
			},
			{ ...maxDownloadField, displayOptions: { show: { downloadVideo: [true] } } },
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
				return problem
					? { status: 'Error', message: problem }
					: { status: 'OK', message: 'The secret has the whsec_ form' };
			},
		},
	};

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const response = this.getResponseObject();
		const answer = (
			status: number,
			body: IDataObject,
			retryAfterSeconds?: number,
		): IWebhookResponseData => {
			if (retryAfterSeconds !== undefined)
				response.setHeader('Retry-After', String(retryAfterSeconds));
			response.status(status).json(body);
			return { noWebhookResponse: true };
		};
		const answerBy = Date.now() + ANSWER_WITHIN_MS;
		const verification = this.getNodeParameter('verification', 'apiRead') as Verification;
		const everyChange = this.getNodeParameter('events', 'finished') === 'everyChange';

		if (verification === 'signature') {
			const problem = await signatureProblem(this);
			if (problem)
				return answer(401, { received: false, reason: `Signature check failed: ${problem}` });
		}
		const claimed = readTaskCallback(this.getBodyData());
		if (!claimed)
			return answer(400, {
				received: false,
				reason: 'The body is not a Kling or apimodels.app task callback',
			});
		// A status that starts nothing needs no check; nor does a repeat of a delivery that started
		// a run (only verified deliveries are recorded).
		if (!everyChange && !isFinal(claimed.task))
			return answer(200, { received: true, ignored: `status ${claimed.task.status}` });
		const ledger = ledgerFor(`${this.getWorkflow().id ?? ''}:${this.getNode().id}`);
		const staticData = this.getWorkflowStaticData('node');
		if (ledger.wasDelivered(deliveryKey(claimed.task), staticData, Date.now()))
			return answer(200, { received: true, ignored: 'repeat' });

		const verified: Verified =
			verification === 'signature'
				? claimed
				: await readFromApi(this, ledger, claimed.task, answerBy);
		if ('status' in verified)
			return answer(verified.status, verified.body, verified.retryAfterSeconds);
		const { task, provider } = verified;
		if (!everyChange && !isFinal(task))
			return answer(200, { received: true, ignored: `status ${task.status} (read from the API)` });
		// Kling retries and repeats callbacks: one run per task and status, however many arrive at once.
		if (!ledger.claim(deliveryKey(task), staticData, Date.now()))
			return answer(200, { received: true, ignored: 'repeat' });

		// Answer before downloading: the sender does not wait minutes for a reply.
		answer(200, { received: true });
		const item: INodeExecutionData = { json: { ...taskToJson(task), provider } };
		const url = task.videos[0]?.url;
		if (
			task.status === 'succeed' &&
			url &&
			(this.getNodeParameter('downloadVideo', false) as boolean)
		) {
			const property = this.getNodeParameter('binaryPropertyName', 'data') as string;
			try {
				const limitBytes = downloadLimitBytes(
					this.getNodeParameter('maxDownloadMb', DEFAULT_MAX_DOWNLOAD_MB),
				);
				item.binary = {
					[property]: await downloadToBinary(
						this,
						url,
						videoFileName(task.taskId),
						'video/mp4',
						limitBytes,
					),
				};
			} catch (error) {
				item.json.download_error = `The video of task ${task.taskId} was not stored: ${(error as Error).message}`;
			}
		}
		return { noWebhookResponse: true, workflowData: [[item]] };
	}
}
