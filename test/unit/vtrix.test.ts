import {
	parseVtrixIdentify,
	parseVtrixTask,
	vtrixDialect,
} from '../../nodes/KlingLipSync/transport/vtrix';

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
				units: 0.05,
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
