/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
import { silentWav, startEmulator, type Emulator } from '../../emulator/server';
import { emulatorCredentials, runKlingNode, type RunOptions } from '../harness';
import { identify, lipSyncParameters, VIDEO } from '../helpers';
import { startResumeServer, type ResumeServer } from '../resume';
import { logMark, logSince } from '../secrets';

/**
 * Lip Sync's Callback wait mode in n8n's engine: the execution goes to "waiting" without
 * polling, the emulator's callbacks reach the resume endpoint, and the execution resumes once,
 * with every task final.
 */
describe('Lip Sync with Wait Mode: Callback', () => {
	let emu: Emulator;
	let resume: ResumeServer;
	const run = async (
		options: Omit<RunOptions, 'credentials'> & { credentials?: RunOptions['credentials'] },
	) =>
		runKlingNode({
			credentials: emulatorCredentials(emu.baseUrl),
			resumeServer: resume,
			...options,
		});
	const callbackParameters = (over = {}) =>
		lipSyncParameters(emu, { waitMode: 'callback', waitOptions: { maxWaitMinutes: 5 }, ...over });

	beforeAll(async () => {
		emu = await startEmulator({
			taskTimeMs: 800,
			submittedMs: 200,
			callbackRetryDelaysMs: [200, 400, 800, 1600],
		});
		resume = await startResumeServer();
	});
	afterAll(async () => {
		await emu.stop();
		await resume.stop();
	});
	beforeEach(() => {
		emu.configure({ taskTimeMs: 800 });
		emu.resetStats();
	});

	const items = async (count: number, video = VIDEO) => {
		// A session each: the same work would share one task.
		const sessions = await Promise.all(Array.from({ length: count }, () => identify(emu, video)));
		emu.resetStats();
		return sessions.map((session) => ({ ...session, face_id: '0' }));
	};

	it('waits without polling and resumes once with every task, video included', async () => {
		const mark = logMark();
		const waiting = await run({ items: await items(3), parameters: callbackParameters() });
		expect(waiting.error).toBeUndefined();
		expect(waiting.status).toBe('waiting');
		expect(waiting.run.waitTill?.getTime()).toBeGreaterThan(Date.now() + 4 * 60_000);
		expect(emu.stats.billed.create).toBe(3);
		expect(emu.stats.requests.get ?? 0).toBe(0);
		const logged = logSince(mark).find((line) =>
			/waits for callbacks of 3 task/.test(line.message),
		);
		expect((logged?.meta as { taskIds: string[] }).taskIds).toHaveLength(3);
		expect(waiting.run.data.resultData.metadata).toEqual(
			expect.objectContaining({ kling_tasks: '3' }),
		);

		const { output, error, status } = await waiting.resumed!();
		expect(error).toBeUndefined();
		expect(status).toBe('success');
		expect(output.map((item) => item.json.task_status)).toEqual(['succeed', 'succeed', 'succeed']);
		expect(output.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
		expect(output[0].binary?.data.mimeType).toBe('video/mp4');
		// Non-final callbacks were answered and left it waiting; each final one read the run's tasks.
		const callbackUrls = new Set(emu.callbacks.map((delivery) => delivery.url));
		expect(callbackUrls.size).toBe(1);
		expect([...callbackUrls][0]).toMatch(/\/webhook-waiting\/\d+\?kling_batch=/);
		expect(
			emu.callbacks.filter((delivery) => delivery.status === 'processing').length,
		).toBeGreaterThanOrEqual(3);
		// One list page before the wait, one per final callback: at most 2 reads per task.
		expect(emu.stats.requests.get ?? 0).toBe(0);
		expect(emu.stats.requests.list).toBeLessThanOrEqual(4);
	});

	it('resumes with a failed task as an item that says why, next to the good ones', async () => {
		const good = await items(1);
		const failing = await items(1, `${VIDEO}&fail=no+mouth+visible`);
		const waiting = await run({
			items: [...good, ...failing],
			parameters: callbackParameters({ downloadVideo: false }),
		});
		expect(waiting.status).toBe('waiting');
		const { output } = await waiting.resumed!();
		expect(output[0].json.task_status).toBe('succeed');
		expect(output[1].json).toEqual(
			expect.objectContaining({
				task_status: 'failed',
				error: expect.stringMatching(/^Kling task failed: no mouth visible/),
			}),
		);
	});

	it('refuses before any create where it cannot work', async () => {
		const apimodels = await run({
			credentials: emulatorCredentials(emu.baseUrl, 'apimodels'),
			items: await items(1),
			parameters: callbackParameters(),
		});
		expect(apimodels.error?.message).toMatch(/apimodels\.app does not support external task ids/i);
		const ownUrl = await run({
			items: await items(1),
			parameters: callbackParameters({ options: { callbackUrl: 'https://example.com/hook' } }),
		});
		expect(ownUrl.error?.message).toBe(
			'Callback URL must be empty in Callback wait mode: the node sets it to this execution',
		);
		expect(emu.stats.requests.create ?? 0).toBe(0);
	});

	it('acknowledges a forged final callback for a task not of this run without any read, and stays waiting', async () => {
		// Long enough that no real final callback reads anything while the forged one is checked.
		emu.configure({ taskTimeMs: 3000 });
		const waiting = await run({
			items: await items(1),
			parameters: callbackParameters({ downloadVideo: false }),
		});
		expect(waiting.status).toBe('waiting');
		const readsBefore = (emu.stats.requests.get ?? 0) + (emu.stats.requests.list ?? 0);
		// The run's own callback URL (it names the run's tasks), taken from Kling's first call.
		const ownCallback = () =>
			emu.callbacks.find((delivery) =>
				delivery.url.includes(`/webhook-waiting/${waiting.executionId}?`),
			);
		for (const deadline = Date.now() + 5000; !ownCallback() && Date.now() < deadline; )
			await new Promise((resolve) => setTimeout(resolve, 20));
		const callbackUrl = ownCallback()!.url;
		const reply = await fetch(callbackUrl, {
			method: 'POST',
			body: JSON.stringify({
				task_id: '899999999999999999',
				task_status: 'succeed',
				task_info: { external_task_id: 'n8n-forged' },
			}),
			headers: { 'content-type': 'application/json' },
		});
		expect(reply.status).toBe(200);
		expect(await reply.json()).toEqual({ received: true, ignored: 'not a task of this execution' });
		expect((emu.stats.requests.get ?? 0) + (emu.stats.requests.list ?? 0)).toBe(readsBefore);
		const { output } = await waiting.resumed!();
		expect(output[0].json.task_status).toBe('succeed');
	});

	it("a bent callback URL resumes nothing (401): a key dropped or named twice, another run's tasks, no signature", async () => {
		emu.configure({ taskTimeMs: 2500 });
		const other = await run({
			items: await items(1),
			parameters: callbackParameters({ downloadVideo: false }),
		});
		const waiting = await run({
			items: await items(2),
			parameters: callbackParameters({ downloadVideo: false }),
		});
		expect([other.status, waiting.status]).toEqual(['waiting', 'waiting']);
		const urlOf = async (executionId: string) => {
			const find = () =>
				emu.callbacks.find((delivery) => delivery.url.includes(`/webhook-waiting/${executionId}?`));
			for (const deadline = Date.now() + 5000; !find() && Date.now() < deadline; )
				await new Promise((resolve) => setTimeout(resolve, 20));
			return new URL(find()!.url);
		};
		const own = await urlOf(waiting.executionId!);
		const foreign = await urlOf(other.executionId!);
		const readsBefore = (emu.stats.requests.get ?? 0) + (emu.stats.requests.list ?? 0);
		const keys = own.searchParams.get('kling_batch')!;
		const bent = [
			(url: URL) => url.searchParams.set('kling_batch', keys.slice(0, 8)),
			(url: URL) => url.searchParams.set('kling_batch', keys.slice(0, 8) + keys.slice(0, 8)),
			(url: URL) => {
				url.searchParams.set('kling_batch', foreign.searchParams.get('kling_batch')!);
				url.searchParams.set('kling_sig', foreign.searchParams.get('kling_sig')!);
			},
			(url: URL) => url.searchParams.delete('kling_sig'),
		];
		for (const bend of bent) {
			const url = new URL(own);
			bend(url);
			const reply = await fetch(url, {
				method: 'POST',
				body: JSON.stringify({
					task_id: '1',
					task_status: 'succeed',
					task_info: { external_task_id: 'n8n-x' },
				}),
				headers: { 'content-type': 'application/json' },
			});
			expect(reply.status).toBe(401);
		}
		// Refused before any read.
		expect((emu.stats.requests.get ?? 0) + (emu.stats.requests.list ?? 0)).toBe(readsBefore);
		const { output } = await waiting.resumed!();
		expect(output.map((item) => item.json.task_status)).toEqual(['succeed', 'succeed']);
		expect(new Set(output.map((item) => item.json.task_id)).size).toBe(2);
		await other.resumed!();
	});

	it('answers 400 to a callback whose URL names no tasks, and stays waiting', async () => {
		const waiting = await run({
			items: await items(1),
			parameters: callbackParameters({ downloadVideo: false }),
		});
		expect(waiting.status).toBe('waiting');
		const reply = await fetch(`${resume.baseUrl}/webhook-waiting/${waiting.executionId}`, {
			method: 'POST',
			body: JSON.stringify({ task_id: '1', task_status: 'succeed' }),
			headers: { 'content-type': 'application/json' },
		});
		expect(reply.status).toBe(400);
		expect(await reply.json()).toEqual({
			received: false,
			reason: 'the callback URL lacks kling_batch',
		});
		const { output } = await waiting.resumed!();
		expect(output[0].json.task_status).toBe('succeed');
	});

	it('Lip Sync Video waits the same way: identified and fitted first, every task named in the one callback URL', async () => {
		const video = (faces: string) =>
			`https://cdn.example.com/talk.mp4?durationMs=8000&faces=${faces}`;
		const parameters = {
			operation: 'lipSyncVideo',
			videoUrl: '={{ $json.video }}',
			audioSource: 'base64',
			audioBase64: silentWav(3000, 8000).toString('base64'),
			waitMode: 'callback',
			downloadVideo: false,
			waitOptions: { maxWaitMinutes: 5 },
		};
		const waiting = await run({
			items: [{ video: video('0-5000') }, { video: video('1000-8000') }],
			parameters,
		});
		expect(waiting.error).toBeUndefined();
		expect(waiting.status).toBe('waiting');
		expect(emu.stats.billed).toEqual(expect.objectContaining({ identify: 2, create: 2 }));
		expect(emu.stats.requests.get ?? 0).toBe(0);
		const { output, status } = await waiting.resumed!();
		expect(status).toBe('success');
		expect(output.map((item) => item.json.task_status)).toEqual(['succeed', 'succeed']);
		expect(output.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
		const ownUrls = emu.callbacks
			.map((delivery) => delivery.url)
			.filter((url) => url.includes(`/webhook-waiting/${waiting.executionId}?`));
		expect(ownUrls.length).toBeGreaterThanOrEqual(2);
		expect(new Set(ownUrls).size).toBe(1);
		expect(emu.stats.requests.get ?? 0).toBe(0);
	});

	it('never waits when every task has ended before the wait: the run ends with the results', async () => {
		emu.configure({ taskTimeMs: 0, submittedMs: 0 });
		try {
			const { status, output, error } = await run({
				items: await items(2),
				parameters: callbackParameters({ downloadVideo: false }),
			});
			expect(error).toBeUndefined();
			expect(status).toBe('success');
			expect(output.map((item) => item.json.task_status)).toEqual(['succeed', 'succeed']);
			expect(emu.stats.requests.list).toBe(1);
		} finally {
			emu.configure({ submittedMs: 200 });
		}
	});
});
