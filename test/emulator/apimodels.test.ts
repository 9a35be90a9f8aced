/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { ManualClock } from './clock';
import { callApi } from './client';
import { FIXTURES_DIR, startEmulator, type Emulator } from './server';

/** The emulator's apimodels.app dialect (seed 004): envelope, async identify, states, errors. */
describe('Kling emulator: apimodels.app dialect', () => {
	let emu: Emulator;
	let clock: ManualClock;
	const PATH = '/api/v1/audio/generations';

	beforeEach(async () => {
		clock = new ManualClock();
		emu = await startEmulator({
			clock,
			taskTimeMs: 10000,
			submittedMs: 1000,
			apimodelsIdentifyMs: 500,
		});
	});
	afterEach(async () => emu.stop());

	const post = (body: unknown, token?: string) =>
		callApi(emu.baseUrl, 'POST', PATH, { body, token });
	const query = (id: string) => callApi(emu.baseUrl, 'GET', `${PATH}?task_id=${id}`);

	it('identifies faces asynchronously, then lip-syncs through pending, processing and completed', async () => {
		const started = await post({
			model: 'kling-identify-face',
			video_url: 'https://x/a.mp4?faces=0-5000',
		});
		expect(started.body).toEqual({
			code: 200,
			msg: 'success',
			data: {
				taskId: expect.stringMatching(/^cl/),
				state: 'pending',
				model: 'kling-identify-face',
			},
		});
		const id = started.body.data.taskId as string;
		expect((await query(id)).body.data.state).toBe('processing');
		clock.advance(500);
		const identified = (await query(id)).body.data;
		expect(identified).toEqual(
			expect.objectContaining({
				state: 'completed',
				faceData: {
					session_id: expect.any(String),
					face_list: [{ face_id: '0', face_reference: expect.stringMatching(/\.png$/) }],
				},
			}),
		);
		const sound = readFileSync(path.join(FIXTURES_DIR, 'tone-3s.wav')).toString('base64');
		const created = await post({
			model: 'kling-advanced-lip-sync',
			session_id: identified.faceData.session_id,
			face_choose: [
				{
					face_id: '0',
					sound_file: sound,
					sound_start_time: 0,
					sound_end_time: 3000,
					sound_insert_time: 0,
				},
			],
		});
		const taskId = created.body.data.taskId as string;
		expect((await query(taskId)).body.data.state).toBe('pending');
		clock.advance(1000);
		expect((await query(taskId)).body.data.state).toBe('processing');
		clock.advance(9000);
		expect((await query(taskId)).body.data).toEqual(
			expect.objectContaining({
				state: 'completed',
				resultUrls: [expect.stringMatching(/\.mp4$/)],
			}),
		);
		expect(emu.stats.billed).toEqual({ identify: 1, create: 1, tts: 0 });
	});

	it('reports a video without faces as a failed job, as apimodels.app does', async () => {
		const id = (await post({ model: 'kling-identify-face', video_url: 'https://x/a.mp4?faces=' }))
			.body.data.taskId as string;
		clock.advance(500);
		expect((await query(id)).body.data).toEqual(
			expect.objectContaining({
				state: 'failed',
				failMsg: 'Face detection failed: no faces found',
			}),
		);
	});

	it('answers with its own errors: 401 key, 400 parameters and model, 404 task', async () => {
		expect((await post({ model: 'kling-identify-face' }, 'wrong')).status).toBe(401);
		const invalid = await post({ model: 'kling-identify-face', video_url: 'https://x/a.avi' });
		expect(invalid).toEqual({
			status: 400,
			body: { code: 400, msg: 'video_url must point to an .mp4 or .mov file' },
		});
		expect((await post({ model: 'other' })).body).toEqual({
			code: 400,
			msg: 'model must be kling-identify-face or kling-advanced-lip-sync',
		});
		expect((await query('missing')).body).toEqual({ code: 404, msg: 'Task not found' });
	});

	it('injects a 402 balance error', async () => {
		emu.injectFault({
			route: 'identify',
			kind: 'http',
			status: 402,
			json: { code: 402, msg: 'Insufficient credits' },
		});
		expect(
			(await post({ model: 'kling-identify-face', video_url: 'https://x/a.mp4' })).body,
		).toEqual({ code: 402, msg: 'Insufficient credits' });
	});
});
