/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
import { startEmulator, type Emulator } from '../../emulator/server';
import { emulatorCredentials, runKlingNode, type RunOptions } from '../harness';
import {
	derivedTaskId,
	identify,
	plantTask,
	lipSyncParameters,
	VIDEO,
	waitUntilIdle,
} from '../helpers';
import { logMark, logSince } from '../secrets';

/**
 * Paid tasks are never lost and never paid twice: creates carry an external_task_id and are
 * looked up before any resubmission, 1303 queues items instead of failing them, and a cancelled
 * run still names the tasks it created.
 */
describe("reliability in n8n's engine", () => {
	let emu: Emulator;
	const run = async (
		options: Omit<RunOptions, 'credentials'> & { credentials?: RunOptions['credentials'] },
	) => runKlingNode({ credentials: emulatorCredentials(emu.baseUrl), ...options });

	beforeAll(async () => {
		emu = await startEmulator({ taskTimeMs: 600, submittedMs: 100 });
	});
	afterAll(async () => emu.stop());
	beforeEach(async () => {
		emu.configure({ taskTimeMs: 600, concurrencyLimit: Number.POSITIVE_INFINITY });
		emu.clearFaults();
		await waitUntilIdle(emu);
		emu.resetStats();
	});

	/** Items with different work (a session each): each is one task. */
	const items = async (count: number) => {
		const sessions = await Promise.all(Array.from({ length: count }, () => identify(emu)));
		emu.resetStats();
		return sessions.map((session) => ({ ...session, face_id: '0' }));
	};
	const noDownload = (over = {}) => lipSyncParameters(emu, { downloadVideo: false, ...over });

	describe('idempotent create', () => {
		it('derives the external_task_id from the work: same work, same id, in any execution', async () => {
			const work = await items(2);
			const first = await run({
				items: work,
				parameters: noDownload({ waitForCompletion: false }),
			});
			const second = await run({
				items: [work[1]],
				parameters: noDownload({ waitForCompletion: false }),
			});
			const ids = [...first.output, ...second.output].map((item) =>
				String(item.json.external_task_id),
			);
			expect(ids[0]).toMatch(/^n8n-[0-9a-f]{32}$/);
			expect(ids[0]).not.toBe(ids[1]);
			expect(ids[2]).toBe(ids[1]);
			expect(second.output[0].json).toEqual(
				expect.objectContaining({
					task_id: first.output[1].json.task_id,
					reused_existing_task: true,
				}),
			);
			expect(emu.stats.billed.create).toBe(2);
		});

		it('gives other work another id: audio, timing, volume and watermark all count', async () => {
			const [item] = await items(1);
			const variants = [
				{},
				{ audioUrl: `${emu.baseUrl}/media/fixtures/tone-3s.mp3` },
				{ cropStartMs: 500 },
				{ insertMs: 500 },
				{ options: { soundVolume: 1.5 } },
				{ options: { originalAudioVolume: 0.5 } },
				{ options: { watermark: true } },
			];
			const ids = [];
			for (const over of variants) {
				const { output, error } = await run({
					items: [item],
					parameters: noDownload({ waitForCompletion: false, ...over }),
				});
				expect(error).toBeUndefined();
				ids.push(output[0].json.external_task_id);
			}
			expect(new Set(ids).size).toBe(variants.length);
			expect(emu.stats.billed.create).toBe(variants.length);
		});

		it('a re-run on the same Identify Face output returns the first task, paid once', async () => {
			const work = await items(3);
			const first = await run({ items: work, parameters: noDownload() });
			const again = await run({ items: work, parameters: noDownload() });
			expect(again.error).toBeUndefined();
			expect(again.output.map((item) => item.json.task_id)).toEqual(
				first.output.map((item) => item.json.task_id),
			);
			expect(again.output.map((item) => item.json.reused_existing_task)).toEqual([
				true,
				true,
				true,
			]);
			expect(again.output.map((item) => item.json.task_status)).toEqual(Array(3).fill('succeed'));
			expect(emu.stats.billed.create).toBe(3);
		});

		it('identical items in one run share one task', async () => {
			const [item] = await items(1);
			const { output, error } = await run({ items: [item, item, item], parameters: noDownload() });
			expect(error).toBeUndefined();
			expect(new Set(output.map((entry) => entry.json.task_id)).size).toBe(1);
			expect(output.map((entry) => entry.json.task_status)).toEqual(Array(3).fill('succeed'));
			expect(emu.stats.billed.create).toBe(1);
		});

		it('New Task Every Run makes a new task for the same work', async () => {
			const work = await items(1);
			const first = await run({
				items: work,
				parameters: noDownload({ waitForCompletion: false }),
			});
			const again = await run({
				items: work,
				parameters: noDownload({ waitForCompletion: false, options: { newTaskEveryRun: true } }),
			});
			expect(again.error).toBeUndefined();
			expect(again.output[0].json.task_id).not.toBe(first.output[0].json.task_id);
			expect(again.output[0].json.reused_existing_task).toBeUndefined();
			expect(emu.stats.billed.create).toBe(2);
		});

		describe('a task planted under the id this work derives', () => {
			/** Identify Face's output for a new session, as Lip Sync receives it. */
			const identified = async (videoUrl: string) => ({
				...(await identify(emu, videoUrl)),
				face_id: '0',
				video_url: videoUrl,
				video_id: null,
			});
			it.each([
				['of another video', `${VIDEO}&take=2`, false, /lip-syncs the video at .*take=2/],
				[
					'with another watermark setting',
					VIDEO,
					true,
					/made with Watermark on, this item asks for it off/,
				],
			])(
				'is never adopted when it is %s: a clear error, no success',
				async (_name, plantedVideo, watermark, problem) => {
					const item = await identified(VIDEO);
					const planter = plantedVideo === VIDEO ? item : await identified(plantedVideo);
					await plantTask(emu, planter.session_id, derivedTaskId(item.session_id), watermark);
					emu.resetStats();
					const { output, error } = await run({
						items: [item],
						parameters: noDownload({ cropEndMs: 3000 }),
					});
					expect(output).toEqual([]);
					expect(error?.message).toMatch(/exists at Kling for other work/);
					expect(error?.message).toMatch(problem);
					expect(error?.description).toMatch(/No task was created for this item/);
					expect(emu.stats.billed.create).toBe(0);
				},
			);

			it('is adopted when everything it shows matches (the same work, paid before)', async () => {
				const item = await identified(VIDEO);
				await plantTask(emu, item.session_id, derivedTaskId(item.session_id), false);
				emu.resetStats();
				const { output, error } = await run({
					items: [item],
					parameters: noDownload({ cropEndMs: 3000 }),
				});
				expect(error).toBeUndefined();
				expect(output[0].json).toEqual(
					expect.objectContaining({ reused_existing_task: true, task_status: 'succeed' }),
				);
				expect(emu.stats.billed.create).toBe(0);
			});
		});

		it('finds the task by its external_task_id when the create reply was lost: billed creates == items', async () => {
			emu.injectFault({ route: 'create', kind: 'lostReply', times: 5 });
			const { output, error } = await run({ items: await items(5), parameters: noDownload() });
			expect(error).toBeUndefined();
			expect(output.map((item) => item.json.task_status)).toEqual(Array(5).fill('succeed'));
			expect(emu.stats.billed.create).toBe(5);
			expect(emu.stats.requests.create).toBe(5);
			expect(new Set(output.map((item) => item.json.task_id)).size).toBe(5);
		});

		it("keeps the user's external_task_id through a lost reply", async () => {
			emu.injectFault({ route: 'create', kind: 'lostReply' });
			const externalTaskId = `mine-${Date.now()}`;
			const { output } = await run({
				items: await items(1),
				parameters: noDownload({ options: { externalTaskId } }),
			});
			expect(output[0].json).toEqual(
				expect.objectContaining({ external_task_id: externalTaskId, task_status: 'succeed' }),
			);
			expect(emu.stats.billed.create).toBe(1);
		});

		it.each([
			['a reset before Kling saw it', { kind: 'reset' as const }],
			['Kling error 5000', { kind: 'error' as const, code: 5000 }],
			['a bare HTTP 502', { kind: 'http' as const, status: 502 }],
			['a bare HTTP 504', { kind: 'http' as const, status: 504 }],
		])('looks the task up, then resubmits once after %s', async (_name, fault) => {
			emu.injectFault({ route: 'create', ...fault });
			const { output, error } = await run({ items: await items(1), parameters: noDownload() });
			expect(error).toBeUndefined();
			expect(output[0].json.task_status).toBe('succeed');
			expect(emu.stats.requests.create).toBe(2);
			expect(emu.stats.billed.create).toBe(1);
		});

		it('recovers when the lookup missed and the resubmission meets its own external_task_id', async () => {
			emu.injectFault({ route: 'create', kind: 'lostReply' });
			emu.injectFault({ route: 'get', kind: 'error', code: 1203 });
			const { output, error } = await run({ items: await items(1), parameters: noDownload() });
			expect(error).toBeUndefined();
			expect(output[0].json.task_status).toBe('succeed');
			expect(emu.stats.billed.create).toBe(1);
			expect(emu.stats.repeatedExternalTaskIds).toBe(1);
		});

		it("refuses an external_task_id an earlier run used, instead of passing that run's task off as new", async () => {
			const externalTaskId = `reused-${Date.now()}`;
			const first = await run({
				items: await items(1),
				parameters: noDownload({ waitForCompletion: false, options: { externalTaskId } }),
			});
			expect(first.output[0].json.external_task_id).toBe(externalTaskId);
			const again = await run({
				items: await items(1),
				parameters: noDownload({ options: { externalTaskId } }),
			});
			expect(again.error?.message).toBe('Kling error 1201: Invalid parameter');
			expect(again.error?.description).toMatch(/already exists/);
			expect(emu.stats.requests.get ?? 0).toBe(0);
		});

		it('never resends a create a provider without external ids may have carried out', async () => {
			emu.injectFault({ route: 'create', kind: 'lostReply' });
			const { error } = await run({
				credentials: emulatorCredentials(emu.baseUrl, 'apimodels'),
				items: [{ session_id: (await identify(emu)).session_id, face_id: '0' }],
				parameters: noDownload(),
			});
			expect(error?.message).toMatch(/Could not reach the apimodels\.app API/);
			expect(error?.description).toMatch(
				/may have reached apimodels\.app .* did not send it again/,
			);
			expect(emu.stats.requests.create).toBe(1);
		});
	});

	describe('waiting through trouble', () => {
		it('keeps polling after polls that failed even with their retries', async () => {
			emu.injectFault({ route: 'get', kind: 'reset', times: 10 });
			const { output, error } = await run({ items: await items(1), parameters: noDownload() });
			expect(error).toBeUndefined();
			expect(output[0].json.task_status).toBe('succeed');
			expect(emu.stats.faults.reset).toBe(10);
		}, 60_000);

		it('stops at once, naming the task, when Kling says the task does not exist', async () => {
			emu.injectFault({ route: 'get', kind: 'error', code: 1203, times: 3 });
			const { error } = await run({ items: await items(1), parameters: noDownload() });
			expect(error?.message).toMatch(/^Could not get the task's status \(task_id \d{18}\)/);
			expect(emu.stats.requests.get).toBe(1);
		});
	});

	describe('1303: over the concurrency limit', () => {
		it('queues items and resubmits as tasks finish, never failing the batch', async () => {
			emu.configure({ concurrencyLimit: 2, taskTimeMs: 800 });
			const { output, error } = await run({
				items: await items(6),
				parameters: noDownload({ options: { maxInFlight: 6 } }),
			});
			expect(error).toBeUndefined();
			expect(output.map((item) => item.json.task_status)).toEqual(Array(6).fill('succeed'));
			expect(emu.stats.billed.create).toBe(6);
			expect(emu.stats.highestConcurrency).toBeLessThanOrEqual(2);
			expect(emu.stats.rejected[1303]).toBeGreaterThan(0);
			expect(output.map((item) => item.pairedItem)).toEqual(
				[0, 1, 2, 3, 4, 5].map((item) => ({ item })),
			);
		});

		it('gives up after the wait budget with a clear error and no task', async () => {
			emu.configure({ concurrencyLimit: 0 });
			const { error } = await run({
				items: await items(1),
				parameters: noDownload({ waitOptions: { pollIntervalSeconds: 0.2, maxWaitMinutes: 0.05 } }),
			});
			expect(error?.message).toMatch(
				/stayed at your account's concurrency limit \(error 1303\) for 0\.1 min/,
			);
			expect(error?.description).toMatch(/No task was created/);
			expect(emu.stats.billed.create).toBe(0);
		});
	});

	describe('1302: over the account rate limit', () => {
		it('slows the whole run down: 20 videos against 4 requests/s all complete, each paid once', async () => {
			const work = await items(20);
			emu.configure({ requestsPerSecond: 4, taskTimeMs: 1500 });
			try {
				const { output, error } = await run({
					items: work,
					parameters: noDownload({
						waitOptions: { pollIntervalSeconds: 0.5, maxWaitMinutes: 5 },
						options: { maxInFlight: 20 },
					}),
				});
				expect(error).toBeUndefined();
				expect(output.map((item) => item.json.task_status)).toEqual(Array(20).fill('succeed'));
				expect(emu.stats.billed.create).toBe(20);
				expect(emu.stats.rejected[1302]).toBeGreaterThan(0);
			} finally {
				emu.configure({ requestsPerSecond: Number.POSITIVE_INFINITY });
			}
		}, 120_000);
	});

	describe('cancellation', () => {
		it("stops within a second and names every created task in n8n's log", async () => {
			emu.configure({ taskTimeMs: 60_000 });
			const batch = await items(3);
			const mark = logMark();
			const started = Date.now();
			const result = await run({
				items: batch,
				parameters: noDownload({ waitOptions: { pollIntervalSeconds: 5, maxWaitMinutes: 5 } }),
				cancelAfterMs: 800,
			});
			const stoppedAfter = Date.now() - started;
			expect(result.status).toBe('canceled');
			expect(stoppedAfter).toBeLessThan(800 + 1000);
			expect(emu.stats.billed.create).toBe(3);
			// The node's own promise ends within a slice of the stop: wait for its log line.
			for (
				const deadline = Date.now() + 1000;
				!logSince(mark).some((line) => /cancelled/.test(line.message)) && Date.now() < deadline;

			) {
				await new Promise((resolve) => setTimeout(resolve, 25));
			}
			const line = logSince(mark).find((entry) => /was cancelled/.test(entry.message));
			expect(line?.level).toBe('warn');
			const taskIds = (line?.meta as { taskIds: string[] }).taskIds;
			expect(taskIds).toHaveLength(3);
			for (const taskId of taskIds) {
				expect(line?.message).toContain(taskId);
				expect(emu.task(taskId)).toBeDefined();
			}
		});

		it('does not submit items that had not started when the run was cancelled', async () => {
			emu.configure({ taskTimeMs: 60_000 });
			await run({
				items: await items(4),
				parameters: noDownload({
					options: { maxInFlight: 1 },
					waitOptions: { pollIntervalSeconds: 5, maxWaitMinutes: 5 },
				}),
				cancelAfterMs: 600,
			});
			await new Promise((resolve) => setTimeout(resolve, 600));
			expect(emu.stats.billed.create).toBe(1);
		});
	});
});
