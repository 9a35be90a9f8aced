/**
 * One request budget for everything a node run sends (creates and polls of every item): when
 * the API answers 1302 (rate limit), the whole run slows down instead of each item retrying on its
 * own against a rate the others keep saturated; while answers come back without 1302, it speeds
 * up again until it runs unpaced. (Additive increase, multiplicative decrease, as TCP does.)
 */
export class RequestPacer {
	/** Time between two request starts; 0: unpaced. */
	private spacingMs = 0;
	private nextStartMs = 0;
	/** When the spacing last grew. */
	private slowedAtMs = Number.NEGATIVE_INFINITY;

	constructor(private readonly now: () => number = Date.now) {}

	static readonly FIRST_SPACING_MS = 250;
	static readonly LONGEST_SPACING_MS = 10_000;
	/** Each answer without 1302 takes this share off the spacing. */
	private static readonly RECOVERY = 0.1;
	/** Rate limits count requests per second: 1302s within a second of a slowdown are that same excess. */
	private static readonly WINDOW_MS = 1000;

	get currentSpacingMs(): number {
		return this.spacingMs;
	}

	/** The next request's turn: when it may start (booked now), and how long it waits for it. */
	nextTurn(): { delayMs: number; startMs: number } {
		const now = this.now();
		const startMs = this.spacingMs === 0 ? now : Math.max(now, this.nextStartMs);
		if (this.spacingMs > 0) this.nextStartMs = startMs + this.spacingMs;
		return { delayMs: startMs - now, startMs };
	}

	/**
	 * The API said 1302 to a request that started at `startMs`: twice the spacing (a quarter second
	 * at first). Requests sent before, or within a second after, the last slowdown met the same
	 * excess: they count once, not once each.
	 */
	rateLimited(startMs: number): void {
		if (startMs < this.slowedAtMs + RequestPacer.WINDOW_MS) return;
		this.slowedAtMs = this.now();
		this.spacingMs = Math.min(
			RequestPacer.LONGEST_SPACING_MS,
			Math.max(RequestPacer.FIRST_SPACING_MS, this.spacingMs * 2),
		);
	}

	/** An answer without 1302: a little faster, unpaced once the spacing is small. */
	answered(): void {
		if (this.spacingMs === 0) return;
		this.spacingMs *= 1 - RequestPacer.RECOVERY;
		if (this.spacingMs < 20) this.spacingMs = 0;
	}
}
