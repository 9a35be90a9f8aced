import { silentWav } from '../emulator/server';
import { emulatorCredentials } from './harness';
import { FAST_WAIT, emulatorSuite } from './helpers';

describe('Lip Sync Video', () => {
	const suite = emulatorSuite({ taskTimeMs: 500, submittedMs: 100 });
	const { run } = suite;
	const video = (faces: string, durationMs = 8000) =>
		`https://cdn.example.com/talk.mp4?durationMs=${durationMs}&faces=${faces}`;
	const wav = (ms: number) => silentWav(ms, 8000).toString('base64');
	const syncVideo = (videoUrl: string, audioMs: number, over = {}) => ({
		operation: 'lipSyncVideo',
		videoUrl,
		audioSource: 'base64',
		audioBase64: wav(audioMs),
		downloadVideo: false,
		waitOptions: FAST_WAIT,
		...over,
	});

	describe('Lip Sync Video', () => {
		it('a retry after Kling failed the task makes it anew, paying only for that', async () => {
			const parameters = syncVideo(`${video('0-8000')}&fail=GPU%20busy&failTimes=1`, 4000);
			const failed = await run({ parameters });
			expect(failed.error?.message).toMatch(/^Kling task failed: GPU busy/);
			const retried = await run({ parameters });
			expect(retried.error).toBeUndefined();
			expect(retried.output[0].json.task_status).toBe('succeed');
			expect(String(retried.output[0].json.external_task_id)).toMatch(/-r1$/);
			expect(suite.emu.stats.billed.create).toBe(2);
		});

		it('identifies, picks the face whose window holds most of the audio, syncs and returns the video with every id', async () => {
			const { output, error } = await run({
				parameters: { ...syncVideo(video('0-3000,2000-8000'), 4000), downloadVideo: true },
			});
			expect(error).toBeUndefined();
			const json = output[0].json;
			expect(json).toEqual(
				expect.objectContaining({
					task_status: 'succeed',
					session_id: expect.stringMatching(/^\d{18}$/),
					task_id: expect.stringMatching(/^\d{18}$/),
					external_task_id: expect.stringMatching(/^n8n-/),
					face_id: '1',
					face_index: 1,
					face_count: 2,
					face_start_time: 2000,
					face_end_time: 8000,
					crop_start_time: 0,
					crop_end_time: 4000,
					insert_time: 2000,
					trimmed: false,
					trimmed_ms: 0,
				}),
			);
			expect(output[0].binary?.data.mimeType).toBe('video/mp4');
			expect(suite.emu.stats.billed).toEqual(expect.objectContaining({ identify: 1, create: 1 }));
		});

		it('chooses the face visible at a time, and says so when several are', async () => {
			const { output, error } = await run({
				parameters: {
					...syncVideo(video('0-3000,2000-8000'), 3000),
					faceChoice: 'visibleAt',
					visibleAtMs: 5000,
				},
			});
			expect(error).toBeUndefined();
			expect(output[0].json).toEqual(expect.objectContaining({ face_id: '1', insert_time: 2000 }));
			const several = await run({
				parameters: {
					...syncVideo(video('0-3000,2000-8000'), 3000),
					faceChoice: 'visibleAt',
					visibleAtMs: 2500,
				},
			});
			expect(several.error?.message).toMatch(
				/2 faces are visible at 2500 ms .*choose the face by index or face ID/,
			);
		});

		it('trims the end of audio longer than the face window, and says so', async () => {
			const { output, error } = await run({ parameters: syncVideo(video('1000-4500'), 6000) });
			expect(error).toBeUndefined();
			expect(output[0].json).toEqual(
				expect.objectContaining({
					insert_time: 1000,
					crop_end_time: 3500,
					trimmed: true,
					trimmed_ms: 2500,
					note: expect.stringMatching(/2500 ms longer than face 0's window/),
				}),
			);
		});

		it.each([
			['by index', { faceChoice: 'index', faceIndex: 1 }, '1'],
			['by face id', { faceChoice: 'faceId', chosenFaceId: '0' }, '0'],
			['most overlap at a given Insert At', { options: { insertMs: 5000 } }, '1'],
		])('chooses the face %s', async (_name, over, faceId) => {
			const { output, error } = await run({
				parameters: syncVideo(video('0-6000,4000-8000'), 3000, over),
			});
			expect(error).toBeUndefined();
			expect(output[0].json.face_id).toBe(faceId);
		});

		it.each([
			['no face', video(''), {}, /^Kling found no face to lip-sync in the video$/],
			[
				'a face index past the faces found',
				video('0-8000'),
				{ faceChoice: 'index', faceIndex: 3 },
				/^Face Index must be from 0 to 0: Kling found 1 face\(s\) \(got 3\)/,
			],
			[
				'an unknown face id',
				video('0-8000'),
				{ faceChoice: 'faceId', chosenFaceId: '7' },
				/^Face ID "7" is not among the faces Kling found \(0\)/,
			],
			[
				'a face window under 2 s',
				video('0-1500'),
				{},
				/leaves 1500 ms for the audio from 0 ms; at least 2000 ms are needed/,
			],
			[
				'an Insert At outside the window',
				video('0-4000'),
				{ options: { insertMs: 6000 } },
				/^Insert At \(Milliseconds\) 6000 is outside face 0's window \(0-4000 ms\)/,
			],
			[
				'an Insert At near the end of the video',
				video('0-8000'),
				{ options: { insertMs: 7000 } },
				/^Insert At \(Milliseconds\) 7000 leaves 1000 ms of audio inside face 0's window \(0-8000 ms\)/,
			],
		])(
			'stops after identifying, before any task, for %s',
			async (_name, videoUrl, over, message) => {
				const { error } = await run({ parameters: syncVideo(videoUrl, 3000, over) });
				expect(error?.message).toMatch(message);
				expect(error?.description).toMatch(/session_id \d{18}\. No lip-sync task was created\./);
				expect(suite.emu.stats.requests.create ?? 0).toBe(0);
			},
		);

		it('checks the audio before identifying: nothing is billed for bad audio', async () => {
			const { error } = await run({ parameters: syncVideo(video('0-8000'), 1500) });
			expect(error?.message).toMatch(/must be 2-60 seconds long/);
			expect(suite.emu.stats.billed.identify).toBe(0);
		});

		it('syncs without fitting where the provider gives no face windows (apimodels.app)', async () => {
			const { output, error } = await run({
				credentials: emulatorCredentials(suite.emu.baseUrl, 'apimodels'),
				parameters: syncVideo(video('0-8000'), 3000),
			});
			expect(error).toBeUndefined();
			expect(output[0].json).toEqual(
				expect.objectContaining({
					task_status: 'succeed',
					face_start_time: null,
					crop_end_time: 3000,
					insert_time: 0,
				}),
			);
		});
	});
});
