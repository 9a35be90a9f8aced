import { callApi } from '../emulator/client';
import { type Emulator } from '../emulator/server';
import { emulatorCredentials, useFilesystemBinaryData } from './harness';
import { fixture, identify, lipSyncParameters, emulatorSuite } from './helpers';

describe('Lip Sync', () => {
	const suite = emulatorSuite({ taskTimeMs: 600, submittedMs: 100 });
	const { run } = suite;

	describe('Lip Sync', () => {
		it('identifies, lip-syncs, waits and returns the video as binary, through default expressions', async () => {
			const session = await identify(suite.emu);
			const started = Date.now();
			const { output, error } = await run({
				items: [{ session_id: session.session_id, face_id: '0', start_time: 0, end_time: 5200 }],
				parameters: lipSyncParameters(suite.emu, {
					options: { watermark: true, externalTaskId: 'ext-engine-1' },
				}),
			});
			expect(error).toBeUndefined();
			expect(Date.now() - started).toBeLessThan(3000);
			const [item] = output;
			expect(item.json).toEqual(
				expect.objectContaining({
					task_status: 'succeed',
					external_task_id: 'ext-engine-1',
					video_duration_ms: 8000,
					final_unit_deduction: 1,
					// One unit per field: times as ISO 8601, durations in ms.
					created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
					updated_at: expect.stringMatching(/Z$/),
					videos: [expect.objectContaining({ duration_ms: 8000 })],
				}),
			);
			expect(item.json.video_url).toMatch(/\/media\/results\/\d+\.mp4$/);
			expect(item.json.watermark_url).toMatch(/-watermark\.mp4$/);
			expect(item.binary?.data).toEqual(
				expect.objectContaining({
					mimeType: 'video/mp4',
					fileName: `kling-lipsync-${item.json.task_id as string}.mp4`,
					fileExtension: 'mp4',
				}),
			);
			const bytes = Buffer.from(item.binary!.data.data, 'base64');
			expect(bytes.equals(fixture('tiny.mp4'))).toBe(true);
			expect(item.pairedItem).toEqual({ item: 0 });
			expect(suite.emu.stats.billed.create).toBe(1);
		});

		it.each([
			[
				'an n8n binary file',
				{ audioSource: 'binary', audioBinaryPropertyName: 'voice' },
				'tone-3s.mp3',
			],
			['base64 with a data: prefix', { audioSource: 'base64' }, 'tone-3s.m4a'],
		])('takes audio from %s', async (_name, parameters, file) => {
			const session = await identify(suite.emu);
			const bytes = fixture(file);
			const extra =
				parameters.audioSource === 'base64'
					? { audioBase64: `data:audio/mp4;base64,${bytes.toString('base64')}` }
					: {};
			const { output, error } = await run({
				items: [{ ...session, face_id: '0' }],
				binary:
					parameters.audioSource === 'binary'
						? [{ item: 0, property: 'voice', fileName: file, bytes, mimeType: 'audio/mpeg' }]
						: [],
				parameters: lipSyncParameters(suite.emu, { ...parameters, ...extra, downloadVideo: false }),
			});
			expect(error).toBeUndefined();
			expect(output[0].json.task_status).toBe('succeed');
			expect(output[0].binary).toBeUndefined();
		});

		it('takes a Kling audio_id from text-to-speech, with an explicit crop end', async () => {
			const session = await identify(suite.emu);
			const tts = await callApi(suite.emu.baseUrl, 'POST', '/v1/audio/tts', {
				body: { text: 'x'.repeat(50), voice_id: 'v1', voice_language: 'en' },
			});
			const audio = tts.body.data.task_result.audios[0] as { id: string };
			const { output, error } = await run({
				items: [{ ...session, face_id: '0', audio_id: audio.id }],
				parameters: lipSyncParameters(suite.emu, {
					audioSource: 'audioId',
					audioId: '={{ $json.audio_id }}',
					cropEndMs: 3000,
					waitForCompletion: false,
				}),
			});
			expect(error).toBeUndefined();
			expect(output[0].json).toEqual(
				expect.objectContaining({ task_status: 'submitted', video_url: null }),
			);
		});

		it('returns the task at once without waiting', async () => {
			const session = await identify(suite.emu);
			const { output } = await run({
				items: [{ ...session, face_id: '1' }],
				parameters: lipSyncParameters(suite.emu, { waitForCompletion: false, insertMs: 3000 }),
			});
			expect(output[0].json.task_status).toBe('submitted');
			expect(output[0].json.task_id).toMatch(/^\d{18}$/);
		});

		it('creates all tasks before any finishes and keeps input order (many items at once)', async () => {
			suite.emu.configure({ taskTimeMs: 1500 });
			const sessions = await Promise.all(Array.from({ length: 6 }, () => identify(suite.emu)));
			const started = Date.now();
			const { output, error } = await run({
				items: sessions.map((s, i) => ({ ...s, face_id: '0', n: i })),
				parameters: lipSyncParameters(suite.emu, {
					downloadVideo: false,
					options: { externalTaskId: '={{ "many-" + $json.n }}', maxInFlight: 10 },
				}),
			});
			const elapsed = Date.now() - started;
			expect(error).toBeUndefined();
			expect(output.map((item) => item.json.external_task_id)).toEqual(
				sessions.map((_s, i) => `many-${i}`),
			);
			expect(output.map((item) => item.pairedItem)).toEqual(sessions.map((_s, i) => ({ item: i })));
			expect(suite.emu.stats.highestConcurrency).toBe(6);
			expect(elapsed).toBeLessThan(1500 * 2.5); // one after another would take 6 x 1.5 s
		});

		it('keeps at most Max Tasks in Flight running', async () => {
			const sessions = await Promise.all(Array.from({ length: 5 }, () => identify(suite.emu)));
			const { output } = await run({
				items: sessions.map((s) => ({ ...s, face_id: '0' })),
				parameters: lipSyncParameters(suite.emu, {
					downloadVideo: false,
					options: { maxInFlight: 2 },
				}),
			});
			expect(output).toHaveLength(5);
			expect(suite.emu.stats.highestConcurrency).toBe(2);
		});

		it('reports a failed task with its task_id, and as an item with Continue On Fail', async () => {
			const session = await identify(suite.emu, 'https://x/a.mp4?fail=face%20turned%20away');
			const parameters = lipSyncParameters(suite.emu);
			const failed = await run({ items: [{ ...session, face_id: '0' }], parameters });
			expect(failed.error?.message).toMatch(
				/^Kling task failed: face turned away \(task_id \d{18}\)$/,
			);
			const kept = await run({
				items: [
					{ ...session, face_id: '0' },
					{ ...session, face_id: '0' },
				],
				parameters,
				continueOnFail: true,
			});
			expect(kept.output).toHaveLength(2);
			expect(kept.output[1].json).toEqual(
				expect.objectContaining({
					task_status: 'failed',
					task_id: expect.stringMatching(/^\d{18}$/),
					error: expect.stringContaining('face turned away'),
				}),
			);
			expect(kept.output[1].pairedItem).toEqual({ item: 1 });
		});

		it('a retry after Kling failed the task makes it anew (never adopts the failed one); a second retry adopts the new one', async () => {
			const session = await identify(suite.emu, 'https://x/flaky.mp4?fail=GPU%20busy&failTimes=1');
			const items = [{ ...session, face_id: '0' }];
			const parameters = lipSyncParameters(suite.emu, { downloadVideo: false });
			suite.emu.resetStats();
			const failed = await run({ items, parameters });
			expect(failed.error?.message).toMatch(/^Kling task failed: GPU busy/);
			const retried = await run({ items, parameters });
			expect(retried.error).toBeUndefined();
			expect(retried.output[0].json.task_status).toBe('succeed');
			expect(retried.output[0].json.reused_existing_task).toBeUndefined();
			expect(String(retried.output[0].json.external_task_id)).toMatch(/^n8n-[0-9a-f]{32}-r1$/);
			const again = await run({ items, parameters });
			expect(again.output[0].json).toEqual(
				expect.objectContaining({
					task_id: retried.output[0].json.task_id,
					reused_existing_task: true,
				}),
			);
			expect(suite.emu.stats.billed.create).toBe(2);
		});

		it('times out with the task_id when the task takes longer than Max Wait', async () => {
			suite.emu.configure({ taskTimeMs: 60_000 });
			const session = await identify(suite.emu);
			const { error, output } = await run({
				items: [{ ...session, face_id: '0' }],
				parameters: lipSyncParameters(suite.emu, {
					waitOptions: { pollIntervalSeconds: 0.5, maxWaitMinutes: 0.05 },
				}),
				continueOnFail: true,
			});
			expect(error).toBeUndefined();
			expect(output[0].json).toEqual(
				expect.objectContaining({
					task_id: expect.stringMatching(/^\d{18}$/),
					task_status: 'processing',
					error: expect.stringMatching(/still processing after 0\.05 min/),
				}),
			);
		});

		it('stops waiting within a second of the execution being cancelled', async () => {
			suite.emu.configure({ taskTimeMs: 60_000 });
			const session = await identify(suite.emu);
			const started = Date.now();
			const result = await run({
				items: [{ ...session, face_id: '0' }],
				parameters: lipSyncParameters(suite.emu, {
					waitOptions: { pollIntervalSeconds: 5, maxWaitMinutes: 5 },
				}),
				cancelAfterMs: 700,
			});
			expect(result.status).toBe('canceled');
			expect(Date.now() - started).toBeLessThan(700 + 1000);
			expect(suite.emu.stats.billed.create).toBe(1);
		});

		it('streams a large video into the filesystem binary store', async () => {
			const store = await useFilesystemBinaryData();
			suite.emu.configure({ resultBytes: 20 * 1024 * 1024 });
			const session = await identify(suite.emu);
			const { output, error } = await run({
				items: [{ ...session, face_id: '0' }],
				parameters: lipSyncParameters(suite.emu),
			});
			expect(error).toBeUndefined();
			const binary = output[0].binary!.data;
			expect(binary.id).toMatch(/^filesystem/);
			expect(binary.data).toBe('filesystem-v2');
			expect(binary.bytes).toBe(20 * 1024 * 1024);
			expect(store).toBeTruthy();
		});
	});

	describe('Kling error codes', () => {
		const createWith = async (fault: Parameters<Emulator['injectFault']>[0]) => {
			const session = await identify(suite.emu);
			suite.emu.injectFault(fault);
			return run({
				items: [{ ...session, face_id: '0' }],
				parameters: lipSyncParameters(suite.emu, { waitForCompletion: false }),
			});
		};

		it.each([
			[
				1102,
				'Kling error 1102: Resource pack exhausted or expired',
				/Top up or renew the resource pack/,
			],
			[1101, 'Kling error 1101: Account in arrears', /Settle the outstanding balance/],
			[1103, 'Kling error 1103: No permission for this API', /Enable lip-sync/],
			[1301, 'Kling error 1301: Content safety policy triggered', /safety policy/],
			[1304, 'Kling error 1304: IP whitelist policy', /whitelist/],
		])('does not retry %d and explains it', async (code, message, remedy) => {
			const { error } = await createWith({ route: 'create', kind: 'error', code });
			expect(error?.message).toBe(message);
			expect(error?.description).toMatch(remedy);
			expect(error?.description).toMatch(/request_id: /);
			expect(suite.emu.stats.requests.create).toBe(1);
		});

		it.each([
			[{ route: 'create', kind: 'error', code: 1302 }],
			[{ route: 'create', kind: 'error', code: 1303 }],
			[{ route: 'create', kind: 'error', code: 5000, times: 2 }],
			[{ route: 'create', kind: 'error', code: 5001 }],
			[{ route: 'create', kind: 'error', code: 5002 }],
			[{ route: 'create', kind: 'http', status: 503 }],
		] as const)('retries %j and succeeds', async (fault) => {
			const { output, error } = await createWith(fault);
			expect(error).toBeUndefined();
			expect(output[0].json.task_status).toBe('submitted');
			expect(suite.emu.stats.billed.create).toBe(1);
		});

		it('retries a reset while polling', async () => {
			const session = await identify(suite.emu);
			suite.emu.injectFault({ route: 'get', kind: 'reset' });
			const polled = await run({
				items: [{ ...session, face_id: '0' }],
				parameters: lipSyncParameters(suite.emu, { downloadVideo: false }),
			});
			expect(polled.output[0].json.task_status).toBe('succeed');
			expect(suite.emu.stats.requests.get).toBeGreaterThanOrEqual(2);
		});

		it('explains authentication failures (wrong secret key)', async () => {
			const { error } = await run({
				parameters: { operation: 'listTasks' },
				credentials: { ...emulatorCredentials(suite.emu.baseUrl), secretKey: 'wrong-secret' },
			});
			expect(error?.message).toBe('Kling error 1000: Authentication failed');
			expect(error?.description).toMatch(/Check the Access Key and Secret Key/);
			expect(JSON.stringify(error)).not.toContain('wrong-secret');
		});
	});
});
