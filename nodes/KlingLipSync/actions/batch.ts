import type { IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { taskKey, type ExpectedTask } from '../helpers/callbackBatch';
import { Slots } from '../helpers/pool';
import { sleepUnlessCancelled } from '../transport/sleep';
import type { LipSyncTask, WhenBusy } from '../transport/types';

/** How long an item waits for a free slot when it does not wait for its task (no wait budget). */
export const QUEUE_BUDGET_MS = 30 * 60_000;
/** Slots held by other workflows free up unseen: look again after this long at most. */
const FIRST_BUSY_WAIT_MS = 2000;
const LONGEST_BUSY_WAIT_MS = 15_000;
const SLICE_MS = 250;

/**
 * Creates that carry their audio inline (binary or base64, up to about 7 MB of request each) at
 * once: the others wait, so the memory a run holds for uploads does not grow with Max Tasks in Flight.
 */
const INLINE_UPLOADS_AT_ONCE = 2;

/**
 * What the items of one node run share: the slots their finished tasks free (an item Kling
 * turned away with 1303 resubmits as soon as one frees), the turns for inline uploads, the tasks
 * a Callback-mode run waits for, and the tasks created so far (so a cancelled run can still say
 * which tasks exist at Kling).
 */
export class Batch {
	/** Turns for creates that carry their audio inline. */
	readonly inlineUploads = new Slots(INLINE_UPLOADS_AT_ONCE);
	private freedSlots = 0;
	/** Callback mode: the tasks (by external_task_id) the run will wait for, in item order. */
	readonly expectedTasks: ExpectedTask[] = [];
	/** Callback mode: the one callback URL every task of the run reports to. */
	callbackUrl?: string;
	private readonly createdTasks = new Map<number, string>();

	constructor(private readonly signal: AbortSignal | undefined) {}

	get cancelled(): boolean {
		return this.signal?.aborted === true;
	}

	/** task_ids created by this run, in item order. */
	get taskIds(): string[] {
		return [...this.createdTasks.entries()].sort(([a], [b]) => a - b).map(([, taskId]) => taskId);
	}

	/** Kept in item order (items are prepared side by side): the resumed run outputs them so. */
	expectTask(itemIndex: number, externalTaskId: string): void {
		const at = this.expectedTasks.findIndex((task) => task.itemIndex > itemIndex);
		this.expectedTasks.splice(at < 0 ? this.expectedTasks.length : at, 0, { itemIndex, key: taskKey(externalTaskId) });
	}

	taskCreated(itemIndex: number, task: Pick<LipSyncTask, 'taskId'>): void {
		this.createdTasks.set(itemIndex, task.taskId);
	}

	/** One of this run's tasks reached a final status: its slot at Kling is free again. */
	taskFinished(): void {
		this.freedSlots++;
	}

	/**
	 * The queue for one item while Kling answers 1303: each call waits until a task of this run
	 * finishes (then resubmits at once), or a growing while for slots other workflows hold.
	 */
	whenBusy(ctx: IExecuteFunctions, itemIndex: number, budgetMs: number): WhenBusy {
		const deadline = Date.now() + budgetMs;
		let round = 0;
		return async () => {
			const longest = Math.min(LONGEST_BUSY_WAIT_MS, FIRST_BUSY_WAIT_MS * 2 ** round++);
			const until = Math.min(deadline, Date.now() + longest);
			for (;;) {
				if (this.freedSlots > 0) {
					this.freedSlots--;
					return;
				}
				const left = until - Date.now();
				if (left <= 0) break;
				if (!(await sleepUnlessCancelled(Math.min(SLICE_MS, left), this.signal))) {
					throw new NodeOperationError(ctx.getNode(), 'The execution was cancelled before this item got a free slot at Kling', {
						itemIndex,
						description: 'No task was created for this item.',
					});
				}
			}
			if (Date.now() >= deadline) {
				throw new NodeOperationError(
					ctx.getNode(),
					`Kling stayed at your account's concurrency limit (error 1303) for ${(budgetMs / 60_000).toFixed(1)} min`,
					{
						itemIndex,
						description:
							'No task was created for this item. Other tasks held every slot of your resource pack; run it again later, lower Max Tasks in Flight, or raise Max Wait.',
					},
				);
			}
		};
	}
}
