/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
import { KlingApi } from '../../credentials/KlingApi.credentials';
import { describeKlingCode } from '../../nodes/KlingLipSync/helpers/errorCodes';
import { signKlingJwt } from '../../nodes/KlingLipSync/helpers/jwt';
import { faceToJson, taskToJson } from '../../nodes/KlingLipSync/helpers/output';
import { runPool } from '../../nodes/KlingLipSync/helpers/pool';
import {
	MAX_RETRIES,
	mayHaveBeenCarriedOut,
	retryDelayMs,
	shouldRetry,
} from '../../nodes/KlingLipSync/helpers/retry';
import { audioFingerprint, workTaskId } from '../../nodes/KlingLipSync/helpers/externalId';
import { adoptionProblem } from '../../nodes/KlingLipSync/helpers/adoption';
import { parseJsonKeepingBigIntegers } from '../../nodes/KlingLipSync/helpers/json';
import { RequestPacer } from '../../nodes/KlingLipSync/helpers/pacer';
import { readRunTasks } from '../../nodes/KlingLipSync/actions/pipeline/taskList';
import type { LipSyncApi, LipSyncTask } from '../../nodes/KlingLipSync/transport/types';
import {
	BATCH_QUERY_PARAM,
	decodeBatch,
	encodeBatch,
	taskKey,
	withQueryParam,
} from '../../nodes/KlingLipSync/helpers/callbackBatch';
import { chooseFace, fitAudio } from '../../nodes/KlingLipSync/helpers/faceFit';
import { searchVoices } from '../../nodes/KlingLipSync/helpers/voices';
import { checkWebhookSignature } from '../../nodes/KlingLipSync/helpers/webhookSignature';
import {
	checkHttpUrl,
	checkId,
	checkMilliseconds,
	checkTiming,
	checkVolume,
	overlapMs,
} from '../../nodes/KlingLipSync/helpers/validation';
import { normaliseBase64 } from '../../nodes/KlingLipSync/actions/shared/audioSource';
import {
	officialCreateBody,
	parseOfficialIdentify,
	parseOfficialTask,
} from '../../nodes/KlingLipSync/transport/officialParts';
import { jsonBytes, resolveBaseUrl } from '../../nodes/KlingLipSync/transport';
import { InlineBytes } from '../../nodes/KlingLipSync/transport/types';
import {
	apimodelsDialect,
	parseApimodelsFaces,
	parseApimodelsTask,
} from '../../nodes/KlingLipSync/transport/apimodels';
import {
	parseVtrixIdentify,
	parseVtrixTask,
	vtrixDialect,
} from '../../nodes/KlingLipSync/transport/vtrix';
import { authenticate } from '../emulator/auth';

describe('JWT signing', () => {
	const now = Date.UTC(2026, 10, 24, 12);
	it("produces a token the emulator (Kling's rules) accepts, with exp +1800 s and nbf -5 s", () => {
		const token = signKlingJwt('ak', 'sk', now);
		const [header, payload] = token
			.split('.')
			.slice(0, 2)
			.map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
		expect(header).toEqual({ alg: 'HS256', typ: 'JWT' });
		expect(payload).toEqual({ iss: 'ak', exp: now / 1000 + 1800, nbf: now / 1000 - 5 });
		expect(() =>
			authenticate(`Bearer ${token}`, { apiKeys: [], accessKeys: { ak: 'sk' } }, now),
		).not.toThrow();
		expect(() =>
			authenticate(`Bearer ${token}`, { apiKeys: [], accessKeys: { ak: 'other' } }, now),
		).toThrow(/signature/);
	});

	it('is signed by the credential for every request, replacing no other header', async () => {
		const credential = new KlingApi();
		const signed = await credential.authenticate(
			{ authType: 'accessKey', accessKey: ' ak ', secretKey: 'sk' },
			{ url: '/x', headers: { 'x-keep': '1' } },
		);
		expect(signed.headers).toEqual({
			'x-keep': '1',
			Authorization: expect.stringMatching(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/),
		});
		const api = await credential.authenticate(
			{ authType: 'apiKey', apiKey: 'key-1' },
			{ url: '/x' },
		);
		expect(api.headers).toEqual({ Authorization: 'Bearer key-1' });
	});
});

describe('validation', () => {
	it.each([
		[checkMilliseconds('T', 5), undefined],
		[checkMilliseconds('T', '5'), 'T must be a number of milliseconds (got a string)'],
		[
			checkMilliseconds('T', null),
			'T must be a number of milliseconds: its expression gave null (NaN and Infinity arrive as null)',
		],
		[checkMilliseconds('T', 3_600_001), 'T must be at most 3600000 ms (got 3600001)'],
		[
			checkMilliseconds('T', Number.NaN),
			'T must be a number of milliseconds: its expression gave NaN',
		],
		[checkMilliseconds('T', 1.5), 'T must be a whole number of milliseconds (got 1.5)'],
		[checkMilliseconds('T', -1), 'T must not be negative (got -1)'],
		[checkVolume('V', 0), undefined],
		[checkVolume('V', 2), undefined],
		[checkVolume('V', 2.01), 'V must be from 0 to 2 (got 2.01)'],
		[
			checkVolume('V', Number.POSITIVE_INFINITY),
			'V must be a number from 0 to 2: its expression gave Infinity',
		],
		[
			checkVolume('V', null),
			'V must be a number from 0 to 2: its expression gave null (NaN and Infinity arrive as null)',
		],
		[checkId('I', '0'), undefined],
		[checkId('I', '  '), 'I is required'],
		[checkId('I', null), 'I is required'],
		[checkHttpUrl('U', 'https://a.b/c'), undefined],
		[checkHttpUrl('U', 'javascript:alert(1)'), 'U must be an http(s) URL (got javascript:)'],
	])('%#: %s', (actual, expected) => {
		expect(actual).toBe(expected);
	});

	it('measures overlaps', () => {
		expect(overlapMs(0, 3000, 2000, 8000)).toBe(1000);
		expect(overlapMs(0, 1000, 2000, 8000)).toBe(0);
	});

	it('checks timing at the exact boundaries', () => {
		const scene = { faceStartMs: 1000, faceEndMs: 5000, videoDurationMs: 8000 };
		expect(checkTiming({ cropStartMs: 0, cropEndMs: 2000, insertMs: 6000 }, 2000, scene)).toMatch(
			/overlap 0 ms/,
		);
		expect(
			checkTiming({ cropStartMs: 0, cropEndMs: 2000, insertMs: 3000 }, 2000, scene),
		).toBeUndefined();
		expect(
			checkTiming({ cropStartMs: 0, cropEndMs: 2000, insertMs: 6000 }, 2000, {
				videoDurationMs: 8000,
			}),
		).toBeUndefined();
		expect(
			checkTiming({ cropStartMs: 0, cropEndMs: 2000, insertMs: 6001 }, 2000, {
				videoDurationMs: 8000,
			}),
		).toMatch(/past the end/);
		expect(checkTiming({ cropStartMs: 1, cropEndMs: 2000, insertMs: 0 }, 2000, {})).toMatch(
			/got 1999 ms/,
		);
		expect(checkTiming({ cropStartMs: 0, cropEndMs: 2001, insertMs: 0 }, 2000, {})).toMatch(
			/end of the audio/,
		);
		expect(
			checkTiming({ cropStartMs: 0, cropEndMs: 60000, insertMs: 0 }, undefined, {}),
		).toBeUndefined();
	});

	it('normalises base64 input', () => {
		expect(normaliseBase64('data:audio/wav;base64,QUJD\nREVG ')).toBe('QUJDREVG');
	});
});

describe('retry policy', () => {
	it.each([
		[{ method: 'POST', code: 1302 }, 0, true],
		[{ method: 'POST', code: 1303 }, 3, true],
		[{ method: 'POST', code: 1303 }, MAX_RETRIES, false],
		[{ method: 'POST', code: 5000 }, 0, true],
		[{ method: 'POST', code: 5002 }, 0, true],
		[{ method: 'POST', httpStatus: 502 }, 0, true],
		[{ method: 'POST', httpStatus: 500 }, 0, false],
		[{ method: 'GET', networkError: true }, 0, true],
		[{ method: 'POST', networkError: true }, 0, false],
		[{ method: 'POST', networkError: true, recoverable: true }, 0, true],
		[{ method: 'POST', networkError: true, recoverable: true }, MAX_RETRIES, false],
		[{ method: 'GET', code: 1004 }, 0, true],
		[{ method: 'GET', code: 1004 }, 1, false],
		...[1000, 1001, 1002, 1100, 1101, 1102, 1103, 1200, 1201, 1202, 1203, 1300, 1301, 1304].map(
			(code) => [{ method: 'GET', code }, 0, false] as const,
		),
	] as const)('%j at attempt %d -> %s', (outcome, attempt, expected) => {
		expect(shouldRetry(outcome, attempt)).toBe(expected);
	});

	it('backs off exponentially with jitter, at least 1 s after 1303', () => {
		expect(retryDelayMs(0, { method: 'GET' }, () => 0)).toBe(250);
		expect(retryDelayMs(0, { method: 'GET' }, () => 1)).toBe(500);
		expect(retryDelayMs(3, { method: 'GET' }, () => 1)).toBe(4000);
		expect(retryDelayMs(10, { method: 'GET' }, () => 1)).toBe(8000);
		expect(retryDelayMs(0, { method: 'POST', code: 1303 }, () => 0)).toBe(1000);
	});

	it.each([
		[{ method: 'POST', networkError: true }, true],
		[{ method: 'POST', code: 5000 }, true],
		[{ method: 'POST', code: 5002 }, true],
		[{ method: 'POST', code: 5001 }, false],
		[{ method: 'POST', code: 1303 }, false],
		[{ method: 'POST', httpStatus: 502 }, true],
		[{ method: 'POST', httpStatus: 504 }, true],
		[{ method: 'POST', httpStatus: 500 }, true],
		[{ method: 'POST', httpStatus: 503 }, false],
		[{ method: 'POST', httpStatus: 429 }, false],
		[{ method: 'GET', networkError: true }, false],
	] as const)('%j may have been carried out: %s', (outcome, expected) => {
		expect(mayHaveBeenCarriedOut(outcome)).toBe(expected);
	});

	it('derives the external_task_id from the work: every field counts, nothing else does', () => {
		const work = {
			subject: 'session:800000001000007932',
			faceId: '0',
			audio: audioFingerprint({ bytes: Buffer.from('audio') }),
			cropStartMs: 0,
			cropEndMs: 3000,
			insertMs: 0,
			soundVolume: 1,
			originalAudioVolume: 1,
			watermark: false,
		};
		const id = workTaskId(work);
		expect(id).toMatch(/^n8n-[0-9a-f]{32}$/);
		expect(workTaskId({ ...work })).toBe(id);
		const changes = [
			{ subject: 'session:800000001000007933' },
			{ faceId: '1' },
			{ audio: audioFingerprint({ bytes: Buffer.from('audio2') }) },
			{ audio: audioFingerprint({ audioId: 'a1' }) },
			{ cropStartMs: 1 },
			{ cropEndMs: 3001 },
			{ insertMs: 5 },
			{ soundVolume: 1.5 },
			{ originalAudioVolume: 0 },
			{ watermark: true },
		];
		const ids = changes.map((change) => workTaskId({ ...work, ...change }));
		expect(new Set([id, ...ids]).size).toBe(changes.length + 1);
		expect(workTaskId(work, 'nonce')).not.toBe(id);
	});

	it('adopts a found task only when what it shows agrees with the work', () => {
		const found = (over: Record<string, unknown> = {}) =>
			parseOfficialTask({
				task_id: '812345678901234567',
				task_status: 'succeed',
				task_info: {
					external_task_id: 'n8n-x',
					parent_video: { id: 'v9', url: 'https://cdn/a.mp4', duration: '8' },
				},
				watermark_info: { enabled: false },
				...over,
			});
		const expected = {
			externalTaskId: 'n8n-x',
			watermark: false,
			video: { url: 'https://cdn/a.mp4' },
		};
		expect(adoptionProblem(found(), expected)).toBeUndefined();
		expect(adoptionProblem(found(), { ...expected, video: undefined })).toBeUndefined();
		expect(adoptionProblem(found(), { ...expected, watermark: true })).toMatch(/Watermark off/);
		expect(adoptionProblem(found(), { ...expected, video: { url: 'https://cdn/b.mp4' } })).toMatch(
			/lip-syncs the video at https:\/\/cdn\/a.mp4/,
		);
		expect(adoptionProblem(found(), { ...expected, video: { id: 'v8' } })).toMatch(
			/lip-syncs video v9/,
		);
		expect(adoptionProblem(found({ task_info: { external_task_id: 'n8n-y' } }), expected)).toMatch(
			/external_task_id is "n8n-y"/,
		);
	});

	it('parses replies keeping 18-digit ids sent as bare numbers', () => {
		const text =
			'{"code":0,"data":{"session_id":800000001000007932,"face_data":[{"face_id":0,"start_time":0,"end_time":5200}],"msg":"a \\"800000001000007932\\" 1"}}';
		expect(parseJsonKeepingBigIntegers(text)).toEqual({
			code: 0,
			data: {
				session_id: '800000001000007932',
				face_data: [{ face_id: 0, start_time: 0, end_time: 5200 }],
				msg: 'a "800000001000007932" 1',
			},
		});
		// What JSON.parse alone makes of it: another session's id.
		expect(String((JSON.parse(text) as { data: { session_id: number } }).data.session_id)).toBe(
			'800000001000008000',
		);
	});

	it('explains unknown codes', () => {
		expect(describeKlingCode(9999)).toEqual(
			expect.objectContaining({ title: 'Kling error 9999', retriable: false }),
		);
		expect(describeKlingCode(5003).retriable).toBe(true);
	});
});

describe('official dialect parsing', () => {
	it('maps a succeeded task and keeps ids as strings', () => {
		expect(() => parseOfficialTask({ task_id: Number('812345678901234567') })).toThrow(
			'An id arrived as the bare JSON number 812345678901234600, which cannot be kept exactly',
		);
		const task = parseOfficialTask({
			task_id: '812345678901234567',
			task_status: 'succeed',
			task_info: { external_task_id: 'e1', parent_video: { id: 'p', url: 'u', duration: '8' } },
			task_result: {
				videos: [{ id: 'v1', url: 'https://r/v.mp4', watermark_url: '', duration: '5.5' }],
			},
			final_unit_deduction: 2,
			created_at: 1,
			updated_at: 2,
		});
		expect(task.taskId).toBe('812345678901234567');
		expect(taskToJson(task)).toEqual(
			expect.objectContaining({
				task_id: task.taskId,
				external_task_id: 'e1',
				video_url: 'https://r/v.mp4',
				watermark_url: null,
				video_duration: 5.5,
				final_unit_deduction: '2',
				parent_video: { id: 'p', url: 'u', duration: '8' },
			}),
		);
	});

	it.each([null, 'text', 42, [], { task_status: 'weird', task_result: { videos: 'no' } }])(
		'never throws on %j',
		(data) => {
			const task = parseOfficialTask(data);
			expect(task.videos).toEqual([]);
			expect(task.status).toBe('processing');
			expect(parseOfficialIdentify(data).faces).toEqual([]);
		},
	);

	it('maps faces and builds the create body with exactly one audio source', () => {
		const result = parseOfficialIdentify({
			session_id: 's',
			face_data: [{ face_id: 0, start_time: '100', end_time: 2500 }],
		});
		expect(faceToJson(result.faces[0])).toEqual({
			face_id: '0',
			face_image: null,
			start_time: 100,
			end_time: 2500,
			window_ms: 2400,
		});
		const input = {
			sessionId: 's',
			faceId: '0',
			cropStartMs: 0,
			cropEndMs: 3000,
			insertMs: 0,
			soundVolume: 1,
			originalAudioVolume: 0.5,
			watermark: false,
		};
		const byId = officialCreateBody({ ...input, audioId: 'a' }) as {
			face_choose: Array<Record<string, unknown>>;
		};
		expect(byId.face_choose[0]).toEqual(expect.objectContaining({ audio_id: 'a' }));
		expect(byId.face_choose[0]).not.toHaveProperty('sound_file');
		expect(byId).not.toHaveProperty('external_task_id');
		const byFile = officialCreateBody({
			...input,
			soundFile: 'QUJD',
			externalTaskId: 'x',
			callbackUrl: 'https://h',
		});
		expect(byFile).toEqual(
			expect.objectContaining({
				external_task_id: 'x',
				callback_url: 'https://h',
				watermark_info: { enabled: false },
			}),
		);
	});

	it('resolves the base URL of each region', () => {
		expect(resolveBaseUrl({ region: 'global' })).toBe('https://api-singapore.klingai.com');
		expect(resolveBaseUrl({ region: 'china' })).toBe('https://api-beijing.klingai.com');
		expect(resolveBaseUrl({ region: 'custom', baseUrl: ' http://127.0.0.1:9/kling// ' })).toBe(
			'http://127.0.0.1:9/kling',
		);
	});
});

describe('request pacer (1302)', () => {
	it('is unpaced until the first 1302, then spaces requests, and a burst counts once', () => {
		let now = 0;
		const pacer = new RequestPacer(() => now);
		expect([pacer.nextTurn(), pacer.nextTurn()]).toEqual([
			{ delayMs: 0, startMs: 0 },
			{ delayMs: 0, startMs: 0 },
		]);
		pacer.rateLimited(0);
		pacer.rateLimited(0);
		pacer.rateLimited(500);
		expect(pacer.currentSpacingMs).toBe(250);
		expect([0, 1, 2].map(() => pacer.nextTurn().delayMs)).toEqual([0, 250, 500]);
		now = 1200;
		pacer.rateLimited(1100);
		expect(pacer.currentSpacingMs).toBe(500);
	});

	it('recovers while answers come without 1302, to unpaced', () => {
		const pacer = new RequestPacer(() => 0);
		pacer.rateLimited(0);
		pacer.answered();
		expect(pacer.currentSpacingMs).toBe(225);
		for (let answer = 0; answer < 40; answer++) pacer.answered();
		expect(pacer.currentSpacingMs).toBe(0);
		expect(pacer.nextTurn().delayMs).toBe(0);
	});

	it('never spaces requests more than 10 s apart', () => {
		let now = 0;
		const pacer = new RequestPacer(() => now);
		for (let round = 0; round < 20; round++) {
			now += 2000;
			pacer.rateLimited(now);
		}
		expect(pacer.currentSpacingMs).toBe(RequestPacer.LONGEST_SPACING_MS);
	});
});

describe("reading a Callback run's tasks", () => {
	/** An account's task list, newest first, one task every `spacingS` seconds; only listing is served. */
	const account = (count: number, spacingS: number) => {
		const now = Date.UTC(2026, 11, 2);
		const tasks: LipSyncTask[] = Array.from({ length: count }, (_, index) => ({
			taskId: `t${index}`,
			externalTaskId: `n8n-${index}`,
			status: 'succeed',
			videos: [],
			createdAt: now - index * spacingS * 1000,
			raw: {},
		}));
		const pages: number[] = [];
		const api = {
			supports: { listTasks: true },
			async listTasks(pageNum: number, pageSize: number) {
				pages.push(pageNum);
				return tasks.slice((pageNum - 1) * pageSize, pageNum * pageSize);
			},
		} as unknown as LipSyncApi;
		return { api, pages };
	};

	it('reads one list page when the run is among the newest 500 tasks', async () => {
		const { api, pages } = account(3000, 1);
		const found = await readRunTasks(api, new Set(['t0', 't7', 't499']), (task) => task.taskId);
		expect([...found.keys()].sort()).toEqual(['t0', 't499', 't7']);
		expect(pages).toEqual([1]);
	});

	it('stops paging once the list is older than the run by far: a task whose create failed costs no more pages', async () => {
		const { api, pages } = account(5000, 10);
		const found = await readRunTasks(
			api,
			new Set(['t1', 't2', 'never-created']),
			(task) => task.taskId,
		);
		expect(found.size).toBe(2);
		expect(pages).toEqual([1]);
	});

	it('pages on (at most 10) for a run older than the newest page', async () => {
		const { api, pages } = account(6000, 1);
		const found = await readRunTasks(api, new Set(['t1200']), (task) => task.taskId);
		expect(found.has('t1200')).toBe(true);
		expect(pages).toEqual([1, 2, 3]);
		const missing = account(6000, 1);
		await readRunTasks(missing.api, new Set(['gone']), (task) => task.taskId);
		expect(missing.pages).toHaveLength(10);
	});
});

describe('runPool', () => {
	it('keeps order and never exceeds the limit', async () => {
		let running = 0;
		let highest = 0;
		const results = await runPool(10, 3, async (i) => {
			running++;
			highest = Math.max(highest, running);
			await new Promise((resolve) => setTimeout(resolve, (10 - i) * 3));
			running--;
			return i * 2;
		});
		expect(results).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
		expect(highest).toBe(3);
		expect(await runPool(0, 3, async () => 1)).toEqual([]);
	});
});

describe('apimodels.app dialect parsing', () => {
	it('maps states, result URLs (array or JSON string) and failures', () => {
		expect(parseApimodelsTask({ taskId: 'cl1', state: 'pending' })).toEqual(
			expect.objectContaining({ taskId: 'cl1', status: 'submitted', videos: [] }),
		);
		expect(
			parseApimodelsTask({ taskId: 'cl1', state: 'completed', resultUrls: ['https://r/v.mp4'] })
				.videos,
		).toEqual([{ id: 'cl1-0', url: 'https://r/v.mp4', durationSeconds: undefined }]);
		const fromCallback = parseApimodelsTask({
			taskId: 'cl2',
			state: 'completed',
			resultJson: '{"resultUrls":["https://r/w.mp4"],"videoDuration":8}',
			createTime: 1,
			completeTime: 2,
		});
		expect(fromCallback).toEqual(
			expect.objectContaining({
				status: 'succeed',
				createdAt: 1,
				updatedAt: 2,
				videos: [{ id: 'cl2-0', url: 'https://r/w.mp4', durationSeconds: 8 }],
			}),
		);
		expect(
			parseApimodelsTask({
				taskId: 'cl3',
				state: 'failed',
				failMsg: 'no face',
				resultJson: 'not json',
			}),
		).toEqual(expect.objectContaining({ status: 'failed', statusMessage: 'no face', videos: [] }));
	});

	it.each([null, 'text', [], { faceData: { face_list: 'x' } }])('never throws on %j', (data) => {
		expect(parseApimodelsTask(data).status).toBe('processing');
		expect(parseApimodelsFaces(data).faces).toEqual([]);
	});

	it('unwraps its envelope and explains its HTTP errors', () => {
		expect(apimodelsDialect.unwrap(200, { code: 200, msg: 'success', data: { a: 1 } })).toEqual({
			data: { a: 1 },
		});
		expect(apimodelsDialect.unwrap(402, { code: 402, msg: 'Insufficient credits' })).toEqual({
			failure: { httpStatus: 402, message: 'Insufficient credits' },
		});
		expect(apimodelsDialect.explain({ httpStatus: 401 }).title).toBe(
			'apimodels.app error 401: Invalid API key',
		);
		expect(apimodelsDialect.explain({ httpStatus: 418 }).title).toBe(
			'apimodels.app error 418: HTTP 418',
		);
		expect(resolveBaseUrl({ provider: 'apimodels' })).toBe('https://apimodels.app');
	});
});

describe('vtrix dialect parsing', () => {
	it('maps statuses, videos, usage and documented error codes', () => {
		const done = parseVtrixTask({
			id: 'j1',
			status: 'completed',
			output: [{ content: [{ type: 'video', url: 'https://r/v.mp4', duration: 8, jobId: 'k1' }] }],
			usage: { cost: '0.05' },
		});
		expect(done).toEqual(
			expect.objectContaining({
				taskId: 'j1',
				status: 'succeed',
				units: '0.05',
				videos: [{ id: 'k1', url: 'https://r/v.mp4', durationSeconds: 8 }],
			}),
		);
		expect(
			parseVtrixTask({
				task_id: 'j2',
				status: 'failed',
				error: { code: '014002096', error_message: 'bad result' },
			}),
		).toEqual(
			expect.objectContaining({
				taskId: 'j2',
				status: 'failed',
				statusMessage: '014002096 (Result parsing exception): bad result',
			}),
		);
		expect(parseVtrixTask({ id: 'j3', status: 'queued' }).status).toBe('submitted');
		expect(parseVtrixTask({ id: 'j3', status: 'running' }).status).toBe('processing');
	});

	it("reads Kling's identify JSON from a text content, bare or enveloped, and never throws", () => {
		const data = { session_id: 's1', face_data: [{ face_id: '0', start_time: 0, end_time: 4000 }] };
		for (const text of [JSON.stringify(data), JSON.stringify({ code: 0, data })]) {
			expect(parseVtrixIdentify({ output: [{ content: [{ type: 'text', text }] }] })).toEqual(
				expect.objectContaining({
					sessionId: 's1',
					faces: [expect.objectContaining({ faceId: '0', startMs: 0, endMs: 4000 })],
				}),
			);
		}
		for (const bad of [null, 'x', { output: [{ content: [{ type: 'text', text: '{broken' }] }] }]) {
			expect(parseVtrixIdentify(bad).faces).toEqual([]);
			expect(parseVtrixTask(bad).videos).toEqual([]);
		}
	});

	it('explains its HTTP errors', () => {
		const dialect = vtrixDialect('/c', '/s/{id}');
		expect(
			dialect.unwrap(401, { error: { code: '401', error_message: 'Invalid API key' } }),
		).toEqual({ failure: { httpStatus: 401, message: '401: Invalid API key' } });
		expect(dialect.explain({ httpStatus: 402 }).title).toBe(
			'vtrix error 402: Insufficient balance',
		);
		expect(dialect.explain({ httpStatus: 503 }).title).toBe('vtrix error 503: HTTP 503');
	});
});

describe('webhook signatures', () => {
	// The test vector in kling-api.md (Standard Webhooks).
	const vector = {
		secret: 'whsec_dGVzdHNlY3JldHRlc3RzZWNyZXR0ZXN0c2VjcmV0MTI=',
		id: '9876543210',
		timestamp: '1781080794',
		body: '{"id":"1234567890","status":"succeeded","message":"","create_time":1781080778802,"update_time":1781080794151}',
		signature: 'v1,UsKlJP00XoQyOn410NM9xv34sP+Gl0jnOO9Lcpr7NJ4=',
	};
	const delivery = (over = {}) => ({
		id: vector.id,
		timestamp: vector.timestamp,
		signature: vector.signature,
		rawBody: vector.body,
		...over,
	});

	it('accepts the documented test vector, also among rotated signatures', () => {
		expect(checkWebhookSignature(vector.secret, delivery(), 1781080794)).toBeUndefined();
		expect(
			checkWebhookSignature(
				vector.secret,
				delivery({ signature: `v1,AAAA ${vector.signature}` }),
				1781080794 + 299,
			),
		).toBeUndefined();
	});

	it.each([
		[
			'a changed body',
			{ rawBody: vector.body.replace('succeeded', 'failed') },
			1781080794,
			/does not match/,
		],
		['a changed id', { id: '9876543211' }, 1781080794, /does not match/],
		[
			'a v2 signature',
			{ signature: vector.signature.replace('v1', 'v2') },
			1781080794,
			/does not match/,
		],
		['a missing header', { id: undefined }, 1781080794, /missing/],
		['a stale timestamp', {}, 1781080794 + 301, /more than 5 minutes off/],
		[
			'a timestamp that is not a number',
			{ timestamp: '17810807x4' },
			1781080794,
			/more than 5 minutes off/,
		],
	])('refuses %s', (_name, over, now, reason) => {
		expect(checkWebhookSignature(vector.secret, delivery(over), now)).toMatch(reason);
	});

	it('encodes a run of tasks into a callback URL and reads it back, never throwing on junk', () => {
		const tasks = [0, 1, 7].map((itemIndex) => ({ itemIndex, key: taskKey(`n8n-${itemIndex}`) }));
		const url = withQueryParam(
			'https://n8n.example.com/webhook-waiting/1234?signature=tok',
			BATCH_QUERY_PARAM,
			encodeBatch(tasks),
		);
		const parsed = new URL(url);
		expect(parsed.searchParams.get('signature')).toBe('tok');
		expect(decodeBatch(parsed.searchParams.get(BATCH_QUERY_PARAM))).toEqual(tasks);
		// Items 0..N-1 in order: 8 characters a task, no indexes.
		const hundred = Array.from({ length: 100 }, (_, itemIndex) => ({
			itemIndex,
			key: taskKey(`n8n-${'a'.repeat(28)}${itemIndex}`),
		}));
		expect(encodeBatch(hundred)).toHaveLength(800);
		expect(decodeBatch(encodeBatch(hundred))).toEqual(hundred);
		expect(taskKey('n8n-x')).toMatch(/^[A-Za-z0-9_-]{8}$/);
		for (const junk of [
			undefined,
			'',
			'x',
			'%%%',
			'abcdefg',
			'abcdefgh.1,2',
			'abcdefgh.zz!',
			'abcdefgh.1.2',
		]) {
			expect(decodeBatch(junk)).toBeUndefined();
		}
	});
});

describe('Lip Sync Video: face choice and fitting', () => {
	const faces = [
		{ faceId: '0', startMs: 0, endMs: 3000 },
		{ faceId: '1', startMs: 2000, endMs: 8000 },
	];

	it.each([
		['the most overlap at each face start', { by: 'mostOverlap' as const }, 4000, undefined, 1],
		['the first on a tie', { by: 'mostOverlap' as const }, 2500, undefined, 0],
		['the most overlap at a fixed insert', { by: 'mostOverlap' as const }, 2500, 0, 0],
		['by index', { by: 'index' as const, index: 1 }, 2500, undefined, 1],
		['by face id (trimmed)', { by: 'faceId' as const, faceId: ' 1 ' }, 2500, undefined, 1],
	])('chooses %s', (_name, choice, audioMs, insertMs, expected) => {
		expect(chooseFace(faces, audioMs, choice, insertMs)).toBe(expected);
	});

	it('explains why no face can be chosen', () => {
		expect(chooseFace([], 3000, { by: 'mostOverlap' })).toMatch(/no face/);
		expect(chooseFace(faces, 3000, { by: 'index', index: 2 })).toMatch(
			/^Face Index must be from 0 to 1/,
		);
		expect(chooseFace(faces, 3000, { by: 'index', index: 0.5 })).toMatch(/^Face Index/);
		expect(chooseFace(faces, 3000, { by: 'faceId', faceId: '9' })).toMatch(
			/not among the faces Kling found \(0, 1\)/,
		);
	});

	it.each([
		[
			'audio inside the window',
			faces[1],
			4000,
			0,
			undefined,
			{ cropStartMs: 0, cropEndMs: 4000, insertMs: 2000, trimmedMs: 0 },
		],
		[
			'audio longer than the window',
			faces[0],
			5000,
			0,
			undefined,
			{ cropStartMs: 0, cropEndMs: 3000, insertMs: 0, trimmedMs: 2000 },
		],
		[
			'a crop start',
			faces[1],
			9000,
			1000,
			3000,
			{ cropStartMs: 1000, cropEndMs: 6000, insertMs: 3000, trimmedMs: 3000 },
		],
		[
			'no window known',
			{ faceId: '0' },
			5000,
			0,
			undefined,
			{ cropStartMs: 0, cropEndMs: 5000, insertMs: 0, trimmedMs: 0 },
		],
	])('fits %s', (_name, face, audioMs, cropStartMs, insertMs, expected) => {
		expect(fitAudio(face, audioMs, cropStartMs, insertMs)).toEqual(expected);
	});

	it.each([
		[
			'too little audio after the crop start',
			faces[1],
			3000,
			1500,
			undefined,
			/leaves 1500 ms of audio/,
		],
		['an insert before the window', faces[1], 3000, 0, 1000, /outside face 1's window/],
		[
			'an insert leaving under 2 s',
			faces[1],
			3000,
			0,
			6500,
			/^Insert At \(ms\) 6500 leaves 1500 ms of audio inside face 1's window/,
		],
	])('refuses %s', (_name, face, audioMs, cropStartMs, insertMs, message) => {
		expect(fitAudio(face, audioMs, cropStartMs, insertMs)).toMatch(message);
	});

	it('searches voices by name, id or language', () => {
		expect(searchVoices(undefined).length).toBeGreaterThan(10);
		expect(searchVoices('british').map((voice) => voice.id)).toEqual([
			'uk_boy1',
			'uk_man2',
			'uk_oldman3',
		]);
		expect(searchVoices('ZH').every((voice) => voice.language === 'zh')).toBe(true);
		expect(searchVoices('no such voice')).toEqual([]);
	});
});

describe('request bodies as JSON bytes (inline audio)', () => {
	it('writes inline bytes as the same base64 JSON.stringify would, at every slice boundary', () => {
		for (const size of [0, 1, 2, 3, 49_151, 49_152, 49_153, 200_000]) {
			const bytes = Buffer.from(
				Array.from({ length: size }, (_, index) => (index * 7 + size) % 256),
			);
			const body = {
				session_id: '800000001000007932',
				face_choose: [{ face_id: '0', sound_file: new InlineBytes(bytes) }],
				note: 'é "q"',
			};
			const written = jsonBytes(body);
			expect(written.toString('utf8')).toBe(
				JSON.stringify({
					...body,
					face_choose: [{ face_id: '0', sound_file: bytes.toString('base64') }],
				}),
			);
		}
	});

	it('leaves a body without inline bytes as plain JSON, and a look-alike text as text', () => {
		const body = { text: '\u0001inline:0', list: [1, 2], nested: { a: null } };
		expect(JSON.parse(jsonBytes(body).toString('utf8'))).toEqual(body);
	});
});
