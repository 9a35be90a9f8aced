import { sleep } from 'n8n-workflow';

/** Longest single sleep: keeps cancellation prompt on n8n versions whose sleep ignores a signal. */
const SLICE_MS = 250;

/** True once the execution was stopped by the user (or the server). */
const isCancelled = (signal: AbortSignal | undefined): boolean => signal?.aborted === true;

/**
 * Sleeps `ms`, waking every 250 ms to check the execution's cancel signal: n8n 2.8's `sleep` takes
 * no signal, so checking between slices is what makes a stop take effect within a second.
 * Resolves false when cancelled, true when the full time passed.
 */
export async function sleepUnlessCancelled(
	ms: number,
	signal: AbortSignal | undefined,
): Promise<boolean> {
	let left = ms;
	while (left > 0) {
		if (isCancelled(signal)) return false;
		const slice = Math.min(SLICE_MS, left);
		await sleep(slice);
		left -= slice;
	}
	return !isCancelled(signal);
}
