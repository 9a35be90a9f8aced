import type {
	IDataObject,
	INodeExecutionData,
	IWebhookDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { BATCH_QUERY_PARAM, decodeBatch, taskKey } from '../../helpers/callbackBatch';
import { ExpiringSet } from '../../helpers/expiringSet';
import { SIGNATURE_QUERY_PARAM, urlSignatureHolds } from '../../helpers/urlSignature';
import { createLipSyncApi, credentialKey } from '../../transport';
import { taskFromCallback } from '../../transport/officialParts';
import { isFinal, type LipSyncTask } from '../../transport/types';
import { finalItem } from './output';
import { waitSettingsFrom } from './settings';
import { readRunTasks } from './taskList';

/**
 * The resume webhook of Callback mode (as n8n's Wait node has): it lives only while an execution
 * waits, at that execution's resume URL, which the node hands Kling as callback_url per task.
 * Nothing is registered at Kling, so there is no webhook lifecycle (checkExists/create/delete).
 */
export const CALLBACK_WEBHOOKS: IWebhookDescription[] = [
	{
		name: 'default',
		httpMethod: 'POST',
		responseMode: 'onReceived',
		path: '',
		restartWebhook: true,
	},
];

/**
 * Executions a callback of this process is resuming (n8n keeps one resume webhook call from the
 * next only once the first returned): a day is longer than any resume takes.
 */
const resuming = new ExpiringSet(10_000, 24 * 60 * 60_000);

/**
 * A callback to a waiting execution. Non-final statuses, and final ones for tasks the callback URL
 * does not name, are acknowledged without a read; a final one reads the run's tasks from the API
 * (the callback alone is not trusted; one list page for a run of up to 500 tasks) and resumes the
 * execution once all are final.
 */
export async function resumeOnCallback(this: IWebhookFunctions): Promise<IWebhookResponseData> {
	const query = this.getQueryData() as IDataObject;
	const expected = decodeBatch(query[BATCH_QUERY_PARAM]);
	const response = this.getResponseObject();
	if (!expected) {
		response
			.status(400)
			.json({ received: false, reason: `the callback URL lacks ${BATCH_QUERY_PARAM}` });
		return { noWebhookResponse: true };
	}
	if (
		!urlSignatureHolds(
			await credentialKey(this),
			this.getExecutionId(),
			[query[BATCH_QUERY_PARAM]],
			query[SIGNATURE_QUERY_PARAM],
		)
	) {
		response.status(401).json({
			received: false,
			reason: "the callback URL does not carry this node's signature for this execution",
		});
		return { noWebhookResponse: true };
	}
	const reported = taskFromCallback(this.getBodyData());
	if (!isFinal(reported)) return { webhookResponse: { received: true, waiting: true } };
	const keys = new Set(expected.map((task) => task.key));
	if (!reported.externalTaskId || !keys.has(taskKey(reported.externalTaskId))) {
		return { webhookResponse: { received: true, ignored: 'not a task of this execution' } };
	}

	const executionId = this.getExecutionId();
	if (resuming.has(executionId, Date.now()))
		return { webhookResponse: { received: true, resuming: true } };
	const api = await createLipSyncApi(this, 0);
	let tasks: Map<string, LipSyncTask>;
	try {
		tasks = await readRunTasks(api, keys, (task) =>
			task.externalTaskId ? taskKey(task.externalTaskId) : undefined,
		);
	} catch (error) {
		throw new NodeOperationError(this.getNode(), error as Error, {
			description:
				'The tasks of this run could not be read; Kling will call again, or the wait times out.',
		});
	}
	// A task the API does not know: the item's create failed before the wait (its error was output then).
	const working = [...tasks.values()].filter((task) => !isFinal(task)).length;
	if (working > 0)
		return { webhookResponse: { received: true, waiting: true, tasksStillWorking: working } };

	// One callback resumes the run: the others that find every task final meanwhile (n8n marks the
	// execution running only once this call returns) download nothing. Claimed with no await between.
	if (resuming.has(executionId, Date.now()))
		return { webhookResponse: { received: true, resuming: true } };
	resuming.add(executionId, Date.now());
	// Answer Kling now: downloading the videos may take longer than it waits for a reply.
	response.status(200).json({ received: true, resumed: true });
	try {
		const wait = waitSettingsFrom((name, fallback) => this.getNodeParameter(name, fallback));
		const items: INodeExecutionData[] = [];
		for (const { itemIndex, key } of expected) {
			const task = tasks.get(key);
			items.push(
				task
					? await finalItem(this, { itemIndex, task }, wait)
					: {
							json: {
								error:
									'No task was found for this item among your newest 5,000 tasks: its create failed before the wait',
							},
							pairedItem: { item: itemIndex },
						},
			);
		}
		return { noWebhookResponse: true, workflowData: [items] };
	} catch (caught) {
		// The run still waits: a later callback may resume it.
		resuming.delete(executionId);
		const failure = caught as Error;
		throw failure;
	}
}
