/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { ManualClock } from './clock';
import { FIXTURES_DIR, startEmulator, type Emulator } from './server';

/** The emulator's vtrix "kirin" dialect (seed 000; the paths are our assumption, see the README). */
describe('Kling emulator: vtrix dialect', () => {
	let emu: Emulator;
	let clock: ManualClock;

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

	const call = async (
		method: 'GET' | 'POST',
		suffix: string,
		body?: unknown,
		token = 'test-api-key',
	) => {
		const response = await fetch(`${emu.baseUrl}/v1/generations${suffix}`, {
			method,
			headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		return { status: response.status, body: (await response.json()) as Record<string, any> };
	};

	it('identifies faces (Kling JSON as text), then lip-syncs to a video in output[].content[]', async () => {
		const started = await call('POST', '', {
			model: 'kirin_identify_face',
			video_url: 'https://x/a.mp4?faces=0-5000',
		});
		expect(started.body).toEqual({
			id: expect.stringMatching(/^vtx_/),
			status: 'pending',
			model: 'kirin_identify_face',
		});
		expect((await call('GET', `/${started.body.id}`)).body.status).toBe('processing');
		clock.advance(500);
		const done = (await call('GET', `/${started.body.id}`)).body;
		expect(done.status).toBe('completed');
		const kling = JSON.parse(done.output[0].content[0].text);
		expect(kling.face_data).toEqual([
			expect.objectContaining({ face_id: '0', start_time: 0, end_time: 5000 }),
		]);
		const sound = readFileSync(path.join(FIXTURES_DIR, 'tone-3s.wav')).toString('base64');
		const created = await call('POST', '', {
			model: 'kirin_lipsync',
			session_id: kling.session_id,
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
		expect((await call('GET', `/${created.body.id}`)).body.status).toBe('pending');
		clock.advance(10000);
		const video = (await call('GET', `/${created.body.id}`)).body;
		expect(video).toEqual(
			expect.objectContaining({
				status: 'completed',
				usage: { cost: '0.05', discount: 0 },
				output: [
					{
						content: [
							expect.objectContaining({
								type: 'video',
								url: expect.stringMatching(/\.mp4$/),
								duration: 8,
							}),
						],
					},
				],
			}),
		);
	});

	it('fails a job with a documented error code, and answers errors in its error object', async () => {
		const identified = await call('POST', '', {
			model: 'kirin_identify_face',
			video_url: 'https://x/a.mp4?fail=blocked',
		});
		clock.advance(500);
		const kling = JSON.parse(
			(await call('GET', `/${identified.body.id}`)).body.output[0].content[0].text,
		);
		const sound = readFileSync(path.join(FIXTURES_DIR, 'tone-3s.wav')).toString('base64');
		const created = await call('POST', '', {
			model: 'kirin_lipsync',
			session_id: kling.session_id,
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
		clock.advance(10000);
		expect((await call('GET', `/${created.body.id}`)).body).toEqual(
			expect.objectContaining({
				status: 'failed',
				error: { code: '014002095', error_message: 'blocked' },
			}),
		);
		expect(await call('POST', '', { model: 'x' }, 'wrong')).toEqual({
			status: 401,
			body: { error: { code: '401', error_message: 'Invalid API key' } },
		});
		expect(
			(await call('POST', '', { model: 'kirin_identify_face', video_url: 'https://x/a.avi' })).body
				.error.code,
		).toBe('400');
		expect((await call('GET', '/missing')).status).toBe(404);
	});
});
