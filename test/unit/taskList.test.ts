import { readRunTasks } from '../../nodes/KlingLipSync/actions/pipeline/taskList';
import type { LipSyncApi, LipSyncTask } from '../../nodes/KlingLipSync/transport/types';

describe("reading a Callback run's tasks", () => {
	/** An account's task list, newest first, one task every `spacingS` seconds; only listing is served. */
	const account = (count: number, spacingS: number) => {
		const now = Date.UTC(2026, 11, 2);
		const tasks: LipSyncTask[] = Array.from({ length: count }, (_, index) => ({
			taskId: `t${index}`,
			externalTaskId: `n8n-${index}`,
			status: 'succeed',
			videos: [],
			createdAt: now - index * spacingS * 1000,
			raw: {},
		}));
		const pages: number[] = [];
		const api = {
			supports: { listTasks: true },
			async listTasks(pageNum: number, pageSize: number) {
				pages.push(pageNum);
				return tasks.slice((pageNum - 1) * pageSize, pageNum * pageSize);
			},
		} as unknown as LipSyncApi;
		return { api, pages };
	};

	it('reads one list page when the run is among the newest 500 tasks', async () => {
		const { api, pages } = account(3000, 1);
		const found = await readRunTasks(api, new Set(['t0', 't7', 't499']), (task) => task.taskId);
		expect([...found.keys()].sort()).toEqual(['t0', 't499', 't7']);
		expect(pages).toEqual([1]);
	});

	it('stops paging once the list is older than the run by far: a task whose create failed costs no more pages', async () => {
		const { api, pages } = account(5000, 10);
		const found = await readRunTasks(
			api,
			new Set(['t1', 't2', 'never-created']),
			(task) => task.taskId,
		);
		expect(found.size).toBe(2);
		expect(pages).toEqual([1]);
	});

	it('pages on (at most 10) for a run older than the newest page', async () => {
		const { api, pages } = account(6000, 1);
		const found = await readRunTasks(api, new Set(['t1200']), (task) => task.taskId);
		expect(found.has('t1200')).toBe(true);
		expect(pages).toEqual([1, 2, 3]);
		const missing = account(6000, 1);
		await readRunTasks(missing.api, new Set(['gone']), (task) => task.taskId);
		expect(missing.pages).toHaveLength(10);
	});
});
