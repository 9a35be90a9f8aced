import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import {
	BATCH_QUERY_PARAM,
	encodeBatch,
	taskKey,
	withQueryParam,
} from '../../helpers/callbackBatch';
import { SIGNATURE_QUERY_PARAM, signUrlValues } from '../../helpers/urlSignature';
import { credentialKey } from '../../transport';
import { isFinal } from '../../transport/types';
import type { RunSettings, TaskRequest } from '../node.type';
import { awaitsCallback, callbackDetails, finalItem, isOutputItem } from './output';
import { readTasksById } from './taskList';

/**
 * Callback wait mode: every task reports to this execution's resume URL, the execution waits
 * holding no worker (n8n stores it, also across restarts), and the first callback that finds
 * every task of the run final resumes it with all of them.
 */

/**
 * Whether a run in Callback wait mode waits for callbacks: only when all its tasks start at once
 * (at most Max Tasks in Flight). n8n resumes a waiting execution once, and its resume webhook sees
 * neither the run's items nor their plans, so tasks for the items past the first window can only
 * be made by the running execution, which holds its worker until the last one starts anyway. Such
 * a run polls (one read for all its tasks each round) and downloads each video as its task ends:
 * faster than waiting for the last window's callbacks and downloading every video when they
 * resume it.
 */
export function callbacksFit(
	ctx: IExecuteFunctions,
	run: RunSettings,
	requests: Array<TaskRequest | INodeExecutionData>,
): boolean {
	const tasks = requests.filter((request) => !isOutputItem(request)).length;
	if (tasks <= run.maxInFlight) return true;
	const trigger =
		run.operation === 'lipSync'
			? ', or turn off Wait for Completion and take the results from a Kling Lip Sync Trigger'
			: '';
	const message = `${tasks} tasks are more than Max Tasks in Flight (${run.maxInFlight}) lets start at once, so this run polled them instead of waiting for callbacks: n8n can only create the later tasks while the execution runs, which holds its worker. To wait without a worker, send at most ${run.maxInFlight} items per execution${trigger}.`;
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
