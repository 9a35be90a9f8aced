import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	IWebhookDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { BATCH_QUERY_PARAM, decodeBatch, encodeBatch, withQueryParam } from '../../helpers/callbackBatch';
import { taskToJson } from '../../helpers/output';
import { createLipSyncApi } from '../../transport';
import { parseOfficialTask } from '../../transport/official';
import { isFinal, type LipSyncTask } from '../../transport/types';
import type { Batch } from '../batch';
import { waitSettingsFrom, type WaitSettings } from '../common.descriptions';
import { finishedTaskItem } from './wait';

/**
 * Callback wait mode: every task reports to this execution's resume URL, the execution waits
 * holding no worker (n8n stores it, also across restarts), and the first callback that finds
 * every task of the run final resumes it with all of them.
 */

export type WaitMode = 'poll' | 'callback';

/**
 * The resume webhook of Callback mode (as n8n's Wait node has): it lives only while an execution
 * waits, at that execution's resume URL, which the node hands Kling as callback_url per task.
 * Nothing is registered at Kling, so there is no webhook lifecycle (checkExists/create/delete).
 */
export const CALLBACK_WEBHOOKS: IWebhookDescription[] = [
	{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: '', restartWebhook: true },
];

/** This execution's resume URL naming the run's tasks (made once, when the first item runs). */
export function callbackUrlFor(ctx: IExecuteFunctions, batch: Batch): string {
	if (!batch.callbackUrl) {
		const resumeUrl = String(ctx.evaluateExpression('{{ $execution.resumeUrl }}', 0));
		batch.callbackUrl = withQueryParam(resumeUrl, BATCH_QUERY_PARAM, encodeBatch(batch.expectedTasks));
	}
	return batch.callbackUrl;
}

/**
 * After every task was created: puts the execution to wait until the callbacks resume it or Max
 * Wait passes. On a timeout n8n resumes without running the node (its input passes through), so
 * the task_ids are reported now: in the execution's custom data and in n8n's log.
 */
export async function waitForCallbacks(ctx: IExecuteFunctions, batch: Batch, settings: WaitSettings): Promise<void> {
	const taskIds = batch.taskIds;
	// Every task is final already (a retry found the tasks it paid for): the items are final too.
	if (!batch.awaitsCallbacks) return;
	// The execution's custom data ($execution.customData, shown in the executions list); n8n
	// keeps at most 255 characters per value.
	const execution = ctx.getWorkflowDataProxy(0).$execution as { customData?: { set(key: string, value: string): void } };
	execution.customData?.set('kling_task_ids', taskIds.join(',').slice(0, 255));
	execution.customData?.set('kling_tasks', String(taskIds.length));
	ctx.logger.info(
		`Kling Lip Sync "${ctx.getNode().name}" waits for callbacks of ${taskIds.length} task(s): task_id ${taskIds.join(', ')}`,
		{ taskIds },
	);
	await ctx.putExecutionToWait(new Date(Date.now() + settings.maxWaitMs));
}

/** The task a callback body carries (Kling POSTs the task object; some proxies wrap it in `data`). */
export function taskFromCallback(body: IDataObject): LipSyncTask {
	const wrapped = body.data && typeof body.data === 'object' && !Array.isArray(body.data) && 'task_id' in body.data;
	return parseOfficialTask(wrapped ? body.data : body);
}

/**
 * A callback to a waiting execution. Non-final statuses, and final ones while other tasks of the
 * run still work, are acknowledged and leave the execution waiting; otherwise every task is read
 * once more from the API (the callback alone is not trusted) and the execution resumes.
 */
export async function resumeOnCallback(this: IWebhookFunctions): Promise<IWebhookResponseData> {
	const expected = decodeBatch((this.getQueryData() as IDataObject)[BATCH_QUERY_PARAM]);
	const response = this.getResponseObject();
	if (!expected) {
		response.status(400).json({ received: false, reason: `the callback URL lacks ${BATCH_QUERY_PARAM}` });
		return { noWebhookResponse: true };
	}
	const reported = taskFromCallback(this.getBodyData());
	if (!isFinal(reported)) return { webhookResponse: { received: true, waiting: true } };

	const api = await createLipSyncApi(this, 0);
	const tasks = await Promise.all(
		expected.map(async ({ externalTaskId }) => {
			try {
				return await api.getTask(externalTaskId);
			} catch (error) {
				// The item's create failed before the wait (its error was output then): no task.
				if ((error as { context?: { klingCode?: number } }).context?.klingCode === 1203) return undefined;
				throw new NodeOperationError(this.getNode(), error as Error, {
					description: 'A task of this run could not be read; Kling will call again, or the wait times out.',
				});
			}
		}),
	);
	const working = tasks.filter((task) => task && !isFinal(task)).length;
	if (working > 0) return { webhookResponse: { received: true, waiting: true, tasksStillWorking: working } };

	// Answer Kling now: downloading the videos may take longer than it waits for a reply.
	response.status(200).json({ received: true, resumed: true });
	const settings = waitSettingsFrom((name, fallback) => this.getNodeParameter(name, fallback));
	const items: INodeExecutionData[] = [];
	for (const [index, { itemIndex, externalTaskId }] of expected.entries()) {
		const task = tasks[index];
		let item: INodeExecutionData;
		if (!task) {
			item = { json: { external_task_id: externalTaskId, error: 'No task exists for this item: its create failed before the wait' } };
		} else {
			try {
				item = await finishedTaskItem(this, task, settings, itemIndex);
			} catch (error) {
				// One execution resumes for all tasks: a failed task is an item, never a lost run.
				item = { json: { ...taskToJson(task), error: (error as Error).message, description: (error as { description?: string }).description ?? null } };
			}
		}
		items.push({ ...item, pairedItem: { item: itemIndex } });
	}
	return { noWebhookResponse: true, workflowData: [items] };
}
