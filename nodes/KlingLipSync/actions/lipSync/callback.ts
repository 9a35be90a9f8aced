import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	IWebhookDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { taskToJson } from '../../helpers/output';
import { createLipSyncApi, type ApiContext } from '../../transport';
import { parseOfficialTask } from '../../transport/official';
import { isFinal, type LipSyncApi, type LipSyncTask } from '../../transport/types';
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

/** This execution's resume URL: every task of a Callback-mode run reports to it. */
export function callbackUrlFor(ctx: IExecuteFunctions): string {
	return String(ctx.evaluateExpression('{{ $execution.resumeUrl }}', 0));
}

/** Items of a Callback-mode run's first output whose task was left to report back. */
export const CALLBACK_MARK = 'wait_mode';
const awaitsCallback = (item: INodeExecutionData): boolean => item.json[CALLBACK_MARK] === 'callback' && typeof item.json.task_id === 'string';

/** Tasks a list page holds (Kling's largest page), and the pages read before tasks are read one by one. */
const LIST_PAGE_SIZE = 500;
const MAX_LIST_PAGES = 4;

/**
 * The current state of a run's tasks in as few reads as the API allows: list pages, newest first,
 * until every task was seen (a run of up to 500 tasks: one read), then any task not seen by itself.
 */
export async function readRunTasks(api: LipSyncApi, taskIds: string[]): Promise<Map<string, LipSyncTask>> {
	const found = new Map<string, LipSyncTask>();
	const wanted = new Set(taskIds);
	if (api.supports.listTasks) {
		for (let page = 1; found.size < wanted.size && page <= MAX_LIST_PAGES; page++) {
			const tasks = await api.listTasks(page, LIST_PAGE_SIZE);
			for (const task of tasks) if (wanted.has(task.taskId)) found.set(task.taskId, task);
			if (tasks.length < LIST_PAGE_SIZE) break;
		}
	}
	for (const taskId of wanted) if (!found.has(taskId)) found.set(taskId, await api.getTask(taskId));
	return found;
}

/**
 * A Callback-mode run's items once all its tasks are final: each waiting item becomes its task's
 * final item (a failed task an item that says why, never a lost run); the others stay as they were.
 */
async function finalRunItems(
	ctx: ApiContext,
	items: INodeExecutionData[],
	tasks: Map<string, LipSyncTask>,
	settings: WaitSettings,
): Promise<INodeExecutionData[]> {
	const final: INodeExecutionData[] = [];
	for (const [index, item] of items.entries()) {
		const itemIndex = pairedIndex(item) ?? index;
		const task = awaitsCallback(item) ? tasks.get(String(item.json.task_id)) : undefined;
		if (!task) {
			final.push(item);
			continue;
		}
		let done: INodeExecutionData;
		try {
			done = await finishedTaskItem(ctx, task, settings, itemIndex);
		} catch (error) {
			done = { json: { ...taskToJson(task), error: (error as Error).message, description: (error as { description?: string }).description ?? null } };
		}
		final.push({ ...done, pairedItem: { item: itemIndex } });
	}
	return final;
}

function pairedIndex(item: INodeExecutionData): number | undefined {
	const paired = Array.isArray(item.pairedItem) ? item.pairedItem[0] : item.pairedItem;
	return typeof paired === 'object' && paired !== null ? paired.item : typeof paired === 'number' ? paired : undefined;
}

/**
 * After every task was created: reads the run's tasks once (a task may have ended before the
 * wait, its callback turned away), and when all are final returns their final items with no
 * wait; otherwise puts the execution to wait until the callbacks resume it or Max Wait passes.
 * On a timeout n8n resumes without running the node (its input passes through), so the task_ids
 * are reported now: in the execution's custom data and in n8n's log.
 */
export async function waitForCallbacks(ctx: IExecuteFunctions, items: INodeExecutionData[], settings: WaitSettings): Promise<INodeExecutionData[]> {
	const taskIds = items.filter(awaitsCallback).map((item) => String(item.json.task_id));
	if (taskIds.length === 0) return items;
	const api = await createLipSyncApi(ctx, 0);
	const tasks = await readRunTasks(api, taskIds);
	if ([...tasks.values()].every(isFinal)) return await finalRunItems(ctx, items, tasks, settings);
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
	return items;
}

/** The task a callback body carries (Kling POSTs the task object; some proxies wrap it in `data`). */
export function taskFromCallback(body: IDataObject): LipSyncTask {
	const wrapped = body.data && typeof body.data === 'object' && !Array.isArray(body.data) && 'task_id' in body.data;
	return parseOfficialTask(wrapped ? body.data : body);
}

/**
 * The items this node output before the execution went to wait (n8n keeps them in the waiting
 * execution's run data, which the resume webhook's expressions read): they name the run's tasks,
 * so the callback URL does not have to, and stays short for any batch.
 */
function waitingRunItems(ctx: IWebhookFunctions): INodeExecutionData[] {
	const name = JSON.stringify(ctx.getNode().name);
	const items = ctx.evaluateExpression(`{{ $(${name}).all().map((item) => ({ json: item.json, binary: item.binary, pairedItem: item.pairedItem })) }}`, 0);
	return Array.isArray(items) ? (items as INodeExecutionData[]) : [];
}

/**
 * A callback to a waiting execution. Non-final statuses, and final ones for tasks not of this run,
 * are acknowledged without a read; a final one reads the run's tasks from the API (the callback
 * alone is not trusted; one list page for a run of up to 500 tasks) and resumes the execution
 * once all are final.
 */
export async function resumeOnCallback(this: IWebhookFunctions): Promise<IWebhookResponseData> {
	const reported = taskFromCallback(this.getBodyData());
	if (!isFinal(reported)) return { webhookResponse: { received: true, waiting: true } };
	const items = waitingRunItems(this);
	const taskIds = items.filter(awaitsCallback).map((item) => String(item.json.task_id));
	if (!taskIds.includes(reported.taskId)) return { webhookResponse: { received: true, ignored: 'not a task of this execution' } };

	const api = await createLipSyncApi(this, 0);
	let tasks: Map<string, LipSyncTask>;
	try {
		tasks = await readRunTasks(api, taskIds);
	} catch (error) {
		throw new NodeOperationError(this.getNode(), error as Error, {
			description: 'The tasks of this run could not be read; Kling will call again, or the wait times out.',
		});
	}
	const working = [...tasks.values()].filter((task) => !isFinal(task)).length;
	if (working > 0) return { webhookResponse: { received: true, waiting: true, tasksStillWorking: working } };

	// Answer Kling now: downloading the videos may take longer than it waits for a reply.
	this.getResponseObject().status(200).json({ received: true, resumed: true });
	const settings = waitSettingsFrom((name, fallback) => this.getNodeParameter(name, fallback));
	return { noWebhookResponse: true, workflowData: [await finalRunItems(this, items, tasks, settings)] };
}
