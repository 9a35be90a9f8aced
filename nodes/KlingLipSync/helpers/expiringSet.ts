/**
 * Values remembered for a while, in this process: insertion order is age, so the oldest are
 * dropped first, past a bound or past their time. Memory stays bounded by `maxEntries`.
 */
export class ExpiringMap<V> {
	private readonly entries = new Map<string, { value: V; until: number }>();

	constructor(
		private readonly maxEntries: number,
		private readonly lifetimeMs: number,
	) {}

	get(key: string, now: number): V | undefined {
		const entry = this.entries.get(key);
		if (entry === undefined) return undefined;
		if (entry.until > now) return entry.value;
		this.entries.delete(key);
		return undefined;
	}

	has(key: string, now: number): boolean {
		return this.get(key, now) !== undefined;
	}

	set(key: string, value: V, now: number): void {
		this.entries.delete(key);
		this.entries.set(key, { value, until: now + this.lifetimeMs });
		for (const [oldest, { until }] of this.entries) {
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

/** Keys remembered for a while (see ExpiringMap). */
export class ExpiringSet extends ExpiringMap<true> {
	add(key: string, now: number): void {
		this.set(key, true, now);
	}
}
