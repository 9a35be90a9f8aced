/**
 * Keys remembered for a while, in this process: insertion order is age, so the oldest are dropped
 * first, past a bound or past their time. Memory stays bounded by `maxEntries`.
 */
export class ExpiringSet {
	private readonly entries = new Map<string, number>();

	constructor(
		private readonly maxEntries: number,
		private readonly lifetimeMs: number,
	) {}

	has(key: string, now: number): boolean {
		const until = this.entries.get(key);
		if (until === undefined) return false;
		if (until > now) return true;
		this.entries.delete(key);
		return false;
	}

	add(key: string, now: number): void {
		this.entries.delete(key);
		this.entries.set(key, now + this.lifetimeMs);
		for (const [oldest, until] of this.entries) {
			if (this.entries.size <= this.maxEntries && until > now) break;
			this.entries.delete(oldest);
		}
	}

	delete(key: string): void {
		this.entries.delete(key);
	}

	get size(): number {
		return this.entries.size;
	}
}
