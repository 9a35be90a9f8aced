import { RequestPacer } from '../../nodes/KlingLipSync/helpers/pacer';

describe('request pacer (1302)', () => {
	it('is unpaced until the first 1302, then spaces requests, and a burst counts once', () => {
		let now = 0;
		const pacer = new RequestPacer(() => now);
		expect([pacer.nextTurn(), pacer.nextTurn()]).toEqual([
			{ delayMs: 0, startMs: 0 },
			{ delayMs: 0, startMs: 0 },
		]);
		pacer.rateLimited(0);
		pacer.rateLimited(0);
		pacer.rateLimited(500);
		expect(pacer.currentSpacingMs).toBe(250);
		expect([0, 1, 2].map(() => pacer.nextTurn().delayMs)).toEqual([0, 250, 500]);
		now = 1200;
		pacer.rateLimited(1100);
		expect(pacer.currentSpacingMs).toBe(500);
	});

	it('recovers while answers come without 1302, to unpaced', () => {
		const pacer = new RequestPacer(() => 0);
		pacer.rateLimited(0);
		pacer.answered();
		expect(pacer.currentSpacingMs).toBe(225);
		for (let answer = 0; answer < 40; answer++) pacer.answered();
		expect(pacer.currentSpacingMs).toBe(0);
		expect(pacer.nextTurn().delayMs).toBe(0);
	});

	it('never spaces requests more than 10 s apart', () => {
		let now = 0;
		const pacer = new RequestPacer(() => now);
		for (let round = 0; round < 20; round++) {
			now += 2000;
			pacer.rateLimited(now);
		}
		expect(pacer.currentSpacingMs).toBe(RequestPacer.LONGEST_SPACING_MS);
	});
});
