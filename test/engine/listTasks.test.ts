import { callApi } from '../emulator/client';
import { fixture, identify, emulatorSuite } from './helpers';

describe('List Tasks', () => {
	const suite = emulatorSuite({ taskTimeMs: 600, submittedMs: 100 });
	const { run } = suite;

	describe('List Tasks', () => {
		it('lists tasks with a limit, and all of them', async () => {
			const session = await identify(suite.emu);
			for (let i = 0; i < 3; i++) {
				await callApi(suite.emu.baseUrl, 'POST', '/v1/videos/advanced-lip-sync', {
					body: {
						session_id: session.session_id,
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
			}
			const limited = await run({ parameters: { operation: 'listTasks', limit: 2 } });
			expect(limited.output).toHaveLength(2);
			const all = await run({ parameters: { operation: 'listTasks', returnAll: true } });
			expect(all.output.length).toBeGreaterThanOrEqual(3);
			expect(all.output.every((item) => typeof item.json.task_id === 'string')).toBe(true);
		});
	});
});
