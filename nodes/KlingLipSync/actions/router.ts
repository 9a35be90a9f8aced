import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { textToSpeech } from './audio';
import { identifyFace } from './face';
import { dubDialogue, getTask, lipSync, lipSyncVideo, listTasks } from './lipSync';
import type { ItemOperation, RunSettings, TaskOperation } from './node.type';
import { callbacksFit, callbackUrlFor, waitForCallbacks } from './pipeline/callback';
import { startDialogues } from './pipeline/dialogueCallback';
import { TaskExecutor } from './pipeline/executor';
import { isOutputItem, taskOutput } from './pipeline/output';
import { readRunSettings } from './pipeline/settings';
import { runStage } from './pipeline/stage';

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
		case 'dubDialogue':
			return [await runDialogues(this, run)];
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
 * Plans every item, side by side (nothing billed). A bad item stops the planning of those not yet
 * started and the run (its error names the item); with Continue On Fail it becomes its error item.
 */
async function planAll<Plan>(
	ctx: IExecuteFunctions,
	run: RunSettings,
	plan: (this: IExecuteFunctions, itemIndex: number, run: RunSettings) => Promise<Plan>,
): Promise<Array<Plan | INodeExecutionData>> {
	const indexes = ctx.getInputData().map((_item, itemIndex) => itemIndex);
	const planned = await runStage(ctx, run, indexes, PLAN_IN_PARALLEL, async (itemIndex) => await plan.call(ctx, itemIndex, run), true);
	if (planned.error) throw planned.error;
	return planned.entries;
}

/** Operations that answer item by item: plan all, then execute together. */
async function runItems<Plan>(ctx: IExecuteFunctions, run: RunSettings, operation: ItemOperation<Plan>): Promise<INodeExecutionData[]> {
	const plans = await planAll(ctx, run, operation.plan);
	const executed = await runStage(ctx, run, plans, run.maxInFlight, async (planned, itemIndex) =>
		(await operation.execute.call(ctx, planned, run)).map((item) => ({ ...item, pairedItem: { item: itemIndex } })),
	false);
	if (executed.error) throw executed.error;
	return executed.entries.flat();
}

/**
 * Operations that create lip-sync tasks: plan all; turn each plan into its task request (Lip Sync
 * Video identifies the face here) before any task exists, so the Callback URL can name every task
 * of the run; then the executor creates and waits; the output mapper makes the items. In Callback
 * mode the execution then waits for the tasks' callbacks.
 */
async function runTasks<Plan>(ctx: IExecuteFunctions, run: RunSettings, operation: TaskOperation<Plan>): Promise<INodeExecutionData[]> {
	const plans = await planAll(ctx, run, operation.plan);
	const requested = await runStage(ctx, run, plans, run.maxInFlight, async (planned) => await operation.request.call(ctx, planned, run), true);
	if (requested.error) throw requested.error;

	const executor = new TaskExecutor(ctx, run);
	const callbackUrl = callbacksFit(ctx, run, requested.entries) ? await callbackUrlFor(ctx, requested.entries) : undefined;
	const executed = await executor.runAll(requested.entries, callbackUrl, async (outcome) => await taskOutput(ctx, outcome, run.wait));
	if (executor.cancelled) throw executor.cancelledError();
	if (executed.error) throw executor.withCreatedTasks(executed.error);
	const output = executed.entries.filter((entry): entry is INodeExecutionData => entry !== undefined);
	return run.waitMode === 'callback' ? await waitForCallbacks(ctx, run, output) : output;
}

/**
 * Dub Dialogue: plan all; identify every dialogue's video and place its speakers (a dialogue that
 * cannot be dubbed stops the run before any task); then the dialogues run their steps, at most
 * Max Tasks in Flight dialogues at once, each step through the executor (in Callback mode the
 * execution waits between steps, and the webhook makes the next ones).
 */
async function runDialogues(ctx: IExecuteFunctions, run: RunSettings): Promise<INodeExecutionData[]> {
	const plans = await planAll(ctx, run, dubDialogue.plan);
	const cast = await runStage(ctx, run, plans, run.maxInFlight, async (planned) => await dubDialogue.castDialogue.call(ctx, planned, run), true);
	if (cast.error) throw cast.error;

	const executor = new TaskExecutor(ctx, run);
	let output: INodeExecutionData[];
	if (run.waitMode === 'callback') {
		output = await startDialogues(ctx, run, cast.entries, executor);
	} else {
		const executed = await runStage(ctx, run, cast.entries, run.maxInFlight, async (dialogue) => (executor.cancelled ? undefined : await dubDialogue.execute.call(ctx, dialogue, run, executor)), false);
		if (executor.cancelled) throw executor.cancelledError();
		if (executed.error) throw executor.withCreatedTasks(executed.error);
		output = executed.entries.filter((entry): entry is INodeExecutionData => entry !== undefined);
	}
	const dialogues = cast.entries.filter((entry) => !isOutputItem(entry)).length;
	const steps = cast.entries.reduce((sum, entry) => sum + (isOutputItem(entry) ? 0 : entry.plan.speakers.length), 0);
	const reused = output.reduce((sum, item) => sum + (typeof item.json.reused_tasks === 'number' ? item.json.reused_tasks : 0), 0);
	ctx.addExecutionHints({ message: dubDialogue.runCostHint(dialogues, steps, reused), location: 'outputPane' });
	return output;
}
