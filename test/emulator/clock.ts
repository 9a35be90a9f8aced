/** Time source of the emulator: real by default, manual in tests that must not wait. */
export interface Clock {
	now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export class ManualClock implements Clock {
	constructor(private current = Date.UTC(2026, 10, 24, 12, 0, 0)) {}

	now(): number {
		return this.current;
	}

	advance(ms: number): void {
		this.current += ms;
	}
}
