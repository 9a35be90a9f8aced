import type { IDataObject } from 'n8n-workflow';

import {
	DeliveryLedger,
	FINAL_READ_MEMORY_MS,
	NOT_FINAL_MEMORY_MS,
	PERSISTED_DELIVERIES,
	READ_BURST,
	READS_AT_ONCE,
	ReadBudget,
	REMEMBERED_DELIVERIES,
	REMEMBERED_FINAL_READS,
	UNKNOWN_MEMORY_MS,
} from '../../nodes/KlingLipSyncTrigger/deliveryGuard';

describe('the trigger’s delivery ledger', () => {
	it('remembers final tasks as read, for a while and a bounded number', () => {
		const ledger = new DeliveryLedger();
		const read = (taskId: string) => ({
			task: { taskId, status: 'succeed' as const, videos: [], raw: {} },
			provider: 'kling',
		});
		ledger.rememberFinal(read('first'), 0);
		expect(ledger.finalRead('first', FINAL_READ_MEMORY_MS - 1)?.task.taskId).toBe('first');
		expect(ledger.finalRead('first', FINAL_READ_MEMORY_MS)).toBeUndefined();
		for (let n = 0; n <= REMEMBERED_FINAL_READS; n++) ledger.rememberFinal(read(`t${n}`), 1);
		expect(ledger.finalRead('t0', 2)).toBeUndefined();
		expect(ledger.finalRead(`t${REMEMBERED_FINAL_READS}`, 2)).toBeDefined();
	});

	it('claims a delivery once, however many copies race for it', () => {
		const ledger = new DeliveryLedger();
		// Each request has its own copy of the static data, as n8n hands them out.
		const copies: IDataObject[] = Array.from({ length: 20 }, () => ({}));
		const won = copies.filter((copy) => ledger.claim('t1:succeed', copy, 1000));
		expect(won).toHaveLength(1);
		expect(ledger.wasDelivered('t1:succeed', {}, 2000)).toBe(true);
		expect(ledger.claim('t1:failed', {}, 2000)).toBe(true);
	});

	it('writes every claim of this process to the static data, so no later write drops an earlier one', () => {
		const ledger = new DeliveryLedger();
		const first: IDataObject = {};
		const second: IDataObject = {};
		ledger.claim('a:succeed', first, 0);
		ledger.claim('b:succeed', second, 0);
		expect(second.deliveries).toEqual(['a:succeed', 'b:succeed']);
	});

	it('keeps what another process persisted, and reads it after a restart', () => {
		const persisted: IDataObject = { deliveries: ['x:succeed'] };
		const restarted = new DeliveryLedger();
		expect(restarted.wasDelivered('x:succeed', persisted, 0)).toBe(true);
		expect(restarted.claim('x:succeed', persisted, 0)).toBe(false);
		expect(restarted.claim('y:succeed', persisted, 0)).toBe(true);
		expect(persisted.deliveries).toEqual(['x:succeed', 'y:succeed']);
	});

	it('is bounded: memory by count and age, the static data by count', () => {
		const ledger = new DeliveryLedger();
		const data: IDataObject = {};
		for (let i = 0; i <= REMEMBERED_DELIVERIES; i++) ledger.claim(`t${i}:succeed`, data, i);
		expect(ledger.sizes.delivered).toBe(REMEMBERED_DELIVERIES);
		expect((data.deliveries as string[]).length).toBe(PERSISTED_DELIVERIES);
		expect(ledger.wasDelivered('t0:succeed', {}, REMEMBERED_DELIVERIES)).toBe(false);
		expect(
			ledger.wasDelivered(`t${REMEMBERED_DELIVERIES}:succeed`, {}, REMEMBERED_DELIVERIES),
		).toBe(true);
	});

	it('remembers unknown and not-final tasks for their windows only', () => {
		const ledger = new DeliveryLedger();
		ledger.rememberUnknown('u', 0);
		ledger.rememberNotFinal('p', 0);
		expect(ledger.isUnknown('u', UNKNOWN_MEMORY_MS - 1)).toBe(true);
		expect(ledger.isUnknown('u', UNKNOWN_MEMORY_MS)).toBe(false);
		expect(ledger.wasNotFinal('p', NOT_FINAL_MEMORY_MS - 1)).toBe(true);
		expect(ledger.wasNotFinal('p', NOT_FINAL_MEMORY_MS)).toBe(false);
	});

	it('shares one read among concurrent deliveries of a task, and forgets it once it ended', async () => {
		const ledger = new DeliveryLedger();
		let reads = 0;
		let release: (value: string) => void = () => undefined;
		const read = () => {
			reads++;
			return new Promise<string>((resolve) => (release = resolve));
		};
		const first = ledger.share('t', read);
		const joined = ledger.readUnderWay<string>('t');
		expect(joined).toBe(first);
		release('done');
		await expect(joined).resolves.toBe('done');
		expect(reads).toBe(1);
		expect(ledger.readUnderWay('t')).toBeUndefined();
	});
});

describe('the trigger’s read budget', () => {
	it('allows a burst, then one read per second, and a fixed number at once', () => {
		const budget = new ReadBudget(READS_AT_ONCE, 1, READ_BURST, 0);
		const taken = Array.from({ length: 10 }, () => budget.tryTake(0)).filter(Boolean).length;
		expect(taken).toBe(READS_AT_ONCE);
		for (let i = 0; i < READS_AT_ONCE; i++) budget.done();
		expect(
			Array.from({ length: 10 }, () => (budget.tryTake(0) ? (budget.done(), 1) : 0)).reduce(
				(a: number, b) => a + b,
				0,
			),
		).toBe(READ_BURST - READS_AT_ONCE);
		expect(budget.tryTake(500)).toBe(false);
		expect(budget.tryTake(1000)).toBe(true);
	});

	it('spends at most burst + seconds reads under a flood of 10 per second for 30 s', () => {
		const budget = new ReadBudget(READS_AT_ONCE, 1, READ_BURST, 0);
		let reads = 0;
		for (let ms = 0; ms < 30_000; ms += 100) {
			if (budget.tryTake(ms)) {
				reads++;
				budget.done();
			}
		}
		expect(reads).toBeLessThanOrEqual(READ_BURST + 30);
		expect(reads).toBeGreaterThanOrEqual(30);
	});
});
