import type { INodeExecutionData, IWebhookFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import type { ExpectedTask } from '../../helpers/callbackBatch';
import { chainStepOf } from '../../helpers/externalId';
import { taskToJson, errorItem } from '../pipeline/output';
import type { RunContext } from '../../transport';
import type { LipSyncApi, LipSyncTask } from '../../transport/types';
import type { WaitSettings } from '../node.type';
import { scanTaskList } from '../pipeline/taskList';
import { chainError, chainOutput, stepFailed, stepJson, stepLabel } from './outcome';

/** Reading a Callback-mode run's dialogues back from the account's task list, and their resumed items. */

/** A dialogue as the account's task list shows it: its steps' tasks, in step order. */
export interface ListedDialogue extends ExpectedTask {
	tasks: LipSyncTask[];
	/** Its last step has succeeded, or a step failed: it goes no further. */
	ended: boolean;
	/**
	 * A step succeeded long ago and no next step exists: its callback never reached n8n (or the
	 * next step could not be made), so nothing will move it on.
	 */
	stalled: boolean;
}

/**
 * How long after a step ended its next step may still be on its way (the webhook identifies and
 * creates within seconds; Kling retries a callback n8n did not take): longer than any clock skew.
 */
const STALLED_AFTER_MS = 15 * 60_000;

/** Every dialogue of the run from the task list (newest pages first, until each one's first step was seen). */
export async function readDialogues(
	api: LipSyncApi,
	expected: ExpectedTask[],
): Promise<ListedDialogue[]> {
	const byKey = new Map(expected.map((dialogue) => [dialogue.key, new Map<number, LipSyncTask>()]));
	const firstSteps = new Set<string>();
	await scanTaskList(
		api,
		(task) => {
			const step = chainStepOf(task.externalTaskId);
			const steps = step && byKey.get(step.key);
			if (!step || !steps) return false;
			// Newest first: a step's newest task is its current one.
			if (!steps.has(step.step)) steps.set(step.step, task);
			if (step.step === 1) firstSteps.add(step.key);
			return true;
		},
		() => firstSteps.size >= byKey.size,
	);
	return expected.map((dialogue) => {
		const steps = byKey.get(dialogue.key) as Map<number, LipSyncTask>;
		const tasks = [...steps.entries()].sort(([a], [b]) => a - b).map(([, task]) => task);
		const last = tasks[tasks.length - 1];
		const ended =
			tasks.some((task) => task.status === 'failed') ||
			(last !== undefined &&
				last.status === 'succeed' &&
				chainStepOf(last.externalTaskId)?.last === true);
		const stalled =
			!ended &&
			last?.status === 'succeed' &&
			last.updatedAt !== undefined &&
			Date.now() - last.updatedAt > STALLED_AFTER_MS;
		return { ...dialogue, tasks, ended, stalled };
	});
}

/** A resumed dialogue that did not end well, as an item that says why (the run is never lost). */
function failureItem(ctx: RunContext, dialogue: ListedDialogue, error: Error): INodeExecutionData {
	const stopped = chainError(ctx, dialogue.itemIndex, error, dialogue);
	const last = dialogue.tasks[dialogue.tasks.length - 1];
	const { json } = errorItem(stopped, dialogue.itemIndex);
	return {
		json: {
			...(last ? taskToJson(last) : {}),
			speakers: dialogue.tasks.map((task, index) => stepJson(index + 1, task)),
			...json,
		},
		pairedItem: { item: dialogue.itemIndex },
	};
}

/** Every dialogue of the run as its resumed item; `stopped` is the one this call could not take on. */
export async function resumedItems(
	ctx: IWebhookFunctions,
	dialogues: ListedDialogue[],
	wait: WaitSettings,
	stopped?: { key: string; error: Error },
): Promise<INodeExecutionData[]> {
	const items: INodeExecutionData[] = [];
	const stoppedItem =
		stopped && dialogues.find((dialogue) => dialogue.key === stopped.key)?.itemIndex;
	// One video at a time, as the resumed run downloads them.
	for (const dialogue of dialogues) {
		const { itemIndex, tasks } = dialogue;
		const failed = tasks.find((task) => task.status === 'failed');
		const fail = (message: string): Error =>
			new NodeOperationError(ctx.getNode(), message, { itemIndex });
		if (stopped?.key === dialogue.key) {
			items.push(failureItem(ctx, dialogue, stopped.error));
		} else if (tasks.length === 0) {
			items.push(
				failureItem(
					ctx,
					dialogue,
					fail(
						'No task of this dialogue was found among your newest 5,000 tasks: its first step was not created',
					),
				),
			);
		} else if (failed) {
			items.push(
				failureItem(
					ctx,
					dialogue,
					stepFailed(ctx, itemIndex, tasks.indexOf(failed) + 1, failed, undefined),
				),
			);
		} else if (dialogue.ended) {
			try {
				items.push(
					await chainOutput(
						ctx,
						itemIndex,
						{ tasks, steps: tasks.map((task, index) => stepJson(index + 1, task)) },
						wait,
					),
				);
			} catch (error) {
				items.push(failureItem(ctx, dialogue, error as Error));
			}
		} else if (dialogue.stalled) {
			items.push(
				failureItem(
					ctx,
					dialogue,
					fail(
						`${stepLabel(tasks.length + 1, undefined)}: the step was never made: the callback of speaker ${tasks.length}'s task did not reach n8n, or the step could not be made then`,
					),
				),
			);
		} else {
			const current = tasks[tasks.length - 1];
			const why =
				stoppedItem !== undefined
					? `the dialogue of item ${stoppedItem} could not go on`
					: 'the other dialogues had ended and this one did not move on';
			items.push(
				failureItem(
					ctx,
					dialogue,
					fail(
						`${stepLabel(tasks.length, undefined)}: the run stopped waiting here (task_id ${current.taskId}, ${current.status}): ${why}`,
					),
				),
			);
		}
	}
	return items;
}
