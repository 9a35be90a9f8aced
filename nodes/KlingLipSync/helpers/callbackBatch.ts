import { SHORT_KEY_LENGTH, shortKey, workIdOf } from './externalId';

/**
 * The tasks one Callback-mode run waits for, carried in the callback URL itself: the execution
 * resumes once, so each callback must be able to check every task of the run, and n8n hands the
 * resume webhook no other state of the run.
 */
export const BATCH_QUERY_PARAM = 'kling_batch';

/** One task the run waits for: its item, and the short key of its external_task_id. */
export interface ExpectedTask {
	itemIndex: number;
	key: string;
}

const KEYS = new RegExp(`^(?:[A-Za-z0-9_-]{${SHORT_KEY_LENGTH}})+$`);

/** A task's key in a callback URL: a short key of its external_task_id. */
export function taskKey(externalTaskId: string): string {
	// A task made anew after a failure (`-r<n>`) stands for the same work, under the same key.
	return shortKey(workIdOf(externalTaskId));
}

/**
 * Compact: the keys one after another, then the item indexes only where they are not simply
 * 0, 1, 2, ... (an item whose create failed has no task). About 8 characters per task.
 */
export function encodeBatch(tasks: ExpectedTask[]): string {
	const keys = tasks.map((task) => task.key).join('');
	const inOrder = tasks.every((task, position) => task.itemIndex === position);
	return inOrder ? keys : `${keys}.${tasks.map((task) => task.itemIndex.toString(36)).join(',')}`;
}

/** The tasks a callback URL names, or undefined when it names none (never throws). */
export function decodeBatch(value: unknown): ExpectedTask[] | undefined {
	if (typeof value !== 'string' || !value) return undefined;
	const [keys, indexes, extra] = value.split('.');
	if (extra !== undefined || !KEYS.test(keys)) return undefined;
	const count = keys.length / SHORT_KEY_LENGTH;
	const itemIndexes =
		indexes === undefined
			? Array.from({ length: count }, (_, position) => position)
			: indexes.split(',').map((text) => (/^[0-9a-z]+$/.test(text) ? parseInt(text, 36) : NaN));
	if (itemIndexes.length !== count || itemIndexes.some((index) => !Number.isSafeInteger(index)))
		return undefined;
	return itemIndexes.map((itemIndex, position) => ({
		itemIndex,
		key: keys.slice(position * SHORT_KEY_LENGTH, (position + 1) * SHORT_KEY_LENGTH),
	}));
}

/** The URL with one more query parameter (keeping n8n's own, e.g. the resume token). */
export function withQueryParam(url: string, name: string, value: string): string {
	const parsed = new URL(url);
	parsed.searchParams.set(name, value);
	return parsed.toString();
}
