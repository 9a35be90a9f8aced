import type { LipSyncApi, LipSyncTask } from '../../transport/types';

/**
 * Reading many tasks of the account at once: Kling's task list, newest first, holds 500 tasks a
 * page, so one read tells how a whole run stands.
 */

/** Tasks a list page holds (Kling's largest page), and the pages read at most (5,000 newest tasks). */
const LIST_PAGE_SIZE = 500;
const MAX_LIST_PAGES = 10;
/** How far apart a run's creates may lie (1303 queueing included), for where paging may stop. */
const RUN_SPREAD_MS = 30 * 60_000;

/**
 * Reads the account's task list, newest first, a page at a time, showing each task to `visit`,
 * until `complete` says the run's tasks were all seen, a page is the last, or the pages pass the
 * run's creates (a run of up to 500 tasks: one read).
 */
export async function scanTaskList(
	api: LipSyncApi,
	visit: (task: LipSyncTask) => boolean,
	complete: () => boolean,
): Promise<void> {
	if (!api.listTasks) return;
	let oldestFound = Number.POSITIVE_INFINITY;
	for (let page = 1; !complete() && page <= MAX_LIST_PAGES; page++) {
		const tasks = await api.listTasks(page, LIST_PAGE_SIZE);
		for (const task of tasks) {
			if (visit(task)) oldestFound = Math.min(oldestFound, task.createdAt ?? oldestFound);
		}
		if (tasks.length < LIST_PAGE_SIZE) break;
		// Past the run's creates (a task whose create failed never appears): stop reading pages.
		const oldestListed = tasks[tasks.length - 1]?.createdAt;
		if (
			Number.isFinite(oldestFound) &&
			oldestListed !== undefined &&
			oldestListed < oldestFound - RUN_SPREAD_MS
		)
			break;
	}
}

/**
 * The current state of a run's tasks in as few reads as the API allows: list pages until every
 * task was seen. `keyOf` says which of the wanted keys a listed task is. A task not among the
 * newest pages is read by itself where `readOne` can.
 */
export async function readRunTasks(
	api: LipSyncApi,
	wanted: Set<string>,
	keyOf: (task: LipSyncTask) => string | undefined,
	readOne?: (key: string) => Promise<LipSyncTask | undefined>,
): Promise<Map<string, LipSyncTask>> {
	const found = new Map<string, LipSyncTask>();
	await scanTaskList(
		api,
		(task) => {
			const key = keyOf(task);
			if (key === undefined || !wanted.has(key)) return false;
			// Newest first: a key's first task is its current one (a task made anew after a failure).
			if (!found.has(key)) found.set(key, task);
			return true;
		},
		() => found.size >= wanted.size,
	);
	if (readOne) {
		for (const key of wanted) {
			if (found.has(key)) continue;
			const task = await readOne(key);
			if (task) found.set(key, task);
		}
	}
	return found;
}

/** Tasks by task_id: list pages first, then by id each one the pages did not show. */
export async function readTasksById(
	api: LipSyncApi,
	taskIds: Set<string>,
): Promise<Map<string, LipSyncTask>> {
	return await readRunTasks(
		api,
		taskIds,
		(task) => task.taskId,
		async (taskId) => await api.findTask(taskId),
	);
}
