/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import { signKlingJwt } from '../../credentials/KlingApi.credentials';
import { ManualClock } from './clock';
import { callApi } from './client';
import { FIXTURES_DIR, silentWav, startEmulator, type Emulator } from './server';
import { signWebhook } from './webhook';

const fixture = (name: string): Buffer => readFileSync(path.join(FIXTURES_DIR, name));
const VIDEO = 'https://cdn.example.com/talk.mp4?durationMs=8000&faces=0-5200,3000-8000';

describe('Kling emulator', () => {
	let emu: Emulator;
	let clock: ManualClock;

	beforeEach(async () => {
		clock = new ManualClock();
		emu = await startEmulator({ clock, taskTimeMs: 10000, submittedMs: 1000 });
	});
	afterEach(async () => emu.stop());

	const post = async (p: string, body: unknown, token?: string | null) =>
		callApi(emu.baseUrl, 'POST', p, { body, token });
	const get = async (p: string, token?: string | null) => callApi(emu.baseUrl, 'GET', p, { token });
	const identify = async (videoUrl = VIDEO) => {
		const reply = await post('/v1/videos/identify-face', { video_url: videoUrl });
		expect(reply.body.code).toBe(0);
		return reply.body.data as { session_id: string; face_data: Array<Record<string, unknown>> };
	};
	const wavBase64 = fixture('tone-3s.wav').toString('base64');
	const choice = (over: Record<string, unknown> = {}) => ({
		face_id: '0',
		sound_file: wavBase64,
		sound_start_time: 0,
		sound_end_time: 3000,
		sound_insert_time: 1000,
		...over,
	});
	const create = async (over: Record<string, unknown> = {}, body: Record<string, unknown> = {}) => {
		const { session_id } = await identify();
		return post('/v1/videos/advanced-lip-sync', {
			session_id,
			face_choose: [choice(over)],
			...body,
		});
	};
	const expectInvalid = (reply: Awaited<ReturnType<typeof post>>, pattern: RegExp) => {
		expect(reply.status).toBe(400);
		expect(reply.body.code).toBe(1201);
		expect(reply.body.message).toMatch(pattern);
		expect(typeof reply.body.request_id).toBe('string');
	};

	describe('authentication', () => {
		it('accepts a static API key and a fresh HS256 JWT', async () => {
			expect((await get('/v1/videos/advanced-lip-sync')).body.code).toBe(0);
			const token = signKlingJwt('test-access-key', 'test-secret-key', clock.now());
			expect((await get('/v1/videos/advanced-lip-sync', token)).body.code).toBe(0);
		});

		it.each([
			['no header', null, 1001],
			['an unknown key', 'nope', 1002],
			[
				'a token with an unknown access key',
				signKlingJwt('other', 'test-secret-key', Date.UTC(2026, 10, 24, 12)),
				1002,
			],
			[
				'a token signed with the wrong secret',
				signKlingJwt('test-access-key', 'wrong', Date.UTC(2026, 10, 24, 12)),
				1000,
			],
			[
				'an expired token',
				signKlingJwt('test-access-key', 'test-secret-key', Date.UTC(2026, 10, 24, 11)),
				1004,
			],
			[
				'a token not valid yet',
				signKlingJwt('test-access-key', 'test-secret-key', Date.UTC(2026, 10, 24, 12, 1)),
				1003,
			],
		])('rejects %s with 401 / %d', async (_name, token, code) => {
			const reply = await get('/v1/videos/advanced-lip-sync', token);
			expect(reply.status).toBe(401);
			expect(reply.body.code).toBe(code);
		});

		it('rejects a non-Bearer header', async () => {
			const response = await fetch(`${emu.baseUrl}/v1/videos/advanced-lip-sync`, {
				headers: { authorization: 'Basic abc' },
			});
			expect(response.status).toBe(401);
			expect(((await response.json()) as { code: number }).code).toBe(1002);
		});
	});

	describe('envelope', () => {
		it('answers unknown methods with 404 / 1202 and bad JSON with 400 / 1200', async () => {
			expect((await get('/v1/videos/lip-sync')).body.code).toBe(1202);
			const bad = await callApi(emu.baseUrl, 'POST', '/v1/videos/identify-face', {
				rawBody: '{not json',
			});
			expect(bad.status).toBe(400);
			expect(bad.body.code).toBe(1200);
		});
	});

	describe('identify-face', () => {
		it('returns a session and each face with its window, and bills the call', async () => {
			const data = await identify();
			expect(data.session_id).toMatch(/^\d{18}$/);
			expect(data.face_data).toEqual([
				expect.objectContaining({ face_id: '0', start_time: 0, end_time: 5200 }),
				expect.objectContaining({ face_id: '1', start_time: 3000, end_time: 8000 }),
			]);
			const image = await fetch(data.face_data[0].face_image as string);
			expect(image.headers.get('content-type')).toBe('image/png');
			expect(
				Buffer.from(await image.arrayBuffer())
					.subarray(1, 4)
					.toString(),
			).toBe('PNG');
			expect(emu.stats.billed.identify).toBe(1);
		});

		it('accepts a known Kling video id', async () => {
			const reply = await post('/v1/videos/identify-face', { video_id: 'kling-video-8s' });
			expect(reply.body.data.face_data).toHaveLength(1);
		});

		it.each([
			[{}, /exactly one of video_id and video_url/i],
			[{ video_id: 'kling-video-8s', video_url: VIDEO }, /exactly one/i],
			[{ video_id: '', video_url: '' }, /exactly one/i],
			[{ video_url: 'not a url' }, /video_url must be a valid/],
			[{ video_url: 'ftp://x/a.mp4' }, /video_url must be a valid/],
			[{ video_url: 'https://x/a.avi' }, /\.mp4 or \.mov/],
			[{ video_url: 'https://x/a.mp4?durationMs=1500' }, /2-60 s/],
			[{ video_url: 'https://x/a.mov?durationMs=60001' }, /2-60 s/],
			[{ video_url: 'https://x/a.mp4?width=300' }, /width must be 512-2160/],
			[{ video_url: 'https://x/a.mp4?height=4000' }, /height must be 512-2160/],
			[{ video_url: 'https://x/a.mp4?sizeMb=150' }, /100 MB/],
			[{ video_id: 'missing' }, /video_id does not exist/],
			[{ video_id: 'kling-video-90s' }, /2-60 s/],
			[{ video_id: 12 }, /video_id must be a string/],
		])('rejects %j', async (body, pattern) => {
			expectInvalid(await post('/v1/videos/identify-face', body), pattern);
			expect(emu.stats.billed.identify).toBe(0);
		});

		it('answers a video without faces with an empty face list, or an error when configured', async () => {
			expect((await identify('https://x/a.mp4?faces=')).face_data).toEqual([]);
			emu.configure({ noFace: 'error' });
			expectInvalid(
				await post('/v1/videos/identify-face', { video_url: 'https://x/a.mp4?faces=' }),
				/No face/,
			);
		});
	});

	describe('advanced-lip-sync create rules', () => {
		it('creates a task from base64 audio', async () => {
			const reply = await create({}, { external_task_id: 'ext-1' });
			expect(reply.body.code).toBe(0);
			expect(reply.body.data).toEqual(
				expect.objectContaining({
					task_status: 'submitted',
					task_info: { external_task_id: 'ext-1' },
				}),
			);
			expect(reply.body.data.task_id).toMatch(/^\d{18}$/);
			expect(emu.stats.billed.create).toBe(1);
		});

		it.each(['tone-3s.wav', 'tone-3s.mp3', 'tone-3s.m4a', 'tone-3s.aac'])(
			'downloads and accepts %s by URL',
			async (name) => {
				const reply = await create({
					sound_file: `${emu.baseUrl}/media/fixtures/${name}`,
					sound_end_time: 2900,
				});
				expect(reply.body).toEqual(expect.objectContaining({ code: 0 }));
			},
		);

		it.each([
			['unknown session', {}, { session_id: '123' }, /session_id does not exist/],
			['two faces', {}, { face_choose: [choice(), choice({ face_id: '1' })] }, /only one face/],
			['no faces', {}, { face_choose: [] }, /non-empty array/],
			['a face not in the session', { face_id: '7' }, {}, /face_id "7" is not a face/],
			['a numeric face id', { face_id: 0 }, {}, /face_id must be a string/],
			['both audio sources', { audio_id: 'a' }, {}, /exactly one of audio_id and sound_file/],
			['neither audio source', { sound_file: '' }, {}, /exactly one of audio_id and sound_file/],
			[
				'an unknown audio id',
				{ sound_file: undefined, audio_id: '42' },
				{},
				/audio_id does not exist/,
			],
			['a data: prefix', { sound_file: `data:audio/wav;base64,${wavBase64}` }, {}, /data: prefix/],
			['invalid base64', { sound_file: 'not base64!' }, {}, /base64-encoded audio or an http/],
			[
				'a PNG as audio',
				{ sound_file: fixture('face.png').toString('base64') },
				{},
				/is not MP3, WAV, M4A or AAC/,
			],
			[
				'audio shorter than 2 s',
				{ sound_file: fixture('tone-1500ms.wav').toString('base64'), sound_end_time: 1500 },
				{},
				/2-60 s long/,
			],
			[
				'audio longer than 60 s',
				{ sound_file: silentWav(61000, 4000).toString('base64') },
				{},
				/2-60 s long/,
			],
			[
				'audio over 5 MB',
				{ sound_file: silentWav(59000, 96000).toString('base64') },
				{},
				/at most 5 MB/,
			],
			[
				'a crop under 2 s',
				{ sound_start_time: 1500, sound_end_time: 3000 },
				{},
				/at least 2000 ms \(got 1500\)/,
			],
			[
				'a crop end past the audio',
				{ sound_end_time: 3500 },
				{},
				/not be later than the audio's length \(3000 ms\)/,
			],
			[
				'an insert past the video end',
				{ sound_insert_time: 5500 },
				{},
				/must end within the video/,
			],
			[
				'an overlap under 2 s',
				{ face_id: '1', sound_insert_time: 0, sound_end_time: 2500, sound_start_time: 0 },
				{},
				/overlap the face's window/,
			],
			['a fractional time', { sound_insert_time: 1.5 }, {}, /integer number of milliseconds/],
			['a negative time', { sound_start_time: -1 }, {}, /must not be negative/],
			['a missing time', { sound_end_time: undefined }, {}, /sound_end_time is required/],
			['a volume over 2', { sound_volume: 2.5 }, {}, /sound_volume must be a number from 0 to 2/],
			[
				'a negative original volume',
				{ original_audio_volume: -0.1 },
				{},
				/original_audio_volume must be/,
			],
			['a bad watermark', {}, { watermark_info: true }, /watermark_info/],
			['a bad callback url', {}, { callback_url: 'mailto:x' }, /callback_url/],
			['a numeric external id', {}, { external_task_id: 5 }, /external_task_id must be a string/],
		])('rejects %s', async (_name, over, body, pattern) => {
			expectInvalid(await create(over, body), pattern);
			expect(emu.stats.billed.create).toBe(0);
		});

		it('rejects an expired session (24 h)', async () => {
			const { session_id } = await identify();
			clock.advance(24 * 3600 * 1000 + 1);
			const token = signKlingJwt('test-access-key', 'test-secret-key', clock.now());
			expectInvalid(
				await post('/v1/videos/advanced-lip-sync', { session_id, face_choose: [choice()] }, token),
				/expired/,
			);
		});

		it('rejects an unreachable sound_file URL', async () => {
			expectInvalid(
				await create({ sound_file: `${emu.baseUrl}/media/fixtures/missing.wav` }),
				/could not be downloaded/,
			);
		});

		it('rejects a repeated external_task_id and counts it', async () => {
			expect((await create({}, { external_task_id: 'same' })).body.code).toBe(0);
			expectInvalid(await create({}, { external_task_id: 'same' }), /already exists/);
			expect(emu.stats.repeatedExternalTaskIds).toBe(1);
			expect(emu.stats.billed.create).toBe(1);
		});
	});

	describe('task lifecycle', () => {
		it('goes submitted -> processing -> succeed on the clock, by task_id and external_task_id', async () => {
			const { data } = (
				await create({}, { external_task_id: 'life', watermark_info: { enabled: true } })
			).body;
			const status = async (id: string) =>
				(await get(`/v1/videos/advanced-lip-sync/${id}`)).body.data;
			expect((await status(data.task_id)).task_status).toBe('submitted');
			clock.advance(1000);
			expect((await status('life')).task_status).toBe('processing');
			clock.advance(9000);
			const done = await status(data.task_id);
			expect(done.task_status).toBe('succeed');
			expect(done.final_unit_deduction).toBe('1');
			const [video] = done.task_result.videos;
			expect(video.duration).toBe('8.000');
			for (const url of [video.url, video.watermark_url]) {
				const response = await fetch(url);
				expect(response.headers.get('content-type')).toBe('video/mp4');
				expect(
					Buffer.from(await response.arrayBuffer())
						.subarray(4, 8)
						.toString(),
				).toBe('ftyp');
			}
		});

		it("identifies a finished task's video by its id, with the faces of the video it was made from; not before it is done", async () => {
			const original = await identify();
			const { data } = (
				await post('/v1/videos/advanced-lip-sync', {
					session_id: original.session_id,
					face_choose: [choice()],
				})
			).body;
			const resultId = `${data.task_id}1`;
			expectInvalid(
				await post('/v1/videos/identify-face', { video_id: resultId }),
				/video_id does not exist/,
			);
			clock.advance(10_000);
			const [video] = (await get(`/v1/videos/advanced-lip-sync/${data.task_id}`)).body.data
				.task_result.videos;
			expect(video.id).toBe(resultId);
			const again = (await post('/v1/videos/identify-face', { video_id: video.id })).body.data;
			expect(again.session_id).not.toBe(original.session_id);
			const windows = (faces: Array<Record<string, unknown>>) =>
				faces.map((face) => [face.start_time, face.end_time]);
			expect(windows(again.face_data)).toEqual(windows(original.face_data));
		});

		it('omits watermark_url when the watermark was not asked for', async () => {
			const { data } = (await create()).body;
			clock.advance(10000);
			const done = (await get(`/v1/videos/advanced-lip-sync/${data.task_id}`)).body.data;
			expect(done.task_result.videos[0].watermark_url).toBeUndefined();
		});

		it('fails tasks of a video marked to fail, with the reason', async () => {
			const { session_id } = await identify('https://x/a.mp4?fail=content%20policy');
			const { data } = (
				await post('/v1/videos/advanced-lip-sync', { session_id, face_choose: [choice()] })
			).body;
			clock.advance(10000);
			const done = (await get(`/v1/videos/advanced-lip-sync/${data.task_id}`)).body.data;
			expect(done).toEqual(
				expect.objectContaining({ task_status: 'failed', task_status_msg: 'content policy' }),
			);
			expect(done.task_result).toEqual({});
		});

		it('answers an unknown task with 404 / 1203', async () => {
			const reply = await get('/v1/videos/advanced-lip-sync/999');
			expect(reply.status).toBe(404);
			expect(reply.body.code).toBe(1203);
		});

		it('lists tasks newest first and enforces page ranges', async () => {
			const first = (await create()).body.data.task_id;
			clock.advance(10);
			const second = (await create()).body.data.task_id;
			const list = (await get('/v1/videos/advanced-lip-sync?pageNum=1&pageSize=1')).body.data;
			expect(list.map((t: { task_id: string }) => t.task_id)).toEqual([second]);
			const page2 = (await get('/v1/videos/advanced-lip-sync?pageNum=2&pageSize=1')).body.data;
			expect(page2[0].task_id).toBe(first);
			for (const q of ['pageNum=0', 'pageNum=1001', 'pageSize=0', 'pageSize=501', 'pageSize=1.5']) {
				expectInvalid(
					await get(`/v1/videos/advanced-lip-sync?${q}`),
					/page(Num|Size) must be an integer/,
				);
			}
		});
	});

	describe('text to speech', () => {
		it('returns an audio_id whose audio lip-sync accepts, and a downloadable WAV', async () => {
			const reply = await post('/v1/audio/tts', {
				text: 'Hello there, this is a test of speech',
				voice_id: 'genshin_vindi2',
				voice_language: 'en',
			});
			const [audio] = reply.body.data.task_result.audios;
			expect(audio.duration).toBe('2.220');
			const wav = Buffer.from(await (await fetch(audio.url)).arrayBuffer());
			expect(wav.subarray(0, 4).toString()).toBe('RIFF');
			expect(
				(await create({ sound_file: undefined, audio_id: audio.id, sound_end_time: 2220 })).body
					.code,
			).toBe(0);
		});

		it.each([
			['no text', { voice_id: 'v' }, /text is required/],
			['text over 1000 characters', { text: 'x'.repeat(1001), voice_id: 'v' }, /at most 1000/],
			['no voice', { text: 'hi' }, /voice_id is required/],
			[
				'an unknown language',
				{ text: 'hi', voice_id: 'v', voice_language: 'fr' },
				/voice_language/,
			],
			['a speed over 2', { text: 'hi', voice_id: 'v', voice_speed: 3 }, /voice_speed/],
		])('rejects %s', async (_name, body, pattern) => {
			expectInvalid(await post('/v1/audio/tts', body), pattern);
		});
	});

	describe('faults and accounting', () => {
		it('injects business errors with their HTTP status, then recovers', async () => {
			emu.injectFault({ route: 'list', kind: 'error', code: 1302 });
			emu.injectFault({ route: 'list', kind: 'error', code: 5001 });
			const first = await get('/v1/videos/advanced-lip-sync');
			expect([first.status, first.body.code]).toEqual([429, 1302]);
			const second = await get('/v1/videos/advanced-lip-sync');
			expect([second.status, second.body.code]).toEqual([503, 5001]);
			expect((await get('/v1/videos/advanced-lip-sync')).body.code).toBe(0);
		});

		it('injects 5000 and 5002 and a bare gateway status', async () => {
			emu.injectFault({ route: '*', kind: 'error', code: 5000 });
			expect((await get('/v1/videos/advanced-lip-sync')).status).toBe(500);
			emu.injectFault({ route: '*', kind: 'error', code: 5002 });
			expect((await get('/v1/videos/advanced-lip-sync')).status).toBe(504);
			emu.injectFault({ route: 'get', kind: 'http', status: 502 });
			const response = await fetch(`${emu.baseUrl}/v1/videos/advanced-lip-sync/1`, {
				headers: { authorization: 'Bearer test-api-key' },
			});
			expect(response.status).toBe(502);
		});

		it('resets sockets and delays replies', async () => {
			emu.injectFault({ route: 'list', kind: 'reset' });
			await expect(get('/v1/videos/advanced-lip-sync')).rejects.toThrow();
			emu.injectFault({ route: 'list', kind: 'delay', ms: 150 });
			const started = Date.now();
			expect((await get('/v1/videos/advanced-lip-sync')).body.code).toBe(0);
			expect(Date.now() - started).toBeGreaterThanOrEqual(140);
		});

		it('creates the task but loses the reply', async () => {
			const { session_id } = await identify();
			emu.injectFault({ route: 'create', kind: 'lostReply' });
			await expect(
				post('/v1/videos/advanced-lip-sync', {
					session_id,
					face_choose: [choice()],
					external_task_id: 'lost-1',
				}),
			).rejects.toThrow();
			expect(emu.stats.billed.create).toBe(1);
			expect((await get('/v1/videos/advanced-lip-sync/lost-1')).body.data.task_status).toBe(
				'submitted',
			);
		});

		it('answers 429 / 1303 beyond the concurrency limit, and frees the slot when a task ends', async () => {
			emu.configure({ concurrencyLimit: 2 });
			expect((await create()).body.code).toBe(0);
			expect((await create()).body.code).toBe(0);
			const third = await create();
			expect([third.status, third.body.code]).toEqual([429, 1303]);
			clock.advance(10000);
			emu.tick();
			expect((await create()).body.code).toBe(0);
			expect(emu.stats.highestConcurrency).toBe(2);
			expect(emu.stats.tasksCreated).toBe(3);
			expect(emu.stats.rejected[1303]).toBe(1);
			expect(emu.stats.requests.create).toBe(4);
		});
	});
});

describe('Kling emulator on a real clock', () => {
	it('posts signed callbacks on each status change and retries non-2xx', async () => {
		const received: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
		let refuseFirst = true;
		const receiver = http.createServer((req, res) => {
			let body = '';
			req.on('data', (c: Buffer) => (body += c.toString()));
			req.on('end', () => {
				if (refuseFirst) {
					refuseFirst = false;
					res.writeHead(500).end();
					return;
				}
				received.push({ headers: req.headers, body });
				res.writeHead(204).end();
			});
		});
		await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
		const callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
		const secret = 'whsec_dGVzdHNlY3JldHRlc3RzZWNyZXR0ZXN0c2VjcmV0MTI=';
		const emu = await startEmulator({
			taskTimeMs: 300,
			submittedMs: 100,
			webhookSecret: secret,
			callbackRetryDelaysMs: [50],
		});
		try {
			const { session_id } = (
				await callApi(emu.baseUrl, 'POST', '/v1/videos/identify-face', {
					body: { video_url: VIDEO },
				})
			).body.data;
			const created = await callApi(emu.baseUrl, 'POST', '/v1/videos/advanced-lip-sync', {
				body: {
					session_id,
					callback_url: callbackUrl,
					face_choose: [
						{
							face_id: '0',
							sound_file: fixture('tone-3s.wav').toString('base64'),
							sound_start_time: 0,
							sound_end_time: 3000,
							sound_insert_time: 0,
						},
					],
				},
			});
			expect(created.body.code).toBe(0);
			const deadline = Date.now() + 5000;
			while (received.length < 2 && Date.now() < deadline)
				await new Promise((r) => setTimeout(r, 20));
			expect(received.map((r) => JSON.parse(r.body).task_status)).toEqual([
				'processing',
				'succeed',
			]);
			expect(emu.callbacks[0].attempts).toBe(2);
			for (const { headers, body } of received) {
				const expected = signWebhook(
					secret,
					headers['webhook-id'] as string,
					Number(headers['webhook-timestamp']),
					body,
				);
				expect(headers['webhook-signature']).toBe(expected);
			}
			expect(JSON.parse(received[1].body).task_result.videos[0].url).toMatch(/\.mp4$/);
		} finally {
			await emu.stop();
			receiver.close();
		}
	});

	it('signs as the Standard Webhooks test vector says', () => {
		const body =
			'{"id":"1234567890","status":"succeeded","message":"","create_time":1781080778802,"update_time":1781080794151}';
		expect(
			signWebhook(
				'whsec_dGVzdHNlY3JldHRlc3RzZWNyZXR0ZXN0c2VjcmV0MTI=',
				'9876543210',
				1781080794,
				body,
			),
		).toBe('v1,UsKlJP00XoQyOn410NM9xv34sP+Gl0jnOO9Lcpr7NJ4=');
	});

	it('streams a large result without holding it in memory', async () => {
		const emu = await startEmulator({
			taskTimeMs: 50,
			submittedMs: 10,
			resultBytes: 200 * 1024 * 1024,
		});
		try {
			const { session_id } = (
				await callApi(emu.baseUrl, 'POST', '/v1/videos/identify-face', {
					body: { video_url: VIDEO },
				})
			).body.data;
			const { task_id } = (
				await callApi(emu.baseUrl, 'POST', '/v1/videos/advanced-lip-sync', {
					body: {
						session_id,
						face_choose: [
							{
								face_id: '0',
								sound_file: fixture('tone-3s.wav').toString('base64'),
								sound_start_time: 0,
								sound_end_time: 3000,
								sound_insert_time: 0,
							},
						],
					},
				})
			).body.data;
			await new Promise((r) => setTimeout(r, 120));
			const { data } = (
				await callApi(emu.baseUrl, 'GET', `/v1/videos/advanced-lip-sync/${task_id}`)
			).body;
			const rssBefore = process.memoryUsage().rss;
			const response = await fetch(data.task_result.videos[0].url);
			expect(response.headers.get('content-length')).toBe(String(200 * 1024 * 1024));
			let size = 0;
			const reader = response.body!.getReader();
			for (;;) {
				const { done, value } = await reader.read();
				if (done) break;
				size += value.length;
			}
			expect(size).toBe(200 * 1024 * 1024);
			expect(process.memoryUsage().rss - rssBefore).toBeLessThan(100 * 1024 * 1024);
		} finally {
			await emu.stop();
		}
	});
});
