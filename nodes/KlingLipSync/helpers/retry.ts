import { describeKlingCode } from './errorCodes';

/** What came back from one attempt, as far as retrying is concerned. */
export interface AttemptOutcome {
	method: 'GET' | 'POST';
	httpStatus?: number;
	/** Kling's business code, when the reply had the envelope. */
	code?: number;
	networkError?: boolean;
	/** The answer was not the provider's JSON (an error page, truncated or junk): like a lost reply. */
	unreadable?: boolean;
	/** A POST whose effect can be looked up (by external_task_id) before it is sent again. */
	recoverable?: boolean;
}

/** Enough for a bad minute: 8 retries back off about 45 s in all (capped at 8 s each). */
export const MAX_RETRIES = 8;
/**
 * Resends of a request that may have been carried out and costs a unit each time (Identify Face):
 * enough for a bad moment, never a bill that grows with a long outage.
 */
export const MAX_UNCERTAIN_RESENDS = 2;
const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 8000;
/** Kling asks for at least 1 s before resubmitting after 1303. */
const MIN_DELAY_AFTER_1303_MS = 1000;

/**
 * Retry only where Kling's documentation says it is safe: 1302, 1303, 5000-5002, bare HTTP
 * 429/502/503/504, network errors on reads, and 1003/1004 once (the next request is re-signed).
 * A POST that may have reached Kling (network error) is never repeated blindly: it could bill twice.
 * It is repeated only when it is `recoverable` (the transport looked it up by external_task_id first).
 */
export function shouldRetry(outcome: AttemptOutcome, attempt: number): boolean {
	if (attempt >= MAX_RETRIES) return false;
	if (outcome.networkError || unreadableAfterWork(outcome))
		return outcome.method === 'GET' || outcome.recoverable === true;
	if (outcome.code !== undefined && outcome.code !== 0) {
		if (outcome.code === 1003 || outcome.code === 1004) return attempt === 0;
		return describeKlingCode(outcome.code).retriable;
	}
	return [429, 502, 503, 504].includes(outcome.httpStatus ?? 0);
}

/** Exponential backoff with full jitter; `random` is injectable so tests are exact. */
export function retryDelayMs(
	attempt: number,
	outcome: AttemptOutcome,
	random: () => number = Math.random,
): number {
	const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt);
	const delay = ceiling / 2 + random() * (ceiling / 2);
	return Math.round(outcome.code === 1303 ? Math.max(delay, MIN_DELAY_AFTER_1303_MS) : delay);
}

/**
 * An answer that cannot be read (not the provider's JSON) may come after the request was carried
 * out (and billed): a 2xx with junk, a gateway's page after the work. A 4xx page refused it, and
 * 503 turned it away.
 */
const unreadableAfterWork = (outcome: AttemptOutcome): boolean => {
	const status = outcome.httpStatus ?? 0;
	return outcome.unreadable === true && !(status >= 400 && status < 500) && status !== 503;
};

/**
 * Whether a failed POST may still have been carried out: the reply was lost, or a server or
 * gateway error came back (the request may have reached Kling before it failed).
 */
export function mayHaveBeenCarriedOut(outcome: AttemptOutcome): boolean {
	if (outcome.method !== 'POST') return false;
	if (outcome.networkError || unreadableAfterWork(outcome)) return true;
	if (outcome.code !== undefined) return outcome.code === 5000 || outcome.code === 5002; // 5001: maintenance, turned away
	// 503 means the service turned the request away; 500/502/504 may come after it was handled.
	return [500, 502, 504].includes(outcome.httpStatus ?? 0);
}

/** The longest wait before a create Kling refused as over the account's concurrency (1303) is sent again. */
export const BUSY_LONGEST_WAIT_MS = 15_000;

/** The wait before the n-th resubmission of a create refused with 1303: 2 s, doubling, at most 15 s. */
export const busyWaitMs = (round: number): number =>
	Math.min(BUSY_LONGEST_WAIT_MS, 2000 * 2 ** round);

/** How long one request keeps trying while the API answers 1302: the run slows down meanwhile. */
export const RATE_LIMIT_BUDGET_MS = 10 * 60_000;

/** The API's rate limit: Kling's 1302, or a bare HTTP 429 from a gateway. */
export const isRateLimited = (outcome: AttemptOutcome): boolean =>
	outcome.code === 1302 || (outcome.code === undefined && outcome.httpStatus === 429);
