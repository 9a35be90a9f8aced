import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import type { RunSettings } from '../node.type';
import { TaskExecutor } from '../pipeline/executor';
import { isOutputItem } from '../pipeline/output';
import { planAll, runStage } from '../pipeline/stage';
import { castDialogue } from './casting';
import { advanceChain, firstRequest, startChain, type CreateStep } from './chain';
import type { CastDialogue } from './dialogue';
import { runCostHint } from './cost';
import { plan } from './dubDialogue.operation';
import { chainOutput } from './outcome';
import { startDialogues } from './waitByCallback';

/**
 * Dub Dialogue's run: plan all; identify every dialogue's video and place its speakers (a dialogue
 * that cannot be dubbed stops the run before any task); then the dialogues run their steps, at
 * most Max Tasks in Flight dialogues at once, each step through the executor (in Callback mode the
 * execution waits between steps, and the webhook makes the next ones).
 */
export async function runDialogues(
	ctx: IExecuteFunctions,
	run: RunSettings,
): Promise<INodeExecutionData[]> {
	const plans = await planAll(ctx, run, plan);
	const cast = await runStage(
		ctx,
		run,
		plans,
		run.maxInFlight,
		async (planned) => await castDialogue.call(ctx, planned, run),
		true,
	);
	if (cast.error) throw cast.error;

	const executor = new TaskExecutor(ctx, run);
	let output: INodeExecutionData[];
	if (run.waitMode === 'callback') {
		output = await startDialogues(ctx, run, cast.entries, executor);
	} else {
		const executed = await runStage(
			ctx,
			run,
			cast.entries,
			run.maxInFlight,
			async (dialogue) =>
				executor.cancelled ? undefined : await execute.call(ctx, dialogue, run, executor),
			false,
		);
		if (executor.cancelled) throw executor.cancelledError();
		if (executed.error) throw executor.withCreatedTasks(executed.error);
		output = executed.entries.filter((entry): entry is INodeExecutionData => entry !== undefined);
	}
	const dialogues = cast.entries.filter((entry) => !isOutputItem(entry)).length;
	const steps = cast.entries.reduce(
		(sum, entry) => sum + (isOutputItem(entry) ? 0 : entry.plan.speakers.length),
		0,
	);
	const reused = output.reduce(
		(sum, item) => sum + (typeof item.json.reused_tasks === 'number' ? item.json.reused_tasks : 0),
		0,
	);
	ctx.addExecutionHints({ message: runCostHint(dialogues, steps, reused), location: 'outputPane' });
	return output;
}

/**
 * Poll mode: the steps one after another, each created and waited for through the run's executor
 * (its slots, uploads and registry of paid tasks); the last step's video is the item's output.
 */
async function execute(
	this: IExecuteFunctions,
	dialogue: CastDialogue,
	run: RunSettings,
	executor: TaskExecutor,
): Promise<INodeExecutionData | undefined> {
	const chain = startChain(dialogue, firstRequest(dialogue));
	const createStep: CreateStep = async (request) =>
		(await executor.execute(request, undefined)).task;
	const ended = await advanceChain(this, run.api, chain, createStep, () => executor.cancelled);
	return ended === 'done'
		? await chainOutput(this, dialogue.plan.itemIndex, chain, run.wait)
		: undefined;
}
