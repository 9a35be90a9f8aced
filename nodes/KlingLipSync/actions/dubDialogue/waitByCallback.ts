import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { encodeBatch } from '../../helpers/callbackBatch';
import { taskToJson, isOutputItem } from '../pipeline/output';
import { credentialKey } from '../../transport';
import { isFinal, type LipSyncTask } from '../../transport/types';
import type { RunSettings, WaitSettings } from '../node.type';
import { putToWait } from '../pipeline/callback';
import type { TaskExecutor } from '../pipeline/executor';
import { runStage } from '../pipeline/stage';
import { readTasksById } from '../pipeline/taskList';
import { advanceChain, firstRequest, startChain, type CreateStep } from './chain';
import type { CastDialogue, ChainRun } from './dialogue';
import { chainOutput, stepJson } from './outcome';
import { dialogueCallbackUrl, encodeDialogue, wireOf } from './wire';

/**
 * Callback wait mode for Dub Dialogue: the execution waits without a worker between steps. Each
 * step's task calls back to the execution's resume URL; the webhook reads the task from the API,
 * makes the dialogue's next step (identify the video it made, find the face, create) and keeps
 * waiting; once every dialogue of the run has ended, it resumes the execution with all of them.
 * The URL carries what the next steps need (signed; see dialogueWire) and names the run's
 * dialogues; their steps are found in the account's task list by their external_task_ids.
 */

/** A dialogue of the run and how far its chain has gone. */
interface DialogueInFlight {
	chain: ChainRun;
	callbackUrl: string;
	ended: 'running' | 'done' | 'cancelled';
}

const isInFlight = (entry: unknown): entry is DialogueInFlight =>
	typeof entry === 'object' && entry !== null && 'chain' in entry;

/**
 * Callback mode, in the execution: every dialogue's first step is created with its callback URL
 * (a step an earlier run paid for is taken over and the chain goes on at once). Before waiting,
 * the run's current tasks are read: a step that ended meanwhile (its callback came too early)
 * leads to the next here. Dialogues that all ended are output at once; otherwise the execution
 * waits for the callbacks.
 */
export async function startDialogues(
	ctx: IExecuteFunctions,
	run: RunSettings,
	entries: Array<CastDialogue | INodeExecutionData>,
	executor: TaskExecutor,
): Promise<INodeExecutionData[]> {
	const dialogues = entries.filter((entry): entry is CastDialogue => !isOutputItem(entry));
	const batch = encodeBatch(
		dialogues.map((dialogue) => ({ itemIndex: dialogue.plan.itemIndex, key: dialogue.key })),
	);
	const resumeUrl = String(ctx.evaluateExpression('{{ $execution.resumeUrl }}', 0));
	const signingKey = await credentialKey(ctx);
	const createIn =
		(callbackUrl: string): CreateStep =>
		async (request) =>
			(await executor.execute(request, callbackUrl)).task;
	const advance = async (inFlight: DialogueInFlight): Promise<DialogueInFlight> => ({
		...inFlight,
		ended: await advanceChain(
			ctx,
			run.api,
			inFlight.chain,
			createIn(inFlight.callbackUrl),
			() => executor.cancelled,
		),
	});

	let stage = await runStage(
		ctx,
		run,
		entries,
		run.maxInFlight,
		async (dialogue: CastDialogue) => {
			const { dialogue: encoded, signature } = encodeDialogue(
				wireOf(dialogue, resumeUrl),
				batch,
				signingKey,
				ctx.getExecutionId(),
			);
			return await advance({
				chain: startChain(dialogue, firstRequest(dialogue)),
				callbackUrl: dialogueCallbackUrl(resumeUrl, batch, encoded, signature),
				ended: 'running',
			});
		},
		false,
	);
	for (;;) {
		if (executor.cancelled) throw executor.cancelledError();
		if (stage.error) throw executor.withCreatedTasks(stage.error);
		const running = stage.entries.filter(
			(entry): entry is DialogueInFlight => isInFlight(entry) && entry.ended === 'running',
		);
		if (running.length === 0) break;
		const currentIds = new Set(
			running.map(({ chain }) => chain.tasks[chain.tasks.length - 1].taskId),
		);
		const current = await readTasksById(run.api, currentIds);
		const ended = (inFlight: DialogueInFlight): LipSyncTask | undefined => {
			const { tasks } = inFlight.chain;
			const task = current.get(tasks[tasks.length - 1].taskId);
			return task && isFinal(task) ? task : undefined;
		};
		if (!running.some(ended)) break;
		stage = await runStage(
			ctx,
			run,
			stage.entries,
			run.maxInFlight,
			async (inFlight: DialogueInFlight) => {
				const task = inFlight.ended === 'running' ? ended(inFlight) : undefined;
				if (!task) return inFlight;
				const { tasks, steps } = inFlight.chain;
				tasks[tasks.length - 1] = task;
				steps[steps.length - 1] = {
					...steps[steps.length - 1],
					...stepJson(inFlight.chain.stepsBefore + tasks.length, task),
				};
				return await advance(inFlight);
			},
			false,
		);
	}

	const waiting = stage.entries.filter(
		(entry): entry is DialogueInFlight => isInFlight(entry) && entry.ended === 'running',
	);
	if (waiting.length === 0) {
		const output = await runStage(
			ctx,
			run,
			stage.entries,
			run.maxInFlight,
			async (inFlight: DialogueInFlight) =>
				await chainOutput(ctx, inFlight.chain.dialogue.plan.itemIndex, inFlight.chain, run.wait),
			false,
		);
		if (output.error) throw executor.withCreatedTasks(output.error);
		return output.entries;
	}
	const wait = run.wait as WaitSettings;
	const mostSteps = Math.max(...dialogues.map((dialogue) => dialogue.plan.speakers.length));
	await putToWait(
		ctx,
		waiting.map(({ chain }) => chain.tasks[chain.tasks.length - 1].taskId),
		wait.maxWaitMs * mostSteps,
	);
	// What the run shows while it waits; the resume replaces it with every dialogue's result.
	return stage.entries.map((entry) =>
		isInFlight(entry)
			? {
					json: {
						...taskToJson(entry.chain.tasks[entry.chain.tasks.length - 1]),
						speakers: entry.chain.steps,
						task_ids: entry.chain.tasks.map((task) => task.taskId),
						wait_mode: 'callback',
					},
					pairedItem: { item: entry.chain.dialogue.plan.itemIndex },
				}
			: (entry as INodeExecutionData),
	);
}
