/**
 * The tasks one Callback-mode run waits for, carried in the callback URL itself: the execution
 * resumes once, so each callback must be able to check every task of the run, and a waiting
 * execution keeps no state the node could read back.
 */
export const BATCH_QUERY_PARAM = 'kling_batch';

export interface ExpectedTask {
	itemIndex: number;
	externalTaskId: string;
}

const commonPrefix = (values: string[]): string => {
	let prefix = values[0] ?? '';
	for (const value of values) while (!value.startsWith(prefix)) prefix = prefix.slice(0, -1);
	return prefix;
};

/** Compact: derived ids share a long prefix ("n8n-123-abcd1234-r0-i"), so only the rest is listed. */
export function encodeBatch(tasks: ExpectedTask[]): string {
	const prefix = commonPrefix(tasks.map((task) => task.externalTaskId));
	const payload = { p: prefix, t: tasks.map((task) => [task.itemIndex, task.externalTaskId.slice(prefix.length)]) };
	return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

/** The tasks a callback URL names, or undefined when it names none (never throws). */
export function decodeBatch(value: unknown): ExpectedTask[] | undefined {
	if (typeof value !== 'string' || !value) return undefined;
	try {
		const payload = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as { p?: unknown; t?: unknown };
		if (typeof payload.p !== 'string' || !Array.isArray(payload.t) || payload.t.length === 0) return undefined;
		const tasks: ExpectedTask[] = [];
		for (const entry of payload.t) {
			if (!Array.isArray(entry) || !Number.isInteger(entry[0]) || entry[0] < 0 || typeof entry[1] !== 'string') return undefined;
			tasks.push({ itemIndex: entry[0] as number, externalTaskId: payload.p + entry[1] });
		}
		return tasks;
	} catch {
		return undefined;
	}
}

/** The URL with one more query parameter (keeping n8n's own, e.g. the resume token). */
export function withQueryParam(url: string, name: string, value: string): string {
	const parsed = new URL(url);
	parsed.searchParams.set(name, value);
	return parsed.toString();
}
