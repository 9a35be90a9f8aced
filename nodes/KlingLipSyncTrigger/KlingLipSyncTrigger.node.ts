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
import { NodeConnectionTypes, sleep } from 'n8n-workflow';

import {
	DEFAULT_MAX_DOWNLOAD_MB,
	maxDownloadField,
} from '../KlingLipSync/actions/common.descriptions';
import { downloadLimitBytes } from '../KlingLipSync/actions/pipeline/settings';
import { KLING_CREDENTIAL_TYPE } from '../KlingLipSync/helpers/constants';
import { taskToJson, videoFileName } from '../KlingLipSync/helpers/output';
import {
	checkWebhookSecretFormat,
	checkWebhookSignature,
} from '../KlingLipSync/helpers/webhookSignature';
import { createLipSyncApi, downloadToBinary } from '../KlingLipSync/transport';
import { isFinal, type LipSyncTask } from '../KlingLipSync/transport/types';
import { readTaskCallback, TRIGGER_WEBHOOKS } from './callbackTask';
import { readerFor, type TaskRead } from './accountReader';
import {
	ANSWER_WITHIN_MS,
	ledgerFor,
	READ_TIMEOUT_MS,
	RETRY_AFTER_SECONDS,
	type DeliveryLedger,
} from './deliveryGuard';

/**
 * How a callback earns trust. Anyone who learns the trigger's URL can POST to it, so an unsigned
 * body is only a hint: the task is read from the provider's API and the run gets what the API says.
 */
type Verification = 'apiRead' | 'signature';

/** A verified task, or the answer the sender gets instead of a run. */
type Verified =
	| { task: LipSyncTask; provider: string }
	| { status: number; body: IDataObject; retryAfterSeconds?: number };

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
			{
				name: 'klingWebhookApi',
				required: true,
				testedBy: 'klingWebhookSecretTest',
				displayOptions: { show: { verification: ['signature'] } },
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
							'Only callbacks signed with your Kling webhook secret are accepted (others get 401); the signed body is used as it is, with no API read (no cost per callback). Kling signs once a webhook secret exists in its console.',
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

const deliveryKey = (task: LipSyncTask): string => `${task.taskId}:${task.status}`;

/** Why the delivery's Standard Webhooks signature fails, or undefined when it holds. */
async function signatureProblem(ctx: IWebhookFunctions): Promise<string | undefined> {
	const { secret } = await ctx.getCredentials<{ secret: string }>('klingWebhookApi');
	const headers = ctx.getHeaderData();
	const header = (name: string) =>
		typeof headers[name] === 'string' ? (headers[name] as string) : undefined;
	const rawBody =
		(ctx.getRequestObject() as unknown as { rawBody?: Buffer }).rawBody ??
		Buffer.from(JSON.stringify(ctx.getBodyData()));
	return checkWebhookSignature(
		secret,
		{
			id: header('webhook-id'),
			timestamp: header('webhook-timestamp'),
			signature: header('webhook-signature'),
			rawBody,
		},
		Math.floor(Date.now() / 1000),
	);
}

/** What one verification read found; deliveries of the same task that arrive meanwhile share it. */
type ReadOutcome =
	| { task: LipSyncTask; provider: string }
	| { unknown: string }
	| { error: string };

const retryLater = (status: number, reason: string): Verified => ({
	status,
	body: { received: false, reason },
	retryAfterSeconds: RETRY_AFTER_SECONDS,
});

/**
 * The task as the provider's API knows it, for at most one read per task at a time and within the
 * account's read budget for the trigger. Unknown: 200 "ignored", so that a sender stops resending
 * a task no retry will make known, remembered for a while (no read for it meanwhile); a final
 * task is remembered too, so its repeats read nothing. Over the budget, unreadable, rate-limited
 * or slow: 429/503 with Retry-After, so a real sender tries again; nothing is retried inside the
 * request.
 */
async function readFromApi(
	ctx: IWebhookFunctions,
	ledger: DeliveryLedger,
	claimed: LipSyncTask,
	answerBy: number,
): Promise<Verified> {
	const { taskId } = claimed;
	const now = Date.now();
	const known = ledger.finalRead(taskId, now);
	if (known) return known;
	if (ledger.isUnknown(taskId, now)) {
		return {
			status: 200,
			body: { received: true, ignored: `unknown task: ${taskId} was not found moments ago` },
		};
	}
	if (isFinal(claimed) && ledger.wasNotFinal(taskId, now)) {
		return retryLater(
			503,
			`Task ${taskId} was not final when it was read moments ago; try again later`,
		);
	}
	let outcome = ledger.readUnderWay<ReadOutcome>(taskId);
	if (!outcome) {
		const account = ctx.getNode().credentials?.[KLING_CREDENTIAL_TYPE]?.id ?? ctx.getNode().id;
		const read = readerFor(account, now).read(
			taskId,
			async () =>
				await createLipSyncApi(ctx, 0, { singleAttempt: true, timeoutMs: READ_TIMEOUT_MS }),
		);
		if (!read) return retryLater(429, 'Too many callbacks to verify right now; try again later');
		const claimedFinal = isFinal(claimed);
		outcome = ledger.share(taskId, async () =>
			outcomeOf(ctx, ledger, taskId, claimedFinal, await read),
		);
	}
	// A read still under way at the deadline goes on (its final task is remembered) while this
	// request ends: the sender is told to come back, and its next try starts the run with no read.
	const late = await Promise.race([
		outcome.then(() => false),
		sleep(Math.max(0, answerBy - Date.now())).then(() => true),
	]);
	if (late) return retryLater(503, 'Verifying the callback takes longer; try again later');
	const read = await outcome;
	if ('task' in read) return read;
	if ('unknown' in read) {
		return {
			status: 200,
			body: {
				received: true,
				ignored: `unknown task: ${read.unknown} has no task ${taskId} for this credential`,
			},
		};
	}
	// The reason stays in n8n's log: the sender may be anyone.
	return retryLater(
		503,
		'Could not read the task from the API to verify the callback; try again later',
	);
}

/** What a read found, remembered: a task the API did not know, a claimed end it does not show yet. */
function outcomeOf(
	ctx: IWebhookFunctions,
	ledger: DeliveryLedger,
	taskId: string,
	claimedFinal: boolean,
	read: TaskRead,
): ReadOutcome {
	if ('task' in read) {
		// A claimed end the API does not show yet is not read again for a moment.
		if (claimedFinal && !isFinal(read.task)) ledger.rememberNotFinal(taskId, Date.now());
		if (isFinal(read.task)) ledger.rememberFinal(read, Date.now());
		return read;
	}
	if ('unknown' in read) {
		ledger.rememberUnknown(taskId, Date.now());
		ctx.logger.warn(
			`Kling Lip Sync Trigger "${ctx.getNode().name}": a callback named task ${taskId}, which ${read.unknown} does not know with this credential; nothing started`,
		);
		return read;
	}
	const reason = read.error.message;
	ctx.logger.warn(
		`Kling Lip Sync Trigger "${ctx.getNode().name}": could not read task ${taskId} to verify its callback: ${reason}`,
	);
	return { error: reason };
}
