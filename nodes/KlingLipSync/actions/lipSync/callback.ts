import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
	IWebhookDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { BATCH_QUERY_PARAM, decodeBatch, encodeBatch, taskKey, withQueryParam } from '../../helpers/callbackBatch';
import { taskToJson } from '../../helpers/output';
import { createLipSyncApi, type ApiContext } from '../../transport';
import { parseOfficialTask } from '../../transport/official';
import { isFinal, type LipSyncApi, type LipSyncTask } from '../../transport/types';
import type { Batch } from '../batch';
import { readWaitSettings, waitSettingsFrom, type WaitSettings } from '../common.descriptions';
import { failOn, requireSupport } from './params';
import { finishedTaskItem } from './wait';

/**
 * Callback wait mode: every task reports to this execution's resume URL, the execution waits
 * holding no worker (n8n stores it, also across restarts), and the first callback that finds
 * every task of the run final resumes it with all of them.
 */

export type WaitMode = 'poll' | 'callback';

/** The Wait Mode parameter (Lip Sync and Lip Sync Video). */
export const waitModeField: INodeProperties = {
	displayName: 'Wait Mode',
	name: 'waitMode',
	type: 'options',
	options: [
		{
			name: 'Poll',
			value: 'poll',
			description: 'Ask Kling for the status every Poll Interval; the execution runs (holds a worker) until the tasks end',
		},
		{
			name: 'Callback',
			value: 'callback',
			description:
				'Kling calls this execution back when the tasks end; meanwhile the execution waits without holding a worker and survives an n8n restart (Kling and Kling-compatible proxies; n8n must be reachable from the internet)',
		},
	],
	default: 'poll',
	hint: 'Batches larger than your Kling account runs at once: submit with Wait for Completion off and collect results with the Kling Lip Sync Trigger',
	displayOptions: { show: { waitForCompletion: [true] } },
};

function readWaitMode(this: IExecuteFunctions, itemIndex: number): WaitMode {
	if (!(this.getNodeParameter('waitForCompletion', itemIndex, false) as boolean)) return 'poll';
	return this.getNodeParameter('waitMode', itemIndex, 'poll') === 'callback' ? 'callback' : 'poll';
}

/**
 * An item's wait mode, checked before any call: Callback mode is the same for every item (the
 * execution waits once), sets the callback URL itself, and needs a provider that calls back.
 */
export function readCallbackMode(this: IExecuteFunctions, itemIndex: number, api: LipSyncApi, ownCallbackUrl: string | undefined): WaitMode {
	const mode = readWaitMode.call(this, itemIndex);
	if (mode !== 'callback') return mode;
	if (readWaitMode.call(this, 0) !== 'callback') failOn.call(this, itemIndex, 'Wait Mode must be the same for every item');
	if (ownCallbackUrl) failOn.call(this, itemIndex, 'Callback URL must be empty in Callback wait mode: the node sets it to this execution');
	requireSupport.call(this, itemIndex, api, 'externalTaskId');
	return mode;
}

/** Callback mode: once every task exists, the execution waits for their callbacks (unless all are final). */
export async function finishCallbackRun(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[]> {
	const wait = readWaitSettings.call(this, 0);
	if (!wait || readWaitMode.call(this, 0) !== 'callback') return items;
	return await waitForCallbacks(this, items, wait);
}

/**
 * The resume webhook of Callback mode (as n8n's Wait node has): it lives only while an execution
 * waits, at that execution's resume URL, which the node hands Kling as callback_url per task.
 * Nothing is registered at Kling, so there is no webhook lifecycle (checkExists/create/delete).
 */
export const CALLBACK_WEBHOOKS: IWebhookDescription[] = [
	{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: '', restartWebhook: true },
];

/**
 * This execution's resume URL naming the run's tasks by external_task_id (made once, when the
 * first item runs). n8n hands the resume webhook neither the node's output nor any state of the
 * run, so the URL itself says which tasks the run waits for.
 */
export function callbackUrlFor(ctx: IExecuteFunctions, batch: Batch): string {
	if (!batch.callbackUrl) {
		const resumeUrl = String(ctx.evaluateExpression('{{ $execution.resumeUrl }}', 0));
		batch.callbackUrl = withQueryParam(resumeUrl, BATCH_QUERY_PARAM, encodeBatch(batch.expectedTasks));
	}
	return batch.callbackUrl;
}

/** Marks an item of a Callback-mode run's first output whose task was left to report back. */
const CALLBACK_MARK = 'wait_mode';
const awaitsCallback = (item: INodeExecutionData): boolean => item.json[CALLBACK_MARK] === 'callback' && typeof item.json.task_id === 'string';

/** A created task's item while it reports back (a reused task, which reports to an earlier run, is polled instead). */
export const leftToCallBack = (task: LipSyncTask): INodeExecutionData => ({ json: { ...taskToJson(task), [CALLBACK_MARK]: 'callback' } });

/** Tasks a list page holds (Kling's largest page), and the pages read at most (5,000 newest tasks). */
const LIST_PAGE_SIZE = 500;
const MAX_LIST_PAGES = 10;
/** How far apart a run's creates may lie (1303 queueing included), for where paging may stop. */
const RUN_SPREAD_MS = 30 * 60_000;

/**
 * The current state of a run's tasks in as few reads as the API allows: list pages, newest first,
 * until every task was seen (a run of up to 500 tasks: one read). `keyOf` says which of the wanted
 * keys a listed task is. A task not among the newest pages is read by itself where `readOne` can.
 */
export async function readRunTasks(
	api: LipSyncApi,
	wanted: Set<string>,
	keyOf: (task: LipSyncTask) => string | undefined,
	readOne?: (key: string) => Promise<LipSyncTask | undefined>,
): Promise<Map<string, LipSyncTask>> {
	const found = new Map<string, LipSyncTask>();
	if (api.supports.listTasks) {
		let oldestFound = Number.POSITIVE_INFINITY;
		for (let page = 1; found.size < wanted.size && page <= MAX_LIST_PAGES; page++) {
			const tasks = await api.listTasks(page, LIST_PAGE_SIZE);
			for (const task of tasks) {
				const key = keyOf(task);
				if (key === undefined || !wanted.has(key)) continue;
				found.set(key, task);
				oldestFound = Math.min(oldestFound, task.createdAt ?? oldestFound);
			}
			if (tasks.length < LIST_PAGE_SIZE) break;
			// Past the run's creates (a task whose create failed never appears): stop reading pages.
			const oldestListed = tasks[tasks.length - 1]?.createdAt;
			if (Number.isFinite(oldestFound) && oldestListed !== undefined && oldestListed < oldestFound - RUN_SPREAD_MS) break;
		}
	}
	if (readOne) {
		for (const key of wanted) {
			if (found.has(key)) continue;
			const task = await readOne(key);
			if (task) found.set(key, task);
		}
	}
	return found;
}

/** A final task as a resumed item: its result, or (failed) an item that says why, never a lost run. */
async function finalItem(ctx: ApiContext, task: LipSyncTask, settings: WaitSettings, itemIndex: number): Promise<INodeExecutionData> {
	try {
		return await finishedTaskItem(ctx, task, settings, itemIndex);
	} catch (error) {
		return { json: { ...taskToJson(task), error: (error as Error).message, description: (error as { description?: string }).description ?? null } };
	}
}

/**
 * After every task was created: reads the run's tasks once (a task may have ended before the
 * wait, its callback turned away), and when all are final returns their final items with no
 * wait; otherwise puts the execution to wait until the callbacks resume it or Max Wait passes.
 * On a timeout n8n resumes without running the node (its input passes through), so the task_ids
 * are reported now: in the execution's custom data and in n8n's log.
 */
async function waitForCallbacks(ctx: IExecuteFunctions, items: INodeExecutionData[], settings: WaitSettings): Promise<INodeExecutionData[]> {
	const taskIds = items.filter(awaitsCallback).map((item) => String(item.json.task_id));
	if (taskIds.length === 0) return items;
	const api = await createLipSyncApi(ctx, 0);
	const tasks = await readRunTasks(api, new Set(taskIds), (task) => task.taskId, async (taskId) => await api.findTask(taskId));
	const allFinal = taskIds.every((taskId) => {
		const task = tasks.get(taskId);
		return task !== undefined && isFinal(task);
	});
	if (allFinal) {
		// One video at a time, as a resumed run downloads them.
		const final: INodeExecutionData[] = [];
		for (const [itemIndex, item] of items.entries()) {
			const task = awaitsCallback(item) ? tasks.get(String(item.json.task_id)) : undefined;
			final.push(task ? { ...(await finalItem(ctx, task, settings, itemIndex)), pairedItem: { item: itemIndex } } : item);
		}
		return final;
	}
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
 * A callback to a waiting execution. Non-final statuses, and final ones for tasks the callback URL
 * does not name, are acknowledged without a read; a final one reads the run's tasks from the API
 * (the callback alone is not trusted; one list page for a run of up to 500 tasks) and resumes the
 * execution once all are final.
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
	const keys = new Set(expected.map((task) => task.key));
	if (!reported.externalTaskId || !keys.has(taskKey(reported.externalTaskId))) {
		return { webhookResponse: { received: true, ignored: 'not a task of this execution' } };
	}

	const api = await createLipSyncApi(this, 0);
	let tasks: Map<string, LipSyncTask>;
	try {
		tasks = await readRunTasks(api, keys, (task) => (task.externalTaskId ? taskKey(task.externalTaskId) : undefined));
	} catch (error) {
		throw new NodeOperationError(this.getNode(), error as Error, {
			description: 'The tasks of this run could not be read; Kling will call again, or the wait times out.',
		});
	}
	// A task the API does not know: the item's create failed before the wait (its error was output then).
	const working = [...tasks.values()].filter((task) => !isFinal(task)).length;
	if (working > 0) return { webhookResponse: { received: true, waiting: true, tasksStillWorking: working } };

	// Answer Kling now: downloading the videos may take longer than it waits for a reply.
	response.status(200).json({ received: true, resumed: true });
	const settings = waitSettingsFrom((name, fallback) => this.getNodeParameter(name, fallback));
	const items: INodeExecutionData[] = [];
	for (const { itemIndex, key } of expected) {
		const task = tasks.get(key);
		const item = task
			? await finalItem(this, task, settings, itemIndex)
			: { json: { error: 'No task was found for this item among your newest 5,000 tasks: its create failed before the wait' } };
		items.push({ ...item, pairedItem: { item: itemIndex } });
	}
	return { noWebhookResponse: true, workflowData: [items] };
}
