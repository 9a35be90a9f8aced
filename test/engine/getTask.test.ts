import { emulatorCredentials, searchList } from './harness';
import { FAST_WAIT, identify, lipSyncParameters, emulatorSuite } from './helpers';

describe('Get Task', () => {
	const suite = emulatorSuite({ taskTimeMs: 600, submittedMs: 100 });
	const { run } = suite;

	describe('Get Task', () => {
		it('gets a task by task_id and by external_task_id, waiting and downloading the watermarked video', async () => {
			const session = await identify(suite.emu);
			const created = await run({
				items: [{ ...session, face_id: '0' }],
				parameters: lipSyncParameters(suite.emu, {
					waitForCompletion: false,
					options: { watermark: true, externalTaskId: 'get-me' },
				}),
			});
			const taskId = created.output[0].json.task_id as string;
			const byId = await run({
				items: [{ task_id: taskId }],
				parameters: { operation: 'getTask' },
			});
			expect(byId.output[0].json).toEqual(
				expect.objectContaining({ task_id: taskId, external_task_id: 'get-me' }),
			);
			const waited = await run({
				items: [{ external_task_id: 'get-me' }],
				parameters: {
					operation: 'getTask',
					taskIdType: 'externalTaskId',
					waitForCompletion: true,
					waitOptions: { ...FAST_WAIT, watermarked: true },
				},
			});
			expect(waited.output[0].json.task_status).toBe('succeed');
			expect(waited.output[0].binary?.data.fileName).toBe(
				`kling-lipsync-${taskId}-watermarked.mp4`,
			);
		});

		it('at version 1.2 starts Task ID empty in From List (no expression to grey the mode out), and n8n refuses it empty before any call', async () => {
			const session = await identify(suite.emu);
			const created = await run({
				items: [{ ...session, face_id: '0' }],
				parameters: lipSyncParameters(suite.emu, { waitForCompletion: false }),
			});
			const taskId = created.output[0].json.task_id as string;
			suite.emu.resetStats();
			// n8n itself refuses to run a node whose required Task ID is empty, as the editor marks it.
			await expect(
				run({
					items: [{ task_id: taskId }],
					parameters: { operation: 'getTask' },
					typeVersion: 1.2,
				}),
			).rejects.toThrow('The workflow has issues');
			expect(suite.emu.stats.requests).toEqual({});
			const mapped = await run({
				items: [{ task_id: taskId }],
				parameters: {
					operation: 'getTask',
					taskId: { __rl: true, mode: 'id', value: '={{ $json.task_id }}' },
				},
				typeVersion: 1.2,
			});
			expect(mapped.output[0].json.task_id).toBe(taskId);
		});

		it('answers an unknown task with 1203 and a remedy', async () => {
			const { error } = await run({
				parameters: { operation: 'getTask', taskId: '123456789012345678' },
			});
			expect(error?.message).toBe('Kling error 1203: Resource does not exist');
			expect(error?.description).toMatch(/deleted after 30 days/);
		});

		it("offers Task ID's From List: your tasks newest first, searchable, and a resource locator value that Get Task takes", async () => {
			const session = await identify(suite.emu);
			const created = await run({
				items: [{ ...session, face_id: '0' }],
				parameters: lipSyncParameters(suite.emu, {
					waitForCompletion: false,
					options: { externalTaskId: 'find-me-in-the-list' },
				}),
			});
			const taskId = created.output[0].json.task_id as string;
			const first = await searchList('searchTasks', emulatorCredentials(suite.emu.baseUrl));
			expect(first.results[0]).toEqual({
				name: expect.stringMatching(
					new RegExp(
						`^${taskId} \\((submitted|processing|succeed), \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC\\)$`,
					),
				),
				value: taskId,
			});
			const found = await searchList(
				'searchTasks',
				emulatorCredentials(suite.emu.baseUrl),
				'find-me-in',
			);
			expect(found.results.map((result) => result.value)).toEqual([taskId]);
			expect(
				(await searchList('searchTasks', emulatorCredentials(suite.emu.baseUrl), 'no such task'))
					.results,
			).toEqual([]);
			const fromList = await run({
				parameters: { operation: 'getTask', taskId: { __rl: true, mode: 'list', value: taskId } },
			});
			expect(fromList.output[0].json.task_id).toBe(taskId);
			await expect(
				searchList('searchTasks', emulatorCredentials(suite.emu.baseUrl, 'apimodels')),
			).rejects.toThrow(/apimodels\.app does not support listing tasks: choose By ID/);
		});
	});
});
