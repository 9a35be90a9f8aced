/**
 * Runs `count` jobs with at most `limit` running at once, keeping results in input order.
 * Unlike n8n's own nodes, items do not wait for each other: 20 lip-syncs take about as long as one.
 */
export async function runPool<T>(
	count: number,
	limit: number,
	job: (index: number) => Promise<T>,
): Promise<T[]> {
	const results = new Array<T>(count);
	let next = 0;
	const worker = async (): Promise<void> => {
		while (next < count) {
			const index = next++;
			results[index] = await job(index);
		}
	};
	const workers = Array.from({ length: Math.max(1, Math.min(limit, count)) }, worker);
	await Promise.all(workers);
	return results;
}

/** At most `limit` holders at once; the others wait their turn, first come first served. */
export class Slots {
	private free: number;
	private readonly waiting: Array<() => void> = [];

	constructor(limit: number) {
		this.free = Math.max(1, limit);
	}

	async use<T>(job: () => Promise<T>): Promise<T> {
		if (this.free > 0) this.free--;
		else await new Promise<void>((resolve) => this.waiting.push(resolve));
		try {
			return await job();
		} finally {
			const next = this.waiting.shift();
			if (next) next();
			else this.free++;
		}
	}
}
