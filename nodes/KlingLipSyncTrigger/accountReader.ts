import { sleep } from 'n8n-workflow';

import type { LipSyncApi, LipSyncTask } from '../KlingLipSync/transport/types';
import { READ_BURST, READS_AT_ONCE, READS_PER_SECOND, ReadBudget } from './deliveryGuard';

/** Tasks that may wait for the account's next verification read; past that a delivery is told to retry. */
export const QUEUED_READS = 1_000;
/** The newest tasks, where a task that just ended is: Kling's largest list page. */
const LIST_PAGE_SIZE = 500;
/** How often a read waiting for the budget looks again. */
const TOKEN_WAIT_MS = 100;
/** A task not read by then is given up (its delivery was told to retry): waiting requests stay few. */
export const QUEUE_WAIT_MS = 10_000;

/** What a verification read found for one task. */
export type TaskRead =
	| { task: LipSyncTask; provider: string }
	| { unknown: string }
	| { error: Error };

/**
 * One account's verification reads. Deliveries wait for the next read the budget allows, and one
 * read answers all that wait: a page of the account's newest tasks when several tasks do (a batch
 * ending at 50 tasks at once is verified in one read a second), the task by id when one does, or
 * when the page did not show it (an old task, or one nobody made). So the budget caps the reads,
 * not the deliveries they verify. Reads run one at a time, each sent once.
 */
export class AccountReader {
	private readonly queue = new Map<string, Array<(read: TaskRead) => void>>();
	/** When each queued task was first asked for (the queue's order). */
	private readonly since = new Map<string, number>();
	/** Queued tasks a page did not show: read by id, after any task no page was read for yet. */
	private readonly byIdOnly = new Set<string>();
	private reading = false;
	private connect?: () => Promise<LipSyncApi>;

	constructor(private readonly budget: ReadBudget) {}

	/** The task's read, joining one under way or queued; undefined when the queue is full. */
	read(taskId: string, connect: () => Promise<LipSyncApi>): Promise<TaskRead> | undefined {
		if (!this.queue.has(taskId) && this.queue.size >= QUEUED_READS) return undefined;
		const read = new Promise<TaskRead>((resolve) =>
			this.queue.set(taskId, [...(this.queue.get(taskId) ?? []), resolve]),
		);
		if (!this.since.has(taskId)) this.since.set(taskId, Date.now());
		this.connect = connect;
		void this.readWhileQueued();
		return read;
	}

	get queued(): number {
		return this.queue.size;
	}

	private async readWhileQueued(): Promise<void> {
		if (this.reading) return;
		this.reading = true;
		try {
			while (this.queue.size > 0) {
				this.expire(Date.now());
				if (this.queue.size === 0) break;
				if (!this.budget.tryTake(Date.now())) {
					await sleep(TOKEN_WAIT_MS);
					continue;
				}
				try {
					await this.readOnce();
				} finally {
					this.budget.done();
				}
			}
		} finally {
			this.reading = false;
		}
	}

	/** One read: a list page for the tasks no page was read for (when several), else one task by id. */
	private async readOnce(): Promise<void> {
		const fresh = [...this.queue.keys()].filter((taskId) => !this.byIdOnly.has(taskId));
		let asked: string[] = [];
		try {
			const api = await (this.connect as () => Promise<LipSyncApi>)();
			if (fresh.length > 1 && api.listTasks) {
				asked = fresh;
				for (const task of await api.listTasks(1, LIST_PAGE_SIZE)) {
					if (this.queue.has(task.taskId))
						this.settle(task.taskId, { task, provider: api.provider });
				}
				for (const taskId of asked) if (this.queue.has(taskId)) this.byIdOnly.add(taskId);
				return;
			}
			const taskId = fresh[0] ?? (this.byIdOnly.values().next().value as string);
			asked = [taskId];
			const task = await api.findTask(taskId);
			this.settle(taskId, task ? { task, provider: api.provider } : { unknown: api.provider });
		} catch (error) {
			for (const taskId of asked) this.settle(taskId, { error: error as Error });
			// A read that failed before asking (no connection): the waiting deliveries are told so.
			if (asked.length === 0)
				for (const taskId of [...this.queue.keys()]) this.settle(taskId, { error: error as Error });
		}
	}

	private expire(now: number): void {
		for (const [taskId, since] of this.since) {
			if (since > now - QUEUE_WAIT_MS) break;
			this.settle(taskId, {
				error: new Error(
					`no read for it within ${QUEUE_WAIT_MS / 1000} s: too many callbacks to verify`,
				),
			});
		}
	}

	private settle(taskId: string, read: TaskRead): void {
		for (const resolve of this.queue.get(taskId) ?? []) resolve(read);
		this.queue.delete(taskId);
		this.since.delete(taskId);
		this.byIdOnly.delete(taskId);
	}
}

/** Every account's reader in this process, by credential (triggers on one account share its budget). */
const readers = new Map<string, AccountReader>();

export function readerFor(account: string, now: number): AccountReader {
	let reader = readers.get(account);
	if (!reader)
		readers.set(
			account,
			(reader = new AccountReader(
				new ReadBudget(READS_AT_ONCE, READS_PER_SECOND, READ_BURST, now),
			)),
		);
	return reader;
}
