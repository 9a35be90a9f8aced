import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { isKeyOf } from '../helpers/json';
import { textToSpeech } from './audio';
import { identifyFace } from './face';
import { runDialogues } from './dubDialogue/run';
import { getTask, lipSync, lipSyncVideo, listTasks } from './lipSync';
import type { ItemOperation, RunSettings, TaskOperation } from './node.type';
import type { OperationsRunning } from './operations';
import { callbacksFit, callbackUrlFor, waitForCallbacks } from './pipeline/callback';
import { TaskExecutor } from './pipeline/executor';
import { taskOutput } from './pipeline/output';
import { readRunSettings } from './pipeline/settings';
import { planAll, runStage } from './pipeline/stage';

/** Each operation's work, in the record of the way its row in OPERATIONS says it runs. */
const ITEM_WORK: Record<OperationsRunning<'items'>, ItemOperation<unknown>> = {
	identifyFace,
	textToSpeech,
	getTask,
	listTasks,
};
const TASK_WORK: Record<OperationsRunning<'tasks'>, TaskOperation<unknown>> = {
	lipSync,
	lipSyncVideo,
};
const CHAIN_WORK: Record<
	OperationsRunning<'chains'>,
	(ctx: IExecuteFunctions, run: RunSettings) => Promise<INodeExecutionData[]>
> = {
	dubDialogue: runDialogues,
};

/**
 * A node run is a pipeline of plain data: the run's settings are read once; every item is planned
 * (parameters read and checked, audio measured, nothing billed), so bad input stops the run before
 * any billed call; then the items' work runs together, at most Max Tasks in Flight at once; and
 * each result is mapped to its output item, in input order, paired.
 */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const run = await readRunSettings(this);
	const { operation } = run;
	if (isKeyOf(ITEM_WORK, operation)) return [await runItems(this, run, ITEM_WORK[operation])];
	if (isKeyOf(TASK_WORK, operation)) return [await runTasks(this, run, TASK_WORK[operation])];
	return [await CHAIN_WORK[operation](this, run)];
}

/** Operations that answer item by item: plan all, then execute together. */
async function runItems<Plan>(
	ctx: IExecuteFunctions,
	run: RunSettings,
	operation: ItemOperation<Plan>,
): Promise<INodeExecutionData[]> {
	const plans = await planAll(ctx, run, operation.plan);
	const executed = await runStage(
		ctx,
		run,
		plans,
		run.maxInFlight,
		async (planned, itemIndex) =>
			(await operation.execute.call(ctx, planned, run)).map((item) => ({
				...item,
				pairedItem: { item: itemIndex },
			})),
		false,
	);
	if (executed.error) throw executed.error;
	return executed.entries.flat();
}

/**
 * Operations that create lip-sync tasks: plan all; turn each plan into its task request (Lip Sync
 * Video identifies the face here) before any task exists, so the Callback URL can name every task
 * of the run; then the executor creates and waits; the output mapper makes the items. In Callback
 * mode the execution then waits for the tasks' callbacks.
 */
async function runTasks<Plan>(
	ctx: IExecuteFunctions,
	run: RunSettings,
	operation: TaskOperation<Plan>,
): Promise<INodeExecutionData[]> {
	const plans = await planAll(ctx, run, operation.plan);
	const requested = await runStage(
		ctx,
		run,
		plans,
		run.maxInFlight,
		async (planned) => await operation.request.call(ctx, planned, run),
		true,
	);
	if (requested.error) throw requested.error;

	const executor = new TaskExecutor(ctx, run);
	const callbackUrl =
		run.waitMode === 'callback' && callbacksFit(ctx, run, requested.entries)
			? await callbackUrlFor(ctx, requested.entries)
			: undefined;
	const executed = await executor.runAll(
		requested.entries,
		callbackUrl,
		async (outcome) => await taskOutput(ctx, outcome, run.wait),
	);
	if (executor.cancelled) throw executor.cancelledError();
	if (executed.error) throw executor.withCreatedTasks(executed.error);
	const output = executed.entries.filter(
		(entry): entry is INodeExecutionData => entry !== undefined,
	);
	return run.waitMode === 'callback' ? await waitForCallbacks(ctx, run, output) : output;
}
