import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	IWebhookDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { ExpiringSet } from '../../helpers/expiringSet';
import {
	BATCH_QUERY_PARAM,
	decodeBatch,
	encodeBatch,
	taskKey,
	withQueryParam,
} from '../../helpers/callbackBatch';
import { taskToJson } from '../../helpers/output';
import {
	SIGNATURE_QUERY_PARAM,
	signUrlValues,
	urlSignatureHolds,
} from '../../helpers/urlSignature';
import { createLipSyncApi, credentialKey, type RunContext } from '../../transport';
import { taskFromCallback } from '../../transport/official';
import { isFinal, type LipSyncTask } from '../../transport/types';
import { waitSettingsFrom } from './settings';
import type { RunSettings, TaskRequest, WaitSettings } from '../node.type';
import {
	awaitsCallback,
	callbackDetails,
	errorItem,
	isOutputItem,
	taskOutput,
	type TaskOutcome,
} from './output';
import { readRunTasks, readTasksById } from './taskList';

/**
 * Callback wait mode: every task reports to this execution's resume URL, the execution waits
 * holding no worker (n8n stores it, also across restarts), and the first callback that finds
 * every task of the run final resumes it with all of them.
 */

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
 * Whether the run waits for callbacks: only when all its tasks start at once (at most Max Tasks in
 * Flight). n8n resumes a waiting execution once, and its resume webhook sees neither the run's
 * items nor their plans, so tasks for the items past the first window can only be made by the
 * running execution, which holds its worker until the last one starts anyway. Such a run polls
 * (one read for all its tasks each round) and downloads each video as its task ends: faster than
 * waiting for the last window's callbacks and downloading every video when they resume it.
 */
export function callbacksFit(
	ctx: IExecuteFunctions,
	run: RunSettings,
	requests: Array<TaskRequest | INodeExecutionData>,
): boolean {
	if (run.waitMode !== 'callback') return false;
	const tasks = requests.filter((request) => !isOutputItem(request)).length;
	if (tasks <= run.maxInFlight) return true;
	const message = `${tasks} tasks are more than Max Tasks in Flight (${run.maxInFlight}) start at once, so this run polled them instead of waiting for callbacks: n8n can only create the later tasks while the execution runs, which holds its worker. To wait without a worker, send at most ${run.maxInFlight} items per execution, or submit with Wait for Completion off and collect the results with the Kling Lip Sync Trigger.`;
	ctx.logger.info(`Kling Lip Sync "${ctx.getNode().name}": ${message}`);
	ctx.addExecutionHints({ message, location: 'outputPane' });
	return false;
}

/**
 * This execution's resume URL naming the run's tasks by external_task_id, in item order. n8n hands
 * the resume webhook neither the node's output nor any state of the run, so the URL itself says
 * which tasks the run waits for.
 */
export async function callbackUrlFor(
	ctx: IExecuteFunctions,
	requests: Array<TaskRequest | INodeExecutionData>,
): Promise<string> {
	const expected = requests.flatMap((request) =>
		!isOutputItem(request) && request.create.externalTaskId
			? [{ itemIndex: request.itemIndex, key: taskKey(request.create.externalTaskId) }]
			: [],
	);
	const resumeUrl = String(ctx.evaluateExpression('{{ $execution.resumeUrl }}', 0));
	const batch = encodeBatch(expected);
	// Signed with the execution: the webhook acts on no other set of tasks, and on no other execution.
	const signature = signUrlValues(await credentialKey(ctx), ctx.getExecutionId(), [batch]);
	return withQueryParam(
		withQueryParam(resumeUrl, BATCH_QUERY_PARAM, batch),
		SIGNATURE_QUERY_PARAM,
		signature,
	);
}

/** A final task as a resumed item: its result, or (failed) an item that says why, never a lost run. */
async function finalItem(
	ctx: RunContext,
	outcome: TaskOutcome,
	wait: WaitSettings,
): Promise<INodeExecutionData> {
	try {
		return await taskOutput(ctx, outcome, wait);
	} catch (error) {
		const { json } = errorItem(error, outcome.itemIndex);
		return {
			json: { ...outcome.details, ...taskToJson(outcome.task), ...json },
			pairedItem: { item: outcome.itemIndex },
		};
	}
}

/**
 * After every task was created: reads the run's tasks once (a task may have ended before the
 * wait, its callback turned away), and when all are final returns their final items with no
 * wait; otherwise puts the execution to wait until the callbacks resume it or Max Wait passes.
 */
export async function waitForCallbacks(
	ctx: IExecuteFunctions,
	run: RunSettings,
	items: INodeExecutionData[],
): Promise<INodeExecutionData[]> {
	const wait = run.wait;
	const taskIds = items.filter(awaitsCallback).map((item) => String(item.json.task_id));
	if (!wait || taskIds.length === 0) return items;
	const api = run.api;
	const tasks = await readTasksById(api, new Set(taskIds));
	const allFinal = taskIds.every((taskId) => {
		const task = tasks.get(taskId);
		return task !== undefined && isFinal(task);
	});
	if (allFinal) {
		// One video at a time, as a resumed run downloads them.
		const final: INodeExecutionData[] = [];
		for (const item of items) {
			const task = awaitsCallback(item) ? tasks.get(String(item.json.task_id)) : undefined;
			const itemIndex = pairedIndex(item);
			final.push(
				task && itemIndex !== undefined
					? await finalItem(ctx, { itemIndex, task, details: callbackDetails(item) }, wait)
					: item,
			);
		}
		return final;
	}
	await putToWait(ctx, taskIds, wait.maxWaitMs);
	return items;
}

/**
 * Puts the execution to wait for callbacks until `maxWaitMs` from now. On a timeout n8n resumes
 * without running the node (its input passes through), so the task_ids are reported now: in the
 * execution's custom data and in n8n's log.
 */
export async function putToWait(
	ctx: IExecuteFunctions,
	taskIds: string[],
	maxWaitMs: number,
): Promise<void> {
	// The execution's custom data ($execution.customData, shown in the executions list); n8n
	// keeps at most 255 characters per value.
	const execution = ctx.getWorkflowDataProxy(0).$execution as {
		customData?: { set(key: string, value: string): void };
	};
	execution.customData?.set('kling_task_ids', taskIds.join(',').slice(0, 255));
	execution.customData?.set('kling_tasks', String(taskIds.length));
	ctx.logger.info(
		`Kling Lip Sync "${ctx.getNode().name}" waits for callbacks of ${taskIds.length} task(s): task_id ${taskIds.join(', ')}`,
		{ taskIds },
	);
	await ctx.putExecutionToWait(new Date(Date.now() + maxWaitMs));
}

/** The input item an output item is paired with. */
function pairedIndex(item: INodeExecutionData): number | undefined {
	const paired = item.pairedItem;
	if (typeof paired === 'number') return paired;
	return paired && !Array.isArray(paired) ? paired.item : undefined;
}

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
