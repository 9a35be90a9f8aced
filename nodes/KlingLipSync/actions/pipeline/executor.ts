import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { Slots } from '../../helpers/pool';
import { BUSY_LONGEST_WAIT_MS, busyWaitMs } from '../../helpers/retry';
import { sleepUnlessCancelled } from '../../transport/context';
import type { InlineBytes, LipSyncTask, WhenBusy } from '../../transport/types';
import { readAudioInline } from '../shared/audioSource';
import type { RunSettings, TaskRequest } from '../node.type';
import type { TaskOutcome } from './output';
import { TaskWatch } from './poll';
import { runStage, type StageResult } from './stage';
import { addToDescription, contextOf } from '../../helpers/errorText';

/** How long an item waits for a free slot when it does not wait for its task (no wait budget). */
const QUEUE_BUDGET_MS = 30 * 60_000;
const SLICE_MS = 250;
/**
 * How often a run that does not poll its tasks (Callback mode, Wait for Completion off) reads them
 * while items wait for a slot: one read for the run, to start the next task soon after one ends.
 */
const SLOT_READ_INTERVAL_MS = 2000;

/**
 * Creates that carry their audio inline (binary or base64, up to about 7 MB of request each) at
 * once: the others wait, so the memory a run holds for uploads does not grow with Max Tasks in Flight.
 */
const INLINE_UPLOADS_AT_ONCE = 2;

/**
 * Runs a run's task requests: it owns the slots (Max Tasks in Flight, and the account's
 * concurrency: an item Kling turns away with 1303 resubmits as soon as a task of this run
 * finishes), the turns for inline uploads, the cancellation, and the registry of created tasks
 * (so a stopped or failed run still says which paid tasks exist). The request rate is the run's
 * connection's (one budget for every create and poll).
 */
export class TaskExecutor {
	private readonly uploads = new Slots(INLINE_UPLOADS_AT_ONCE);
	/** Per item, the tasks it created, in order (a dialogue makes one per speaker). */
	private readonly created = new Map<number, string[]>();
	private freedSlots = 0;
	/** Creates under way: they count against Max Tasks in Flight before their task exists. */
	private starting = 0;
	private readonly signal: AbortSignal | undefined;
	/** The run's tasks at Kling: one reader for all of them (Poll mode's waits, the slots). */
	private readonly watch: TaskWatch;

	constructor(
		private readonly ctx: IExecuteFunctions,
		private readonly run: RunSettings,
	) {
		this.signal = ctx.getExecutionCancelSignal();
		const interval =
			run.wait && run.waitMode === 'poll' ? run.wait.pollIntervalMs : SLOT_READ_INTERVAL_MS;
		this.watch = new TaskWatch(ctx, run.api, interval, () => this.freedSlots++);
	}

	get cancelled(): boolean {
		return this.signal?.aborted === true;
	}

	/** task_ids created by this run, in item order. */
	get taskIds(): string[] {
		return [...this.created.entries()].sort(([a], [b]) => a - b).flatMap(([, taskIds]) => taskIds);
	}

	/**
	 * Every request, at most Max Tasks in Flight at once: created, waited for (Poll mode) or left
	 * to call back (Callback mode), then mapped to its output by `toOutput`, in input order.
	 * Entries that are output items already (Continue On Fail errors) pass through.
	 */
	async runAll(
		requests: Array<TaskRequest | INodeExecutionData>,
		callbackUrl: string | undefined,
		toOutput: (outcome: TaskOutcome) => Promise<INodeExecutionData>,
	): Promise<StageResult<INodeExecutionData | undefined>> {
		// Every item runs to its end, also after another failed: a task it created is reported.
		return await runStage(
			this.ctx,
			this.run,
			requests,
			this.run.maxInFlight,
			async (request) =>
				this.cancelled ? undefined : await toOutput(await this.execute(request, callbackUrl)),
			false,
		);
	}

	/**
	 * One request: created, then waited for (Poll mode: the outcome holds the final task), left to
	 * call back (Callback mode), or returned as created (no wait).
	 */
	async execute(request: TaskRequest, callbackUrl: string | undefined): Promise<TaskOutcome> {
		const { itemIndex, details } = request;
		const task = await this.create(request, callbackUrl);
		// A task an earlier run paid for reports to that run: it is polled instead.
		if (callbackUrl && !task.reused) return { itemIndex, task, details, awaitsCallback: true };
		const wait = this.run.wait;
		if (!wait) return { itemIndex, task, details };
		return { itemIndex, task: await this.watch.untilFinal(task, wait, itemIndex), details };
	}

	/**
	 * Creates the task with its audio as Kling's sound_file: a URL as it is; audio sent inline
	 * (binary, base64) is read only now, during one of the run's upload turns, so memory holds a
	 * few uploads at a time whatever the batch and Max Tasks in Flight.
	 */
	private async create(
		request: TaskRequest,
		callbackUrl: string | undefined,
	): Promise<LipSyncTask> {
		const whenBusy = this.whenBusy(request.itemIndex, this.run.wait?.maxWaitMs ?? QUEUE_BUDGET_MS);
		// Tasks left to run on their own (Callback mode, no wait) still count against Max Tasks in Flight.
		while (this.watch.holding + this.starting >= this.run.maxInFlight) await whenBusy();
		this.starting++;
		try {
			const task = await this.createNow(request, callbackUrl, whenBusy);
			this.watch.hold(task);
			return task;
		} finally {
			this.starting--;
		}
	}

	/** Sends the create (1303: `whenBusy`, then again) and records the task for the run. */
	private async createNow(
		request: TaskRequest,
		callbackUrl: string | undefined,
		whenBusy: WhenBusy,
	): Promise<LipSyncTask> {
		const { itemIndex, audio } = request;
		const send = async (soundFile: string | InlineBytes | undefined): Promise<LipSyncTask> =>
			await this.run.api.createLipSync(
				{ ...request.create, soundFile, ...(callbackUrl ? { callbackUrl } : {}) },
				whenBusy,
			);
		const sound = audio.sound;
		const task =
			!sound || 'url' in sound
				? await send(sound?.url)
				: await this.uploads.use(
						async () => await send(await readAudioInline(this.ctx, itemIndex, sound)),
					);
		this.created.set(itemIndex, [...(this.created.get(itemIndex) ?? []), task.taskId]);
		return task;
	}

	/**
	 * The queue for one item while Kling answers 1303: each call waits until a task of this run
	 * finishes (then resubmits at once), or a growing while for slots other workflows hold.
	 */
	private whenBusy(itemIndex: number, budgetMs: number): WhenBusy {
		const deadline = Date.now() + budgetMs;
		let round = 0;
		return async () =>
			await this.watch.whileWantingSlot(async () => {
				// Slots other workflows hold free up unseen: look again after a growing while. While the run's
				// own tasks hold slots, one of them ending frees one: the longest wait, so items do not resubmit blind.
				const longest = this.watch.holding > 0 ? BUSY_LONGEST_WAIT_MS : busyWaitMs(round++);
				const until = Math.min(deadline, Date.now() + longest);
				for (;;) {
					if (this.freedSlots > 0) {
						this.freedSlots--;
						return;
					}
					const left = until - Date.now();
					if (left <= 0) break;
					if (!(await sleepUnlessCancelled(Math.min(SLICE_MS, left), this.signal))) {
						throw new NodeOperationError(
							this.ctx.getNode(),
							'The execution was cancelled before this item got a free slot at Kling',
							{
								itemIndex,
								description: 'No task was created for this item.',
							},
						);
					}
				}
				if (Date.now() >= deadline) {
					throw new NodeOperationError(
						this.ctx.getNode(),
						`Kling stayed at your account's concurrency limit (error 1303) for ${(budgetMs / 60_000).toFixed(1)} min`,
						{
							itemIndex,
							description:
								'No task was created for this item. Other tasks held every slot of your resource pack; run it again later, lower Max Tasks in Flight, or raise Max Wait.',
						},
					);
				}
			});
	}

	/** An error that stops the run also names the tasks other items created: they are paid for. */
	withCreatedTasks(error: Error): Error {
		const context = contextOf(error);
		const own = new Set([
			context.task_id,
			...(Array.isArray(context.task_ids) ? context.task_ids : []),
		]);
		const others = this.taskIds.filter((taskId) => !own.has(taskId));
		if (others.length === 0) return error;
		addToDescription(
			error,
			`Other items created these tasks at Kling, which keep running: task_id ${others.join(', ')}.`,
		);
		return error;
	}

	/**
	 * A stopped run still says which paid tasks exist at Kling: in n8n's log (the execution's data
	 * may be kept as it was at the stop) and in the error, for an engine that records it.
	 */
	cancelledError(): NodeOperationError {
		const taskIds = this.taskIds;
		const created = taskIds.length
			? `${taskIds.length} task(s) created at Kling keep running: task_id ${taskIds.join(', ')}`
			: 'no task was created at Kling';
		this.ctx.logger.warn(`Kling Lip Sync "${this.ctx.getNode().name}" was cancelled; ${created}`, {
			taskIds,
		});
		const error = new NodeOperationError(
			this.ctx.getNode(),
			`The execution was cancelled; ${created}`,
			{
				description: taskIds.length ? 'Fetch their results later with Get Task.' : undefined,
			},
		);
		error.context.task_ids = taskIds;
		return error;
	}
}
