import { emulatorCredentials } from './harness';
import { VIDEO, emulatorSuite } from './helpers';

describe('Identify Face', () => {
	const suite = emulatorSuite({ taskTimeMs: 600, submittedMs: 100 });
	const { run } = suite;

	describe('Identify Face', () => {
		it('outputs one item per face, ready for Lip Sync', async () => {
			const { output, error } = await run({
				parameters: { operation: 'identifyFace', videoUrl: VIDEO },
			});
			expect(error).toBeUndefined();
			expect(output.map((item) => item.json)).toEqual([
				expect.objectContaining({
					face_id: '0',
					start_time: 0,
					end_time: 5200,
					face_count: 2,
					face_index: 0,
				}),
				expect.objectContaining({ face_id: '1', start_time: 3000, end_time: 8000, face_index: 1 }),
			]);
			expect(output[0].json.session_id).toMatch(/^\d{18}$/);
			expect(output.map((item) => item.pairedItem)).toEqual([{ item: 0 }, { item: 0 }]);
			expect(suite.emu.stats.billed.identify).toBe(1);
		});

		it('outputs one item per video with a Kling video id, using API key auth', async () => {
			const { output } = await run({
				parameters: {
					operation: 'identifyFace',
					videoSource: 'videoId',
					videoId: 'kling-video-8s',
					output: 'perVideo',
				},
				credentials: emulatorCredentials(suite.emu.baseUrl, 'apiKey'),
			});
			expect(output).toHaveLength(1);
			expect(output[0].json.faces).toEqual([
				expect.objectContaining({ face_id: '0', start_time: 0, end_time: 8000 }),
			]);
		});

		it('fails clearly when no face is found, or outputs an empty list when told to', async () => {
			const failed = await run({
				parameters: { operation: 'identifyFace', videoUrl: 'https://x/a.mp4?faces=' },
			});
			expect(failed.error?.message).toBe('Kling found no face to lip-sync in the video');
			const kept = await run({
				parameters: {
					operation: 'identifyFace',
					videoUrl: 'https://x/a.mp4?faces=',
					failWhenNoFace: false,
				},
			});
			expect(kept.output[0].json).toEqual(expect.objectContaining({ face_count: 0, faces: [] }));
		});

		it("passes Kling's own rejection through with the remedy and request_id", async () => {
			const { error } = await run({
				parameters: { operation: 'identifyFace', videoUrl: 'https://x/a.mp4?durationMs=90000' },
			});
			expect(error?.message).toBe('Kling error 1201: Invalid parameter');
			expect(error?.description).toMatch(
				/Kling says: video_url: video duration must be 2-60 s.*request_id: [0-9a-f-]{36}/,
			);
		});
	});
});
