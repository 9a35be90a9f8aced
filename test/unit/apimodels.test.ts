import { resolveBaseUrl } from '../../nodes/KlingLipSync/transport';
import {
	apimodelsDialect,
	parseApimodelsFaces,
	parseApimodelsTask,
} from '../../nodes/KlingLipSync/transport/apimodels';

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
