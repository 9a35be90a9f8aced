/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
import type { IDataObject } from 'n8n-workflow';

import { silentWav, startEmulator, type Emulator } from '../emulator/server';
import { emulatorCredentials, runKlingNode, type RunOptions } from './harness';
import { FAST_WAIT, waitUntilIdle } from './helpers';
import { startResumeServer, type ResumeServer } from './resume';
import { logMark, logSince } from './secrets';

/** Dub Dialogue: several speakers of one video lip-synced by a chain of tasks, in n8n's engine. */
describe('Dub Dialogue', () => {
	let emu: Emulator;
	const run = async (
		options: Omit<RunOptions, 'credentials'> & { credentials?: RunOptions['credentials'] },
	) => runKlingNode({ credentials: emulatorCredentials(emu.baseUrl), ...options });
	/** A 9 s interview: speaker A on screen 0-4.5 s, B 4.5-9 s (and `extra` windows). */
	const video = (extra = '', query = '') =>
		`https://cdn.example.com/interview.mp4?durationMs=9000&faces=0-4500,4500-9000${extra}${query}`;
	const track = (ms: number) => `${emu.baseUrl}/media/silence/${ms}.wav`;
	const speaker = (over: IDataObject): IDataObject => ({
		faceChoice: 'visibleAt',
		audioSource: 'url',
		placement: 'fullLength',
		...over,
	});
	const dub = (videoUrl: string, speakers: IDataObject[], over: IDataObject = {}): IDataObject => ({
		operation: 'dubDialogue',
		videoSource: 'url',
		videoUrl,
		speakers: { speaker: speakers },
		downloadVideo: false,
		waitOptions: FAST_WAIT,
		...over,
	});
	const twoSpeakers = () => [
		speaker({ visibleAtMs: 1000, audioUrl: track(9000) }),
		speaker({ visibleAtMs: 6000, audioUrl: track(9000) }),
	];

	beforeAll(async () => {
		emu = await startEmulator({ taskTimeMs: 300, submittedMs: 50 });
	});
	afterAll(async () => emu.stop());
	beforeEach(() => {
		emu.resetStats();
		emu.configure({ taskTimeMs: 300 });
	});

	it('dubs two speakers with full-length tracks: each step lip-syncs the video the step before made', async () => {
		const {
			output,
			error,
			run: finished,
		} = await run({ parameters: { ...dub(video(), twoSpeakers()), downloadVideo: true } });
		expect(error).toBeUndefined();
		// n8n's output pane says what the run cost.
		expect(finished.data.resultData.runData.Kling[0].hints).toEqual([
			expect.objectContaining({
				message: 'This run: 1 dialogue(s), 2 lip-sync task(s) and 2 Identify Face call(s).',
				location: 'outputPane',
			}),
		]);
		const json = output[0].json;
		const steps = json.speakers as IDataObject[];
		expect(steps).toHaveLength(2);
		expect(steps[0]).toEqual(
			expect.objectContaining({
				speaker: 1,
				face_id: '0',
				crop_start_time: 0,
				crop_end_time: 4500,
				insert_time: 0,
				task_status: 'succeed',
			}),
		);
		expect(steps[1]).toEqual(
			expect.objectContaining({
				speaker: 2,
				face_id: '1',
				crop_start_time: 4500,
				crop_end_time: 9000,
				insert_time: 4500,
				task_status: 'succeed',
			}),
		);
		// The second task lip-syncs the first one's result video, and the output is the last video.
		expect((emu.task(String(steps[1].task_id))?.task_info as IDataObject).parent_video).toEqual(
			expect.objectContaining({ id: steps[0].video_id }),
		);
		expect(json.task_id).toBe(steps[1].task_id);
		expect(json.task_ids).toEqual([steps[0].task_id, steps[1].task_id]);
		expect(json).toEqual(
			expect.objectContaining({ lip_sync_tasks: 2, identify_calls: 2, reused_tasks: 0 }),
		);
		expect(output[0].binary?.data.mimeType).toBe('video/mp4');
		expect(output[0].pairedItem).toEqual({ item: 0 });
		expect(emu.stats.billed).toEqual(expect.objectContaining({ identify: 2, create: 2 }));
	});

	it('gives a speaker left at the default Face (Next Free Face) a face no other speaker has', async () => {
		const asNew = (over: IDataObject = {}): IDataObject => ({
			audioSource: 'url',
			placement: 'fullLength',
			audioUrl: track(9000),
			...over,
		});
		const faceIds = async (speakers: IDataObject[]) => {
			const { output, error } = await run({ parameters: dub(video(), speakers) });
			expect(error).toBeUndefined();
			return (output[0].json.speakers as IDataObject[]).map((step) => step.face_id);
		};
		expect(await faceIds([asNew(), asNew()])).toEqual(['0', '1']);
		// A speaker who names a face keeps it; the one at the default takes the other.
		expect(await faceIds([asNew(), asNew({ faceChoice: 'index', faceIndex: 0 })])).toEqual([
			'1',
			'0',
		]);
		// A third speaker on a video of two faces: refused before any task.
		const created = emu.stats.billed.create;
		const { error } = await run({ parameters: dub(video(), [asNew(), asNew(), asNew()]) });
		expect(error?.message).toMatch(
			/^Speaker 3: Kling found 2 face\(s\) and every one is another speaker's/,
		);
		expect(emu.stats.billed.create).toBe(created);
	});

	it('dubs three speakers chosen by index, face id and time, with clips and binary audio', async () => {
		const { output, error } = await run({
			items: [{}],
			binary: [
				{
					item: 0,
					property: 'carol',
					fileName: 'carol.wav',
					bytes: silentWav(2500),
					mimeType: 'audio/wav',
				},
			],
			parameters: dub(video(',9000-12000', '').replace('durationMs=9000', 'durationMs=12000'), [
				speaker({
					faceChoice: 'index',
					faceIndex: 1,
					placement: 'clip',
					insertMs: 5000,
					audioUrl: track(3000),
				}),
				speaker({ faceChoice: 'faceId', chosenFaceId: '0', audioUrl: track(12000) }),
				speaker({
					visibleAtMs: 10_000,
					audioSource: 'binary',
					audioBinaryPropertyName: 'carol',
					placement: 'clip',
					insertMs: 9200,
				}),
			]),
		});
		expect(error).toBeUndefined();
		const steps = output[0].json.speakers as IDataObject[];
		expect(
			steps.map((step) => [
				step.face_id,
				step.insert_time,
				step.crop_start_time,
				step.crop_end_time,
			]),
		).toEqual([
			['1', 5000, 0, 3000],
			['0', 0, 0, 4500],
			['2', 9200, 0, 2500],
		]);
		expect(emu.stats.billed).toEqual(expect.objectContaining({ identify: 3, create: 3 }));
	});

	it('stops before any task when speakers cannot be placed: the same face twice, no face at a time, audio past the face', async () => {
		const cases: Array<[IDataObject[], RegExp]> = [
			[
				[
					speaker({ visibleAtMs: 1000, audioUrl: track(9000) }),
					speaker({ visibleAtMs: 2000, audioUrl: track(9000) }),
				],
				/Speaker 2 and Speaker 1 both name face 0/,
			],
			[
				[speaker({ visibleAtMs: 9500, audioUrl: track(9000) })],
				/Speaker 1: no face Kling found is visible at 9500 ms/,
			],
			[
				[speaker({ placement: 'clip', insertMs: 2000, audioUrl: track(3000) })],
				/Speaker 1: the audio runs 500 ms past the end of face 0's window \(0-4500 ms\)/,
			],
			[
				[speaker({ visibleAtMs: 6000, audioUrl: track(5500) })],
				/Speaker 1: the track \(5500 ms\) holds 1000 ms inside face 1's window/,
			],
		];
		for (const [speakers, message] of cases) {
			const { error } = await run({ parameters: dub(video(), speakers) });
			expect(error?.message).toMatch(message);
			expect(error?.description).toMatch(/No lip-sync task was created/);
		}
		expect(emu.stats.billed.create).toBe(0);
	});

	it('refuses bad speakers before any call: none, one face index twice, a bad time', async () => {
		const cases: Array<[IDataObject[], RegExp]> = [
			[[], /Speakers: add at least one speaker/],
			[
				[
					speaker({ faceChoice: 'index', faceIndex: 0, audioUrl: track(9000) }),
					speaker({ faceChoice: 'index', faceIndex: 0, audioUrl: track(9000) }),
				],
				/Speaker 2 and Speaker 1 both name the face with index 0/,
			],
			[
				[speaker({ visibleAtMs: -5, audioUrl: track(9000) })],
				/Speaker 1: Visible At \(Milliseconds\) must not be negative/,
			],
			[
				[speaker({ visibleAtMs: 0, audioUrl: `${emu.baseUrl}/media/silence/1000.wav` })],
				/Speaker 1: Audio URL must be 2-60 seconds long/,
			],
			[
				[speaker({ placement: 'clip', cropEndMs: 4000, audioUrl: track(3000) })],
				/Speaker 1: Crop End \(Milliseconds\) 4000 is past the end of the audio \(3000 ms\)/,
			],
		];
		for (const [speakers, message] of cases) {
			const { error } = await run({ parameters: dub(video(), speakers) });
			expect(error?.message).toMatch(message);
		}
		expect(emu.stats.billed).toEqual(expect.objectContaining({ identify: 0, create: 0 }));
	});

	it('a face not found again in the new video stops the chain with the tasks made and the last good video', async () => {
		const { error } = await run({ parameters: dub(video('', '&lostFaces=1'), twoSpeakers()) });
		expect(error?.message).toMatch(
			/^Speaker 2 \(step 2 of 2\): the face of 4500-9000 ms is not in the new video's faces \(0: 0-4500 ms\)/,
		);
		const taskIds = error?.context?.task_ids as string[];
		expect(taskIds).toHaveLength(1);
		expect(error?.context?.last_good_video_id).toBe(`${taskIds[0]}1`);
		expect(error?.description).toMatch(
			new RegExp(`task_id ${taskIds[0]}.*video_id ${taskIds[0]}1`),
		);
		expect(emu.stats.billed).toEqual(expect.objectContaining({ identify: 2, create: 1 }));
	});

	it('a failure at step 2 carries every task; with Continue On Fail it is the item; a retry pays only for what failed', async () => {
		const failing = video('', '&fail=face%20too%20small&failAtStep=2');
		const { output, error } = await run({
			items: [{}, {}],
			parameters: dub(failing, twoSpeakers()),
			continueOnFail: true,
		});
		expect(error).toBeUndefined();
		for (const item of output) {
			expect(item.json.error).toMatch(
				/^Speaker 2 \(step 2 of 2\): lip-sync failed at Kling: face too small \(task_id \d+\)/,
			);
			expect(item.json.task_ids).toHaveLength(2);
			expect(item.json.last_good_video_id).toBe(`${(item.json.task_ids as string[])[0]}1`);
		}
		expect(output.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
		// Two items of the same work are one task per step (the second finds the first's).
		expect(emu.stats.billed.create).toBe(2);

		// Still failing at Kling: a retry takes over step 1 and makes step 2 anew (one more paid), never adopting the failed one.
		emu.resetStats();
		const again = await run({ parameters: dub(failing, twoSpeakers()) });
		expect(again.error?.message).toMatch(/^Speaker 2 \(step 2 of 2\): lip-sync failed/);
		const retriedIds = again.error?.context?.task_ids as string[];
		expect(retriedIds[0]).toBe((output[0].json.task_ids as string[])[0]);
		expect(retriedIds[1]).not.toBe((output[0].json.task_ids as string[])[1]);
		expect(emu.stats.billed.create).toBe(1);
	});

	it('a retry after Kling failed a step makes that step anew and pays only for it; a second retry adopts it', async () => {
		// Step 2 fails once at Kling, then works.
		const flaky = video('', '&n=flaky&fail=busy%20GPU&failAtStep=2&failTimes=1');
		const first = await run({ parameters: dub(flaky, twoSpeakers()) });
		expect(first.error?.message).toMatch(
			/^Speaker 2 \(step 2 of 2\): lip-sync failed at Kling: busy GPU/,
		);
		expect(first.error?.description).toMatch(
			/takes over every step that succeeded or still runs \(nothing paid for them\), makes a step that failed anew/,
		);
		expect(emu.stats.billed.create).toBe(2);
		const failedStep = (first.error?.context?.task_ids as string[])[1];

		emu.resetStats();
		const retried = await run({ parameters: dub(flaky, twoSpeakers()) });
		expect(retried.error).toBeUndefined();
		const steps = retried.output[0].json.speakers as Array<Record<string, unknown>>;
		expect(steps.map((step) => step.reused_existing_task)).toEqual([true, false]);
		expect(String(steps[1].external_task_id)).toMatch(/^n8n-e[A-Za-z0-9_-]{8}2-[0-9a-f]{24}-r1$/);
		expect(steps[1].task_id).not.toBe(failedStep);
		expect(emu.stats.billed.create).toBe(1);

		emu.resetStats();
		const again = await run({ parameters: dub(flaky, twoSpeakers()) });
		expect(again.output[0].json.task_ids).toEqual(retried.output[0].json.task_ids);
		expect(
			(again.output[0].json.speakers as Array<Record<string, unknown>>).map(
				(step) => step.reused_existing_task,
			),
		).toEqual([true, true]);
		expect(emu.stats.billed.create).toBe(0);
	});

	it('a step past Max Wait is named among the paid tasks, and the error names its speaker and step', async () => {
		emu.configure({ taskTimeMs: 4500 });
		try {
			const { error } = await run({
				parameters: {
					...dub(video('', '&n=slow'), twoSpeakers()),
					waitOptions: { pollIntervalSeconds: 0.2, maxWaitMinutes: 0.05 },
				},
			});
			expect(error?.message).toMatch(
				/^Speaker 1 \(step 1 of 2\): Kling task still processing after/,
			);
			const taskIds = error?.context?.task_ids as string[];
			expect(taskIds).toHaveLength(1);
			expect(error?.description).toContain(
				`Tasks made for this dialogue (paid): task_id ${taskIds[0]}`,
			);
		} finally {
			// Its task still runs at the emulator: the next test counts concurrency.
			await waitUntilIdle(emu);
			emu.configure({ taskTimeMs: 300 });
		}
	});

	it('a retry of a finished dialogue pays for nothing and returns the same video', async () => {
		const first = await run({ parameters: dub(video(), twoSpeakers()) });
		emu.resetStats();
		const second = await run({ parameters: dub(video(), twoSpeakers()) });
		expect(second.error).toBeUndefined();
		expect(second.output[0].json.task_ids).toEqual(first.output[0].json.task_ids);
		expect(second.output[0].json.reused_tasks).toBe(2);
		expect(emu.stats.billed).toEqual(expect.objectContaining({ identify: 2, create: 0 }));
	});

	it('runs many dialogues together under Max Tasks in Flight, one task per dialogue at a time', async () => {
		emu.configure({ taskTimeMs: 400 });
		const items = Array.from({ length: 6 }, (_, index) => ({ url: video('', `&n=${index}`) }));
		const started = Date.now();
		const { output, error } = await run({
			items,
			parameters: { ...dub('={{ $json.url }}', twoSpeakers()), options: { maxInFlight: 3 } },
		});
		expect(error).toBeUndefined();
		expect(output.map((item) => item.json.task_status)).toEqual(Array(6).fill('succeed'));
		expect(emu.stats.highestConcurrency).toBe(3);
		expect(emu.stats.billed.create).toBe(12);
		// Two rounds of three dialogues, two steps each: about 4 task times, not 12.
		expect(Date.now() - started).toBeLessThan(12 * 400);
	});

	it("a cancel mid-chain names every task made in n8n's log", async () => {
		const mark = logMark();
		const running = run({
			parameters: dub(video('', '&n=cancel'), twoSpeakers(), {
				waitOptions: { pollIntervalSeconds: 0.2, maxWaitMinutes: 5 },
			}),
			cancelAfterMs: 2000,
		});
		// The first step runs at its usual pace; the second would take a minute.
		for (const deadline = Date.now() + 2000; emu.stats.billed.create < 1 && Date.now() < deadline; )
			await new Promise((resolve) => setTimeout(resolve, 10));
		emu.configure({ taskTimeMs: 60_000 });
		const result = await running;
		expect(result.status).toBe('canceled');
		expect(emu.stats.billed.create).toBe(2);
		for (
			const deadline = Date.now() + 1000;
			!logSince(mark).some((line) => /was cancelled/.test(line.message)) && Date.now() < deadline;

		) {
			await new Promise((resolve) => setTimeout(resolve, 25));
		}
		const line = logSince(mark).find((entry) => /was cancelled/.test(entry.message));
		expect((line?.meta as { taskIds: string[] }).taskIds).toHaveLength(2);
	});

	describe('with Wait Mode: Callback', () => {
		let resume: ResumeServer;
		const callbackRun = async (options: Omit<RunOptions, 'credentials' | 'resumeServer'>) =>
			runKlingNode({
				credentials: emulatorCredentials(emu.baseUrl),
				resumeServer: resume,
				...options,
			});
		const inCallbackMode = (videoUrl: string, speakers: IDataObject[], over: IDataObject = {}) =>
			dub(videoUrl, speakers, {
				waitMode: 'callback',
				waitOptions: { maxWaitMinutes: 5 },
				...over,
			});

		beforeAll(async () => {
			resume = await startResumeServer();
			emu.configure({ callbackRetryDelaysMs: [200, 400, 800, 1600] });
		});
		afterAll(async () => resume.stop());

		it('waits without a worker between steps: the webhook makes each next step, and resumes once with every dialogue', async () => {
			const items = [{ url: video('', '&n=cb1') }, { url: video('', '&n=cb2') }];
			const waiting = await callbackRun({
				items,
				parameters: { ...inCallbackMode('={{ $json.url }}', twoSpeakers()), downloadVideo: true },
			});
			expect(waiting.error).toBeUndefined();
			expect(waiting.status).toBe('waiting');
			// Only the first steps exist when the execution goes to wait; it waits up to Max Wait per step.
			expect(emu.stats.billed.create).toBe(2);
			expect(waiting.run.waitTill?.getTime()).toBeGreaterThan(Date.now() + 9 * 60_000);

			const { output, error, status } = await waiting.resumed!();
			expect(error).toBeUndefined();
			expect(status).toBe('success');
			expect(output.map((item) => item.json.task_status)).toEqual(['succeed', 'succeed']);
			expect(output.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
			for (const item of output) {
				const steps = item.json.speakers as IDataObject[];
				expect(steps.map((step) => step.speaker)).toEqual([1, 2]);
				expect(item.json.task_ids).toEqual(steps.map((step) => step.task_id));
				expect((emu.task(String(steps[1].task_id))?.task_info as IDataObject).parent_video).toEqual(
					expect.objectContaining({ id: steps[0].video_id }),
				);
				expect(item.binary?.data.mimeType).toBe('video/mp4');
			}
			expect(emu.stats.billed).toEqual(expect.objectContaining({ identify: 4, create: 4 }));
			// No polling: the tasks were read once each on callback, and the list once per ended dialogue.
			expect(emu.stats.requests.get ?? 0).toBeLessThanOrEqual(4);
			const urls = new Set(emu.callbacks.map((delivery) => delivery.url));
			expect(urls.size).toBe(2);
			for (const url of urls) expect(url).toMatch(/kling_batch=.*kling_dialogue=.*kling_sig=/);
		});

		it('a failure at step 2 resumes with an item that names every task and the last good video', async () => {
			const failing = video('', '&n=cb3&fail=face%20too%20small&failAtStep=2');
			const waiting = await callbackRun({ parameters: inCallbackMode(failing, twoSpeakers()) });
			expect(waiting.status).toBe('waiting');
			const { output } = await waiting.resumed!();
			expect(output[0].json).toEqual(
				expect.objectContaining({
					error: expect.stringMatching(
						/^Speaker 2 \(step 2\): lip-sync failed at Kling: face too small/,
					),
					task_ids: [expect.any(String), expect.any(String)],
					last_good_video_id: expect.stringMatching(/^\d+1$/),
				}),
			);
		});

		it('a face lost in the new video resumes the run with the tasks made and the last good video', async () => {
			emu.configure({ taskTimeMs: 300 });
			const items = [{ url: video('', '&n=cb4&lostFaces=1') }];
			const waiting = await callbackRun({
				items,
				parameters: inCallbackMode('={{ $json.url }}', twoSpeakers()),
			});
			expect(waiting.status).toBe('waiting');
			const { output } = await waiting.resumed!();
			expect(output[0].json).toEqual(
				expect.objectContaining({
					error: expect.stringMatching(
						/^Speaker 2 \(step 2 of 2\): the face of 4500-9000 ms is not in the new video's faces/,
					),
					task_ids: [expect.any(String)],
					last_good_video_id: expect.stringMatching(/^\d+1$/),
				}),
			);
			expect(emu.stats.billed.create).toBe(1);
		});

		it('a callback URL that is forged or edited makes nothing: 401, no task', async () => {
			emu.configure({ taskTimeMs: 60_000 });
			const waiting = await callbackRun({
				parameters: inCallbackMode(video('', '&n=cb5'), twoSpeakers()),
			});
			expect(waiting.status).toBe('waiting');
			const [task] = Object.values(waiting.run.data.resultData.runData)
				.flat()
				.flatMap((entry) => entry.data?.main?.[0] ?? [])
				.filter((item) => item.json.wait_mode === 'callback');
			// The URL Kling calls back for this task (its "processing" callback comes at once).
			for (
				const deadline = Date.now() + 2000;
				!emu.callbacks.some((delivery) => delivery.taskId === task.json.task_id) &&
				Date.now() < deadline;

			) {
				await new Promise((resolve) => setTimeout(resolve, 25));
			}
			const url = new URL(
				emu.callbacks.find((delivery) => delivery.taskId === task.json.task_id)!.url,
			);
			const created = emu.stats.billed.create;
			const forge = async (edit: (url: URL) => void) => {
				const forged = new URL(url);
				edit(forged);
				const body = {
					task_id: task.json.task_id,
					task_status: 'succeed',
					task_info: { external_task_id: task.json.external_task_id },
					task_result: { videos: [{ id: 'x', url: 'https://evil.example/x.mp4' }] },
				};
				return await fetch(forged, {
					method: 'POST',
					headers: { 'content-type': 'application/json' },
					body: JSON.stringify(body),
				});
			};
			const edited = await forge((forged) =>
				forged.searchParams.set('kling_dialogue', Buffer.from('{"key":"x"}').toString('base64url')),
			);
			expect(edited.status).toBe(401);
			const unsigned = await forge((forged) => forged.searchParams.delete('kling_sig'));
			expect(unsigned.status).toBe(401);
			// A signed URL with a forged "succeed": the API says the task still runs, so nothing moves.
			const claimed = await forge(() => undefined);
			expect(claimed.status).toBe(200);
			expect(emu.stats.billed.create).toBe(created);
			expect(emu.stats.billed.identify).toBe(1);
		});

		it("another run's signed dialogue under this run's resume URL: 401; a step callback replayed costs nothing", async () => {
			emu.configure({ taskTimeMs: 400 });
			const first = await callbackRun({
				parameters: inCallbackMode(video('', '&n=cb7'), twoSpeakers()),
			});
			const second = await callbackRun({
				parameters: inCallbackMode(video('', '&n=cb8'), twoSpeakers()),
			});
			expect([first.status, second.status]).toEqual(['waiting', 'waiting']);
			const callbackOf = (executionId: string | undefined, status: string) =>
				emu.callbacks.find(
					(delivery) =>
						delivery.url.includes(`/webhook-waiting/${executionId}?`) && delivery.status === status,
				);
			for (
				const deadline = Date.now() + 5000;
				!(
					callbackOf(first.executionId, 'processing') &&
					callbackOf(second.executionId, 'processing')
				) && Date.now() < deadline;

			) {
				await new Promise((resolve) => setTimeout(resolve, 25));
			}
			const own = new URL(callbackOf(second.executionId, 'processing')!.url);
			const foreign = new URL(callbackOf(first.executionId, 'processing')!.url);
			const transplanted = new URL(own);
			for (const name of ['kling_batch', 'kling_dialogue', 'kling_sig'])
				transplanted.searchParams.set(name, foreign.searchParams.get(name)!);
			const reply = await fetch(transplanted, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: callbackOf(first.executionId, 'processing')!.body,
			});
			expect(reply.status).toBe(401);

			// Step 1's final callback, once the webhook has made step 2, sent again three times.
			const stepOneFinal = () =>
				emu.callbacks.find(
					(delivery) =>
						delivery.url.includes(`/webhook-waiting/${second.executionId}?`) &&
						delivery.status === 'succeed' &&
						delivery.delivered,
				);
			for (const deadline = Date.now() + 8000; !stepOneFinal() && Date.now() < deadline; )
				await new Promise((resolve) => setTimeout(resolve, 25));
			const replay = stepOneFinal()!;
			const billed = { ...emu.stats.billed };
			const replies = await Promise.all(
				[1, 2, 3].map(
					async () =>
						await fetch(replay.url, {
							method: 'POST',
							headers: { 'content-type': 'application/json' },
							body: replay.body,
						}),
				),
			);
			expect(replies.map((answer) => answer.status).filter((status) => status !== 409)).toEqual(
				replies.map(() => 200).slice(0, replies.filter((answer) => answer.status !== 409).length),
			);
			expect(emu.stats.billed.identify).toBe(billed.identify);
			expect(emu.stats.billed.create).toBe(billed.create);
			const [done, other] = await Promise.all([second.resumed!(), first.resumed!()]);
			expect(done.output[0].json.task_ids).toHaveLength(2);
			expect(other.output[0].json.task_ids).toHaveLength(2);
		});

		it('refuses, before any call, audio after the first speaker that the webhook could not read', async () => {
			const { error } = await callbackRun({
				items: [{}],
				binary: [
					{
						item: 0,
						property: 'bob',
						fileName: 'bob.wav',
						bytes: silentWav(9000),
						mimeType: 'audio/wav',
					},
				],
				parameters: inCallbackMode(video(), [
					speaker({ visibleAtMs: 1000, audioUrl: track(9000) }),
					speaker({ visibleAtMs: 6000, audioSource: 'binary', audioBinaryPropertyName: 'bob' }),
				]),
			});
			expect(error?.message).toMatch(
				/Speaker 2: in Callback wait mode the audio of every speaker after the first must be a URL or a Kling Audio ID/,
			);
			expect(emu.stats.billed).toEqual(expect.objectContaining({ identify: 0, create: 0 }));
		});

		it('a retried run whose dialogue was finished earlier takes over every step and does not wait', async () => {
			const parameters = inCallbackMode(video('', '&n=cb6'), twoSpeakers());
			const first = await callbackRun({ parameters });
			const done = await first.resumed!();
			emu.resetStats();
			const again = await callbackRun({ parameters });
			expect(again.status).toBe('success');
			expect(again.output[0].json.task_ids).toEqual(done.output[0].json.task_ids);
			expect(again.output[0].json.reused_tasks).toBe(2);
			expect(emu.stats.billed.create).toBe(0);
		});
	});
});
