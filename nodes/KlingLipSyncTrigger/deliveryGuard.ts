import type { IDataObject } from 'n8n-workflow';

import { ExpiringMap, ExpiringSet } from '../KlingLipSync/helpers/expiringSet';
import type { LipSyncTask } from '../KlingLipSync/transport/types';

/**
 * What the trigger remembers between deliveries, and what it may spend on them. Anyone who learns
 * the trigger's URL can POST to it, and Kling resends a callback whenever an answer is slow, so two
 * costs must stay bounded: runs (one per task and status) and API reads (the account's rate budget).
 *
 * The state lives in this process, not in the workflow's static data: n8n hands each webhook
 * request its own copy of the static data and writes it back when the request ends, so concurrent
 * requests would not see each other's claims, and the last write would drop the others. Claims
 * here are made without an await between check and record, so they hold under any concurrency in
 * one n8n process. The newest claims are also written to the static data, so repeats are still
 * dropped after a restart.
 */

/** Verified deliveries kept per trigger in memory (about 100 bytes each: 1 MB), and for how long. */
export const REMEMBERED_DELIVERIES = 10_000;
export const DELIVERY_MEMORY_MS = 30 * 24 * 60 * 60_000;
/** The newest deliveries also kept in the workflow's static data (across restarts). */
export const PERSISTED_DELIVERIES = 1_000;
/** How long a task id the API did not know is answered without a read, and how many are kept. */
export const UNKNOWN_MEMORY_MS = 10 * 60_000;
export const REMEMBERED_UNKNOWN = 10_000;
/** How long a read that found the task not yet final stands for a claimed final status. */
export const NOT_FINAL_MEMORY_MS = 3_000;
/**
 * Final tasks as read from the API (a final task does not change), and how many are kept (about
 * 1 KB each): a delivery answered before its read ended finds the task here when it comes back.
 */
export const FINAL_READ_MEMORY_MS = 10 * 60_000;
export const REMEMBERED_FINAL_READS = 1_000;

/** API reads the trigger makes per account: at most this many at once, and per second after a burst. */
export const READS_AT_ONCE = 2;
export const READS_PER_SECOND = 1;
export const READ_BURST = 4;
/**
 * The node answers every delivery by then, leaving n8n's own handling of the request room within
 * the 1 s a sender is promised. A read still under way goes on, and the request ends (503): n8n
 * 2.41 holds an expression isolate (several MB) for each webhook request until it ends, so a
 * request waiting for a read would cost memory per delivery. The sender's next try finds the read.
 */
export const ANSWER_WITHIN_MS = 600;
/** A verification read that has not answered by then is given up. */
export const READ_TIMEOUT_MS = 10_000;
/** What a sender is told to wait before it tries again (seconds). */
export const RETRY_AFTER_SECONDS = 5;

/** One trigger's memory of deliveries: what started a run, what the API did not know. */
export class DeliveryLedger {
	private readonly delivered = new ExpiringSet(REMEMBERED_DELIVERIES, DELIVERY_MEMORY_MS);
	private readonly unknown = new ExpiringSet(REMEMBERED_UNKNOWN, UNKNOWN_MEMORY_MS);
	private readonly notFinal = new ExpiringSet(REMEMBERED_UNKNOWN, NOT_FINAL_MEMORY_MS);
	private readonly finalReads = new ExpiringMap<{ task: LipSyncTask; provider: string }>(
		REMEMBERED_FINAL_READS,
		FINAL_READ_MEMORY_MS,
	);
	private readonly reads = new Map<string, Promise<unknown>>();
	/** This process's newest claims, oldest first: what it writes to the static data. */
	private readonly recent: string[] = [];

	/** Whether this delivery ("<task_id>:<status>") started a run already, here or in the static data. */
	wasDelivered(key: string, staticData: IDataObject, now: number): boolean {
		return this.delivered.has(key, now) || persistedKeys(staticData).includes(key);
	}

	/**
	 * Records the delivery and writes the newest ones to the static data; false when it was
	 * recorded already (a repeat: no run). Synchronous, so concurrent requests cannot both win.
	 */
	claim(key: string, staticData: IDataObject, now: number): boolean {
		if (this.wasDelivered(key, staticData, now)) return false;
		this.delivered.add(key, now);
		this.recent.push(key);
		if (this.recent.length > PERSISTED_DELIVERIES) this.recent.shift();
		// What another process wrote is kept too (several webhook processes share the static data).
		const mine = new Set(this.recent);
		const theirs = persistedKeys(staticData).filter((other) => !mine.has(other));
		staticData.deliveries = [...theirs, ...this.recent].slice(-PERSISTED_DELIVERIES);
		return true;
	}

	isUnknown = (taskId: string, now: number): boolean => this.unknown.has(taskId, now);
	rememberUnknown = (taskId: string, now: number): void => this.unknown.add(taskId, now);
	wasNotFinal = (taskId: string, now: number): boolean => this.notFinal.has(taskId, now);
	rememberNotFinal = (taskId: string, now: number): void => this.notFinal.add(taskId, now);
	finalRead = (taskId: string, now: number): { task: LipSyncTask; provider: string } | undefined =>
		this.finalReads.get(taskId, now);
	rememberFinal = (read: { task: LipSyncTask; provider: string }, now: number): void =>
		this.finalReads.set(read.task.taskId, read, now);

	/** The read of this task already under way, if any: concurrent deliveries share one read. */
	readUnderWay<T>(taskId: string): Promise<T> | undefined {
		return this.reads.get(taskId) as Promise<T> | undefined;
	}

	/** Starts a read that concurrent deliveries of the same task join until it ends. */
	share<T>(taskId: string, read: () => Promise<T>): Promise<T> {
		const shared = read().finally(() => this.reads.delete(taskId));
		this.reads.set(taskId, shared);
		return shared;
	}

	/** How much the ledger holds, for tests and benchmarks. */
	get sizes(): { delivered: number; unknown: number; readsUnderWay: number } {
		return {
			delivered: this.delivered.size,
			unknown: this.unknown.size,
			readsUnderWay: this.reads.size,
		};
	}
}

const persistedKeys = (staticData: IDataObject): string[] =>
	Array.isArray(staticData.deliveries)
		? (staticData.deliveries as unknown[]).filter((key): key is string => typeof key === 'string')
		: [];

/**
 * A token bucket with a cap on reads at once: what the trigger may spend of an account's rate
 * budget. A delivery that finds no token is answered at once (retry later) and reads nothing.
 */
export class ReadBudget {
	private tokens: number;
	private refilledAt: number;
	private running = 0;

	constructor(
		private readonly atOnce = READS_AT_ONCE,
		private readonly perSecond = READS_PER_SECOND,
		private readonly burst = READ_BURST,
		now = 0,
	) {
		this.tokens = burst;
		this.refilledAt = now;
	}

	/** Takes one read if the budget allows it now; call `done` when the read has ended. */
	tryTake(now: number): boolean {
		this.tokens = Math.min(
			this.burst,
			this.tokens + ((now - this.refilledAt) / 1000) * this.perSecond,
		);
		this.refilledAt = now;
		if (this.running >= this.atOnce || this.tokens < 1) return false;
		this.tokens -= 1;
		this.running++;
		return true;
	}

	done(): void {
		this.running = Math.max(0, this.running - 1);
	}
}

/** Every trigger's ledger in this process, by workflow and node. */
const ledgers = new Map<string, DeliveryLedger>();
export function ledgerFor(scope: string): DeliveryLedger {
	let ledger = ledgers.get(scope);
	if (!ledger) ledgers.set(scope, (ledger = new DeliveryLedger()));
	return ledger;
}
