/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
import {
	AccountReader,
	QUEUE_WAIT_MS,
	QUEUED_READS,
} from '../../nodes/KlingLipSyncTrigger/accountReader';
import { ReadBudget } from '../../nodes/KlingLipSyncTrigger/deliveryGuard';
import type { LipSyncApi, LipSyncTask } from '../../nodes/KlingLipSync/transport/types';

const task = (taskId: string): LipSyncTask =>
	({ taskId, status: 'succeed', videos: [] }) as unknown as LipSyncTask;

/** An account whose newest page holds `listed`; `known` can be read by id too. */
function account(listed: string[], known: string[] = listed) {
	const calls = { list: 0, find: [] as string[] };
	const api = {
		provider: 'kling',
		supports: { listTasks: true },
		async listTasks() {
			calls.list++;
			return listed.map(task);
		},
		async findTask(taskId: string) {
			calls.find.push(taskId);
			return known.includes(taskId) ? task(taskId) : undefined;
		},
	} as unknown as LipSyncApi;
	return { calls, connect: async () => api };
}

describe('AccountReader: verification reads shared by every delivery waiting for one', () => {
	it('many tasks at once: one list page answers all it shows; the rest are read by id', async () => {
		const { calls, connect } = account(['a', 'b', 'c'], ['a', 'b', 'c', 'old']);
		const reader = new AccountReader(new ReadBudget(2, 1000, 1000, Date.now()));
		// The first is read at once, by id; those that arrive meanwhile wait for the next read, a page.
		const reads = ['a', 'b', 'c', 'old', 'forged'].map((taskId) => reader.read(taskId, connect)!);
		const found = await Promise.all(reads);
		expect(
			found.map((read) =>
				'task' in read ? read.task.taskId : 'unknown' in read ? 'unknown' : 'error',
			),
		).toEqual(['a', 'b', 'c', 'old', 'unknown']);
		expect(calls.list).toBe(1);
		expect(calls.find.sort()).toEqual(['a', 'forged', 'old']);
	});

	it('one task: read by id; copies of it share the read', async () => {
		const { calls, connect } = account(['a']);
		const reader = new AccountReader(new ReadBudget(2, 1000, 1000, Date.now()));
		const found = await Promise.all([reader.read('a', connect)!, reader.read('a', connect)!]);
		expect(found.every((read) => 'task' in read)).toBe(true);
		expect(calls).toEqual({ list: 0, find: ['a'] });
	});

	it('reads no faster than its budget, however many deliveries wait', async () => {
		const { calls, connect } = account([]);
		// A burst of 2, then 4 a second.
		const reader = new AccountReader(new ReadBudget(1, 4, 2, Date.now()));
		const started = Date.now();
		const reads = Array.from({ length: 6 }, (_, n) => reader.read(`forged-${n}`, connect)!);
		await Promise.all(reads);
		const spentReads = calls.list + calls.find.length;
		// One page for all six, then each by id.
		expect(spentReads).toBe(7);
		expect(Date.now() - started).toBeGreaterThanOrEqual(((spentReads - 2) / 4) * 1000 - 150);
	});

	it('a task no page was read for goes before those a page missed', async () => {
		const { calls, connect } = account(['fresh-1', 'fresh-2']);
		// A burst of 1, then a read every 0.5 s.
		const reader = new AccountReader(new ReadBudget(1, 2, 1, Date.now()));
		const missed = ['missed-1', 'missed-2', 'missed-3'].map(
			(taskId) => reader.read(taskId, connect)!,
		);
		// missed-1 is read at once; at 0.5 s a page misses the other two; at 0.6 s two genuine ones arrive.
		await new Promise((resolve) => setTimeout(resolve, 600));
		const genuine = await Promise.all(
			['fresh-1', 'fresh-2'].map((taskId) => reader.read(taskId, connect)!),
		);
		expect(genuine.every((read) => 'task' in read)).toBe(true);
		expect(calls.list).toBe(2);
		expect(calls.find).toEqual(['missed-1']);
		await Promise.all(missed);
		expect(calls.find).toEqual(['missed-1', 'missed-2', 'missed-3']);
	});

	it('a full queue turns further tasks away at once; a task not read within 10 s is given up', async () => {
		const { calls, connect } = account([]);
		// No budget at all: nothing is ever read.
		const reader = new AccountReader(new ReadBudget(1, 0, 0, Date.now()));
		const waiting = Array.from({ length: QUEUED_READS }, (_, n) => reader.read(`t${n}`, connect));
		expect(waiting.every((read) => read !== undefined)).toBe(true);
		expect(reader.read('one-more', connect)).toBeUndefined();
		// A task already waiting still joins its read.
		expect(reader.read('t0', connect)).toBeDefined();
		expect(reader.queued).toBe(QUEUED_READS);
		const started = Date.now();
		const given = await Promise.all(waiting);
		expect(Date.now() - started).toBeGreaterThanOrEqual(QUEUE_WAIT_MS - 500);
		expect(
			given.every(
				(read) =>
					read !== undefined &&
					'error' in read &&
					/no read for it within 10 s/.test(read.error.message),
			),
		).toBe(true);
		expect(reader.queued).toBe(0);
		expect(calls).toEqual({ list: 0, find: [] });
	}, 20_000);
});
