import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { runPool } from '../helpers/pool';
import { Batch } from './batch';
import * as lipSync from './lipSync';
import type { ItemRunner, KlingOperation, OperationModule } from './node.type';

const OPERATIONS: Record<KlingOperation, OperationModule> = {
	identifyFace: lipSync.identifyFace,
	lipSync: lipSync.lipSync,
	lipSyncVideo: lipSync.lipSyncVideo,
	textToSpeech: lipSync.textToSpeech,
	getTask: lipSync.getTask,
	listTasks: lipSync.listTasks,
};

/** Items prepared at once: enough that audio URLs download side by side, few enough that memory stays flat. */
const PREPARE_IN_PARALLEL = 20;

/** Fields an error may carry about a task that exists at Kling: Continue On Fail outputs them. */
const TASK_FIELDS = ['task_id', 'task_status', 'external_task_id'] as const;

function errorItem(error: unknown, itemIndex: number): INodeExecutionData {
	const json: IDataObject = { error: error instanceof Error ? error.message : String(error) };
	const context = (error as { context?: IDataObject }).context ?? {};
	for (const field of TASK_FIELDS) if (context[field] !== undefined) json[field] = context[field];
	const description = (error as { description?: unknown }).description;
	if (typeof description === 'string' && description) json.description = description;
	return { json, pairedItem: { item: itemIndex } };
}

function asNodeError(ctx: IExecuteFunctions, error: unknown, itemIndex: number): Error {
	if (error instanceof NodeOperationError || (error as { name?: string }).name === 'NodeApiError') return error as Error;
	return new NodeOperationError(ctx.getNode(), error as Error, { itemIndex });
}

/**
 * Runs the chosen operation for every item. First every item is prepared (parameters read and
 * checked, nothing billed), so bad input stops the run before any task exists; then all items
 * run together, at most Max Tasks in Flight at once, and come out in input order, paired.
 */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const operation = this.getNodeParameter('operation', 0) as KlingOperation;
	const module = OPERATIONS[operation];
	if (!module) throw new NodeOperationError(this.getNode(), `The operation "${String(operation)}" is not supported`);
	const continueOnFail = this.continueOnFail();

	const batch = new Batch(this.getExecutionCancelSignal());
	// Preparing reads and measures audio (a URL is downloaded): items prepare side by side. A bad
	// item stops the preparation of those not yet started, and the first bad one stops the run.
	let stopped = false;
	const prepared = await runPool(items.length, PREPARE_IN_PARALLEL, async (itemIndex): Promise<ItemRunner | INodeExecutionData | Error | undefined> => {
		if (stopped) return undefined;
		try {
			return await module.prepare.call(this, itemIndex, batch);
		} catch (error) {
			if (continueOnFail) return errorItem(error, itemIndex);
			stopped = true;
			return asNodeError(this, error, itemIndex);
		}
	});
	const firstBad = prepared.find((entry): entry is Error => entry instanceof Error);
	if (firstBad) throw firstBad;
	const runners = prepared as Array<ItemRunner | INodeExecutionData>;

	const results = await runPool(items.length, module.maxInFlight.call(this), async (itemIndex) => {
		const runner = runners[itemIndex];
		if (typeof runner !== 'function') return { items: [runner] };
		if (batch.cancelled) return { items: [] };
		try {
			const output = await runner(batch);
			return { items: output.map((item) => ({ ...item, pairedItem: { item: itemIndex } })) };
		} catch (error) {
			if (continueOnFail) return { items: [errorItem(error, itemIndex)] };
			return { error: asNodeError(this, error, itemIndex) };
		}
	});

	if (batch.cancelled) throw cancelledRun(this, batch);
	const failure = results.find((result) => result.error);
	if (failure?.error) throw withCreatedTasks(failure.error, batch);
	const output = results.flatMap((result) => result.items ?? []);
	return [module.finish ? await module.finish.call(this, output) : output];
}

/** An error that stops the run also names the tasks other items created: they are paid for. */
function withCreatedTasks(error: Error, batch: Batch): Error {
	const own = (error as { context?: IDataObject }).context?.task_id;
	const others = batch.taskIds.filter((taskId) => taskId !== own);
	if (others.length === 0) return error;
	const described = error as Error & { description?: string | null };
	const note = `Other items created these tasks at Kling, which keep running: task_id ${others.join(', ')}.`;
	described.description = described.description ? `${described.description} ${note}` : note;
	return error;
}

/**
 * A stopped run still says which paid tasks exist at Kling: in n8n's log (the execution's data
 * may be kept as it was at the stop) and in the error, for an engine that records it.
 */
function cancelledRun(ctx: IExecuteFunctions, batch: Batch): NodeOperationError {
	const taskIds = batch.taskIds;
	const created = taskIds.length
		? `${taskIds.length} task(s) created at Kling keep running: task_id ${taskIds.join(', ')}`
		: 'no task was created at Kling';
	ctx.logger.warn(`Kling Lip Sync "${ctx.getNode().name}" was cancelled; ${created}`, { taskIds });
	const error = new NodeOperationError(ctx.getNode(), `The execution was cancelled; ${created}`, {
		description: taskIds.length ? 'Fetch their results later with Get Task.' : undefined,
	});
	error.context.task_ids = taskIds;
	return error;
}
