import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { runPool } from '../helpers/pool';
import { textToSpeech } from './audio';
import { identifyFace } from './face';
import { getTask, lipSync, lipSyncVideo, listTasks } from './lipSync';
import type { ItemOperation, RunSettings, TaskOperation, TaskRequest } from './node.type';
import { callbackUrlFor, waitForCallbacks } from './pipeline/callback';
import { TaskExecutor, type ItemResult } from './pipeline/executor';
import { asNodeError, errorItem, isOutputItem, taskOutput } from './pipeline/output';
import { readRunSettings } from './pipeline/settings';

/**
 * A node run is a pipeline of plain data: the run's settings are read once; every item is planned
 * (parameters read and checked, audio measured, nothing billed), so bad input stops the run before
 * any billed call; then the items' work runs together, at most Max Tasks in Flight at once; and
 * each result is mapped to its output item, in input order, paired.
 */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const run = await readRunSettings(this);
	switch (run.operation) {
		case 'lipSync':
			return [await runTasks(this, run, lipSync)];
		case 'lipSyncVideo':
			return [await runTasks(this, run, lipSyncVideo)];
		case 'identifyFace':
			return [await runItems(this, run, identifyFace)];
		case 'textToSpeech':
			return [await runItems(this, run, textToSpeech)];
		case 'getTask':
			return [await runItems(this, run, getTask)];
		case 'listTasks':
			return [await runItems(this, run, listTasks)];
	}
}

/** Items planned at once: enough that audio URLs download side by side, few enough that memory stays flat. */
const PLAN_IN_PARALLEL = 20;

/**
 * Plans every item, side by side. A bad item stops the planning of those not yet started and the
 * run (its error names the item); with Continue On Fail it becomes its error item instead.
 */
async function planAll<Plan>(
	ctx: IExecuteFunctions,
	run: RunSettings,
	plan: (this: IExecuteFunctions, itemIndex: number, run: RunSettings) => Promise<Plan>,
): Promise<Array<Plan | INodeExecutionData>> {
	let stopped = false;
	const planned = await runPool(ctx.getInputData().length, PLAN_IN_PARALLEL, async (itemIndex): Promise<Plan | INodeExecutionData | Error | undefined> => {
		if (stopped) return undefined;
		try {
			return await plan.call(ctx, itemIndex, run);
		} catch (error) {
			if (run.continueOnFail) return errorItem(error, itemIndex);
			stopped = true;
			return asNodeError(ctx, error, itemIndex);
		}
	});
	const firstBad = planned.find((entry): entry is Error => entry instanceof Error);
	if (firstBad) throw firstBad;
	return planned as Array<Plan | INodeExecutionData>;
}

/** The output of a run's item results, or the first error that stops it. */
function collect(results: ItemResult[], stop: (error: Error) => Error = (error) => error): INodeExecutionData[] {
	const failure = results.find((result) => result.error);
	if (failure?.error) throw stop(failure.error);
	return results.flatMap((result) => result.items);
}

/** Operations that answer item by item: plan all, then execute together. */
async function runItems<Plan>(ctx: IExecuteFunctions, run: RunSettings, operation: ItemOperation<Plan>): Promise<INodeExecutionData[]> {
	const plans = await planAll(ctx, run, operation.plan);
	const results = await runPool(plans.length, run.maxInFlight, async (itemIndex): Promise<ItemResult> => {
		const planned = plans[itemIndex];
		if (isOutputItem(planned)) return { items: [planned] };
		try {
			const items = await operation.execute.call(ctx, planned, run);
			return { items: items.map((item) => ({ ...item, pairedItem: { item: itemIndex } })) };
		} catch (error) {
			if (run.continueOnFail) return { items: [errorItem(error, itemIndex)] };
			return { items: [], error: asNodeError(ctx, error, itemIndex) };
		}
	});
	return collect(results);
}

/**
 * Operations that create lip-sync tasks: plan all; turn each plan into its task request (Lip Sync
 * Video identifies the face here) before any task exists, so the Callback URL can name every task
 * of the run; then the executor creates and waits; the output mapper makes the items. In Callback
 * mode the execution then waits for the tasks' callbacks.
 */
async function runTasks<Plan>(ctx: IExecuteFunctions, run: RunSettings, operation: TaskOperation<Plan>): Promise<INodeExecutionData[]> {
	const plans = await planAll(ctx, run, operation.plan);
	const requested = await runPool(plans.length, run.maxInFlight, async (index): Promise<TaskRequest | INodeExecutionData | Error> => {
		const planned = plans[index];
		if (isOutputItem(planned)) return planned;
		try {
			return await operation.request.call(ctx, planned, run);
		} catch (error) {
			if (run.continueOnFail) return errorItem(error, index);
			return asNodeError(ctx, error, index);
		}
	});
	const firstBad = requested.find((entry): entry is Error => entry instanceof Error);
	if (firstBad) throw firstBad;
	const requests = requested as Array<TaskRequest | INodeExecutionData>;

	const executor = new TaskExecutor(ctx, run);
	const callbackUrl = run.waitMode === 'callback' ? callbackUrlFor(ctx, requests) : undefined;
	const results = await executor.runAll(requests, callbackUrl, async (outcome) => await taskOutput(ctx, outcome, run.wait));
	if (executor.cancelled) throw executor.cancelledError();
	const output = collect(results, (error) => executor.withCreatedTasks(error));
	return run.waitMode === 'callback' ? await waitForCallbacks(ctx, run, output) : output;
}
