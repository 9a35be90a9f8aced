import type { IExecuteFunctions } from 'n8n-workflow';

import { describeKlingCode } from '../../helpers/errorCodes';
import { sleepUnlessCancelled } from '../../transport/context';
import { isFinal, type LipSyncApi, type LipSyncTask } from '../../transport/types';
import type { WaitSettings } from '../node.type';
import { taskError } from './output';
import { readTasksById } from './taskList';
import { contextOf, descriptionOf, messageOf } from '../../helpers/errorText';

/** Reads in a row that may fail (each after its own retries) before the waits give up. */
const MAX_FAILED_READS = 3;

/** A failed status read worth polling again: the network, or a retriable refusal (5xxx, 1302, 429/5xx). */
export function isTransient(error: unknown): boolean {
	const { klingCode } = contextOf(error);
	const httpCode =
		typeof error === 'object' && error !== null && 'httpCode' in error ? Number(error.httpCode) : 0;
	if (typeof klingCode === 'number') return describeKlingCode(klingCode).retriable;
	return !httpCode || httpCode === 429 || httpCode >= 500;
}

interface Waiter {
	first: LipSyncTask;
	itemIndex: number;
	deadline: number;
	maxWaitMs: number;
	resolve: (task: LipSyncTask) => void;
	reject: (error: Error) => void;
}

/**
 * A run's reader of its own tasks at Kling: every interval, while an item waits for its task or
 * for a slot, one read tells how all of the run's running tasks stand: a list page (500 tasks)
 * when several run, the task itself when one does. So the reads grow with the run's length, not
 * with its number of tasks. A task turning final frees its slot (`onFreed`).
 */
export class TaskWatch {
	/** The run's tasks that hold a slot at Kling (not final as last read). */
	private readonly running = new Map<string, LipSyncTask>();
	private readonly waiters = new Map<string, Waiter[]>();
	private slotsWanted = 0;
	private reading = false;
	private failedReads = 0;
	private readonly signal: AbortSignal | undefined;

	constructor(
		private readonly ctx: IExecuteFunctions,
		private readonly api: LipSyncApi,
		private readonly intervalMs: number,
		private readonly onFreed: () => void = () => {},
	) {
		this.signal = ctx.getExecutionCancelSignal();
	}

	/** Tasks of the run that run at Kling. */
	get holding(): number {
		return this.running.size;
	}

	/** A task of the run that holds a slot until it is final. */
	hold(task: LipSyncTask): void {
		if (!isFinal(task)) this.running.set(task.taskId, task);
	}

	/** While an item waits for a slot the running tasks are read, to see one end. */
	async whileWantingSlot<T>(work: () => Promise<T>): Promise<T> {
		this.slotsWanted++;
		this.startReading();
		try {
			return await work();
		} finally {
			this.slotsWanted--;
		}
	}

	/** The task once final; it throws when Max Wait passes, the reads keep failing, or the run is cancelled. */
	async untilFinal(
		first: LipSyncTask,
		settings: WaitSettings,
		itemIndex: number,
	): Promise<LipSyncTask> {
		if (isFinal(first)) return first;
		this.hold(first);
		const finished = new Promise<LipSyncTask>((resolve, reject) => {
			const waiter = {
				first,
				itemIndex,
				deadline: Date.now() + settings.maxWaitMs,
				maxWaitMs: settings.maxWaitMs,
				resolve,
				reject,
			};
			this.waiters.set(first.taskId, [...(this.waiters.get(first.taskId) ?? []), waiter]);
		});
		this.startReading();
		return await finished;
	}

	private get needsReads(): boolean {
		return this.waiters.size > 0 || (this.slotsWanted > 0 && this.running.size > 0);
	}

	private startReading(): void {
		if (this.reading || !this.needsReads) return;
		this.reading = true;
		void this.readUntilDone().finally(() => {
			this.reading = false;
			// A wait that began while the last read ended.
			this.startReading();
		});
	}

	private async readUntilDone(): Promise<void> {
		while (this.needsReads) {
			const nearest = Math.min(
				...[...this.waiters.values()].flat().map((waiter) => waiter.deadline),
			);
			const pause = Math.max(0, Math.min(this.intervalMs, nearest - Date.now()));
			if (!(await sleepUnlessCancelled(pause, this.signal))) {
				this.endWaits(
					() => true,
					(waiter) =>
						taskError(
							this.ctx,
							waiter.itemIndex,
							waiter.first,
							'Waiting was cancelled',
							'The execution was stopped; the task keeps running at Kling. Fetch it later with Get Task.',
						),
				);
				return;
			}
			await this.readOnce();
			const now = Date.now();
			this.endWaits(
				(waiter) => waiter.deadline <= now,
				(waiter) =>
					taskError(
						this.ctx,
						waiter.itemIndex,
						this.running.get(waiter.first.taskId) ?? waiter.first,
						`Kling task still ${(this.running.get(waiter.first.taskId) ?? waiter.first).status} after ${(waiter.maxWaitMs / 60_000).toFixed(2)} min`,
						'The task keeps running at Kling. Fetch it later with Get Task (by this task_id), or raise Max Wait.',
					),
			);
		}
	}

	/** One read of every running task; never throws (a read that keeps failing ends the waits). */
	private async readOnce(): Promise<void> {
		const taskIds = [...this.running.keys()];
		if (taskIds.length === 0) return;
		let read: Map<string, LipSyncTask>;
		try {
			read =
				taskIds.length > 1 && this.api.listTasks
					? await readTasksById(this.api, new Set(taskIds))
					: new Map([[taskIds[0], await this.api.getTask(taskIds[0])]]);
			this.failedReads = 0;
		} catch (error) {
			// Each read already retried what is safe to retry; paid tasks are worth a few more reads.
			if (++this.failedReads < MAX_FAILED_READS && isTransient(error)) return;
			this.failedReads = 0;
			const reason = messageOf(error);
			const detail = descriptionOf(error);
			this.endWaits(
				() => true,
				(waiter) =>
					taskError(
						this.ctx,
						waiter.itemIndex,
						waiter.first,
						"Could not get the task's status",
						detail ? `${reason}. ${detail}` : reason,
					),
			);
			return;
		}
		for (const [taskId, task] of read) {
			if (!isFinal(task)) {
				this.running.set(taskId, task);
				continue;
			}
			this.running.delete(taskId);
			this.onFreed();
			for (const waiter of this.waiters.get(taskId) ?? []) {
				// Whether the task was an earlier run's is known at create only: read copies keep it.
				waiter.resolve({ ...task, reused: waiter.first.reused });
			}
			this.waiters.delete(taskId);
		}
	}

	private endWaits(ends: (waiter: Waiter) => boolean, error: (waiter: Waiter) => Error): void {
		for (const [taskId, waiters] of this.waiters) {
			const left = waiters.filter((waiter) => {
				if (!ends(waiter)) return true;
				waiter.reject(error(waiter));
				return false;
			});
			if (left.length > 0) this.waiters.set(taskId, left);
			else this.waiters.delete(taskId);
		}
	}
}

/** Polls one task until it is final, the wait budget is spent, or the execution is cancelled. */
export async function waitForTask(
	ctx: IExecuteFunctions,
	api: LipSyncApi,
	first: LipSyncTask,
	settings: WaitSettings,
	itemIndex: number,
): Promise<LipSyncTask> {
	return await new TaskWatch(ctx, api, settings.pollIntervalMs).untilFinal(
		first,
		settings,
		itemIndex,
	);
}
