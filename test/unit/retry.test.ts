import { describeKlingCode } from '../../nodes/KlingLipSync/helpers/errorCodes';
import {
	MAX_RETRIES,
	mayHaveBeenCarriedOut,
	retryDelayMs,
	shouldRetry,
} from '../../nodes/KlingLipSync/helpers/retry';
import { audioFingerprint, workTaskId } from '../../nodes/KlingLipSync/helpers/externalId';
import { adoptionProblem } from '../../nodes/KlingLipSync/helpers/adoption';
import { parseJsonKeepingBigIntegers } from '../../nodes/KlingLipSync/helpers/json';
import { parseOfficialTask } from '../../nodes/KlingLipSync/transport/officialParts';

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
