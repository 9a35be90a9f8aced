/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
import { startEmulator, type Emulator } from '../../emulator/server';
import { emulatorCredentials, runKlingNode, type RunOptions } from '../harness';
import { identify, lipSyncParameters, VIDEO, waitUntilIdle } from '../helpers';
import { startResumeServer, type ResumeServer } from '../resume';

/**
 * Batches larger than what runs at once, in n8n's engine: one read tells how all of a run's tasks
 * stand, a slot is taken as soon as a task ends (no blind retries at the concurrency limit), a
 * Callback-mode run that cannot start every task at once polls instead, and a run resumes once
 * with each video downloaded once.
 */
describe('batches larger than Max Tasks in Flight', () => {
	let emu: Emulator;
	let resume: ResumeServer;
	const run = async (options: Omit<RunOptions, 'credentials'>) =>
		runKlingNode({
			credentials: emulatorCredentials(emu.baseUrl),
			resumeServer: resume,
			...options,
		});
	const reads = () => (emu.stats.requests.get ?? 0) + (emu.stats.requests.list ?? 0);
	const downloadsPerTask = () => Object.values(emu.stats.videoDownloads);

	beforeAll(async () => {
		emu = await startEmulator({ taskTimeMs: 1000, submittedMs: 100 });
		resume = await startResumeServer();
	});
	afterAll(async () => {
		await emu.stop();
		await resume.stop();
	});
	beforeEach(async () => {
		emu.configure({ taskTimeMs: 1000, concurrencyLimit: Number.POSITIVE_INFINITY });
		await waitUntilIdle(emu);
		emu.resetStats();
	});

	const items = async (count: number) => {
		const sessions = await Promise.all(Array.from({ length: count }, () => identify(emu, VIDEO)));
		emu.resetStats();
		return sessions.map((session) => ({ ...session, face_id: '0' }));
	};

	it('Poll mode reads the whole run at once: a list page a round, not a read per task', async () => {
		const { output, error } = await run({
			items: await items(12),
			parameters: lipSyncParameters(emu, {
				options: { maxInFlight: 12 },
				waitOptions: { pollIntervalSeconds: 0.2, maxWaitMinutes: 1 },
			}),
		});
		expect(error).toBeUndefined();
		expect(output.map((item) => item.json.task_status)).toEqual(Array(12).fill('succeed'));
		// About 1 s of task time at 0.2 s a round: ~6 rounds for the run (a read per task each round was ~60).
		expect(reads()).toBeLessThanOrEqual(12);
		expect(emu.stats.requests.list ?? 0).toBeGreaterThan(0);
		expect(downloadsPerTask()).toEqual(Array(12).fill(1));
	});

	it('Callback mode with more items than Max Tasks in Flight polls: no callback URL, every item made, nothing made twice', async () => {
		emu.configure({ concurrencyLimit: 3 });
		const {
			output,
			error,
			status,
			run: finished,
		} = await run({
			items: await items(8),
			parameters: lipSyncParameters(emu, {
				waitMode: 'callback',
				options: { maxInFlight: 3 },
				waitOptions: { maxWaitMinutes: 2 },
			}),
		});
		expect(error).toBeUndefined();
		expect(status).toBe('success');
		expect(output.map((item) => item.json.task_status)).toEqual(Array(8).fill('succeed'));
		expect(output.map((item) => item.pairedItem)).toEqual(
			Array.from({ length: 8 }, (_, item) => ({ item })),
		);
		expect(output.every((item) => item.binary?.data.mimeType === 'video/mp4')).toBe(true);
		expect(emu.callbacks).toHaveLength(0);
		expect(emu.stats.billed.create).toBe(8);
		// Max Tasks in Flight is kept by the node: Kling is never asked past it.
		expect(emu.stats.requests.create).toBe(8);
		expect(emu.stats.rejected[1303] ?? 0).toBe(0);
		expect(emu.stats.highestConcurrency).toBeLessThanOrEqual(3);
		expect(reads()).toBeLessThanOrEqual(2 * 8);
		expect(downloadsPerTask()).toEqual(Array(8).fill(1));
		const hints = finished.data.resultData.runData.Kling[0].hints ?? [];
		expect(hints.map((hint) => hint.message)).toContainEqual(
			expect.stringMatching(/^8 tasks are more than Max Tasks in Flight \(3\)/),
		);
	});

	it('Wait for Completion off keeps Max Tasks in Flight at Kling: the next task starts when one ends, no 1303', async () => {
		emu.configure({ concurrencyLimit: 3 });
		const started = Date.now();
		const { output, error } = await run({
			items: await items(7),
			parameters: lipSyncParameters(emu, { waitForCompletion: false, options: { maxInFlight: 3 } }),
		});
		expect(error).toBeUndefined();
		expect(output.map((item) => item.json.task_status)).toEqual(Array(7).fill('submitted'));
		expect(emu.stats.requests.create).toBe(7);
		expect(emu.stats.rejected[1303] ?? 0).toBe(0);
		expect(emu.stats.highestConcurrency).toBeLessThanOrEqual(3);
		// Three rounds of 1 s tasks, each noticed within the 2 s slot read: well under blind backoff (2 s, 4 s, 8 s ...).
		expect(Date.now() - started).toBeLessThan(12_000);
		// Reads only while items wait for a slot.
		expect(reads()).toBeLessThanOrEqual(8);
	});

	it('Callback mode within Max Tasks in Flight but over the account limit: a turned-away item resubmits once a task ends', async () => {
		emu.configure({ concurrencyLimit: 2 });
		const waiting = await run({
			items: await items(4),
			parameters: lipSyncParameters(emu, {
				waitMode: 'callback',
				downloadVideo: false,
				options: { maxInFlight: 4 },
				waitOptions: { maxWaitMinutes: 2 },
			}),
		});
		expect(waiting.error).toBeUndefined();
		const { output, status } = waiting.status === 'waiting' ? await waiting.resumed!() : waiting;
		expect(status).toBe('success');
		expect(output.map((item) => item.json.task_status)).toEqual(Array(4).fill('succeed'));
		expect(emu.stats.billed.create).toBe(4);
		// Each of the two turned away is refused once, then created when a slot frees (no growing blind retries).
		expect(emu.stats.requests.create ?? 0).toBeLessThanOrEqual(6);
	});

	it('a Callback-mode run whose tasks all end together resumes once: each video downloaded once', async () => {
		const waiting = await run({
			items: await items(6),
			parameters: lipSyncParameters(emu, {
				waitMode: 'callback',
				options: { maxInFlight: 6 },
				waitOptions: { maxWaitMinutes: 2 },
			}),
		});
		expect(waiting.status).toBe('waiting');
		const { output, status } = await waiting.resumed!();
		expect(status).toBe('success');
		expect(output.map((item) => item.json.task_status)).toEqual(Array(6).fill('succeed'));
		// Let every final callback arrive: those after the resume download nothing either.
		for (
			const deadline = Date.now() + 3000;
			emu.callbacks.filter((c) => c.status === 'succeed' && c.delivered).length < 6 &&
			Date.now() < deadline;

		) {
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
		expect(downloadsPerTask()).toEqual(Array(6).fill(1));
		// A read before the wait, then one per final callback at most.
		expect(reads()).toBeLessThanOrEqual(1 + 6);
	});
});
