import { faceToJson, taskToJson } from '../../nodes/KlingLipSync/actions/pipeline/output';
import {
	officialCreateBody,
	parseOfficialIdentify,
	parseOfficialTask,
} from '../../nodes/KlingLipSync/transport/officialParts';
import { resolveBaseUrl } from '../../nodes/KlingLipSync/transport';

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
				video_duration_ms: 5500,
				final_unit_deduction: 2,
				created_at: '1970-01-01T00:00:00.001Z',
				updated_at: '1970-01-01T00:00:00.002Z',
				videos: [{ id: 'v1', url: 'https://r/v.mp4', watermark_url: null, duration_ms: 5500 }],
				parent_video: { id: 'p', url: 'u', duration_ms: 8000 },
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

	it('outputs a time no date can hold as null instead of failing the item', () => {
		const json = taskToJson(
			parseOfficialTask({ task_id: '1', created_at: 1e20, updated_at: '8640000000000000' }),
		);
		expect(json.created_at).toBeNull();
		expect(json.updated_at).toBe('+275760-09-13T00:00:00.000Z');
	});

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
