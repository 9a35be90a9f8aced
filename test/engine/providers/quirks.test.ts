import { startEmulator, type Emulator, type Fault } from '../../emulator/server';
import { emulatorCredentials, runKlingNode, type RunOptions } from '../harness';
import { FAST_WAIT, VIDEO } from '../helpers';
import { logMark, logSince } from '../secrets';

/**
 * What real APIs do that a happy path never shows: faults on Identify Face, ids sent as bare
 * 18-digit JSON numbers, and a host clock that is minutes off the API's.
 */
describe("Kling's quirks in n8n's engine", () => {
	const identifyParameters = { operation: 'identifyFace', videoUrl: '={{ $json.video }}' };
	const syncParameters = (over = {}) => ({
		operation: 'lipSync',
		audioSource: 'url',
		downloadVideo: false,
		waitOptions: FAST_WAIT,
		...over,
	});
	const videos = (count: number) =>
		Array.from({ length: count }, (_, index) => ({ video: `${VIDEO}&take=${index}` }));

	describe('Identify Face under faults', () => {
		let emu: Emulator;
		const run = async (options: Omit<RunOptions, 'credentials'>) =>
			runKlingNode({ credentials: emulatorCredentials(emu.baseUrl), ...options });

		beforeAll(async () => {
			emu = await startEmulator({ taskTimeMs: 400, submittedMs: 100 });
		});
		afterAll(async () => emu.stop());
		beforeEach(() => {
			emu.clearFaults();
			emu.configure({ randomFaults: undefined });
			emu.resetStats();
		});

		it.each([
			['Kling error 5000', { kind: 'error', code: 5000 }],
			['Kling error 5002', { kind: 'error', code: 5002 }],
			['a bare HTTP 502', { kind: 'http', status: 502 }],
			['a connection reset', { kind: 'reset' }],
		] as const)(
			'sends it again after %s, and says it may have cost one more identify',
			async (_name, fault) => {
				emu.injectFault({ route: 'identify', ...fault } as Fault);
				const mark = logMark();
				const { output, error } = await run({ items: videos(1), parameters: identifyParameters });
				expect(error).toBeUndefined();
				expect(output[0].json).toEqual(
					expect.objectContaining({
						session_id: expect.stringMatching(/^\d{18}$/),
						identify_resends: 1,
					}),
				);
				expect(emu.stats.requests.identify).toBe(2);
				const warning = logSince(mark).find((line) => /may cost one more unit/.test(line.message));
				expect(warning?.level).toBe('warn');
			},
		);

		it.each([
			['1302 (rate limit)', { kind: 'error', code: 1302 }],
			['5001 (maintenance)', { kind: 'error', code: 5001 }],
			['a bare HTTP 503', { kind: 'http', status: 503 }],
			['a bare HTTP 429', { kind: 'http', status: 429 }],
		] as const)(
			'retries %s, which was turned away: no extra identify counted',
			async (_name, fault) => {
				emu.injectFault({ route: 'identify', ...fault } as Fault);
				const { output, error } = await run({ items: videos(1), parameters: identifyParameters });
				expect(error).toBeUndefined();
				expect(output[0].json.identify_resends).toBe(0);
				expect(emu.stats.requests.identify).toBe(2);
			},
		);

		it('stops resending after two uncertain failures: a long outage never bills more', async () => {
			emu.injectFault({ route: 'identify', kind: 'error', code: 5000, times: 10 });
			const { error } = await run({ items: videos(1), parameters: identifyParameters });
			expect(error?.message).toMatch(/5000/);
			expect(emu.stats.requests.identify).toBe(3);
		});

		it('30% faults on every route: 10 videos are identified and lip-synced, each task paid once', async () => {
			let seed = 7;
			const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
			const kinds: Fault[] = [
				{ route: '*', kind: 'error', code: 5000 },
				{ route: '*', kind: 'error', code: 5001 },
				{ route: '*', kind: 'error', code: 1302 },
				{ route: '*', kind: 'http', status: 502 },
				{ route: '*', kind: 'http', status: 503 },
				{ route: '*', kind: 'reset' },
			];
			emu.configure({ randomFaults: { rate: 0.3, kinds, random } });
			const identified = await run({ items: videos(10), parameters: identifyParameters });
			expect(identified.error).toBeUndefined();
			expect(identified.output).toHaveLength(20);
			const firstFaces = identified.output
				.filter((item) => item.json.face_id === '0')
				.map((item) => item.json);
			const synced = await run({
				items: firstFaces,
				parameters: syncParameters({ audioUrl: `${emu.baseUrl}/media/fixtures/tone-3s.wav` }),
			});
			emu.configure({ randomFaults: undefined });
			expect(synced.error).toBeUndefined();
			expect(synced.output.map((item) => item.json.task_status)).toEqual(Array(10).fill('succeed'));
			expect(emu.stats.billed.create).toBe(10);
			expect(
				Object.values(emu.stats.faults).reduce((sum, count) => sum + count, 0),
			).toBeGreaterThan(5);
		});
	});

	describe('ids sent as bare JSON numbers', () => {
		let emu: Emulator;
		const run = async (options: Omit<RunOptions, 'credentials'>) =>
			runKlingNode({ credentials: emulatorCredentials(emu.baseUrl), ...options });

		beforeAll(async () => {
			emu = await startEmulator({ taskTimeMs: 300, submittedMs: 100, bareNumericIds: true });
		});
		afterAll(async () => emu.stop());
		beforeEach(() => emu.clearFaults());

		it('keeps every digit of 18-digit session, task and video ids through Identify Face, Lip Sync and Get Task', async () => {
			const identified = await run({ items: videos(1), parameters: identifyParameters });
			expect(identified.error).toBeUndefined();
			const session = identified.output[0].json;
			expect(session.session_id).toMatch(/^\d{18}$/);
			const synced = await run({
				items: [session],
				parameters: syncParameters({ audioUrl: `${emu.baseUrl}/media/fixtures/tone-3s.wav` }),
			});
			expect(synced.error).toBeUndefined();
			const task = synced.output[0].json;
			expect(task.task_status).toBe('succeed');
			expect(emu.task(String(task.task_id))).toBeDefined();
			expect(task.video_id).toBe(`${String(task.task_id)}1`);
			const got = await run({ items: [task], parameters: { operation: 'getTask' } });
			expect(got.output[0].json.task_id).toBe(task.task_id);
		});

		it('fails at once, saying so, on an id that cannot be kept exactly', async () => {
			emu.injectFault({
				route: 'identify',
				kind: 'http',
				status: 200,
				text: '{"code":0,"message":"SUCCEED","request_id":"r","data":{"session_id":8.00000001000007932e17,"final_unit_deduction":"1","face_data":[]}}',
			});
			const { error } = await run({ items: videos(1), parameters: identifyParameters });
			expect(error?.message).toMatch(/800000001000008000, which cannot be kept exactly/);
			expect(emu.stats.requests.identify).toBeGreaterThanOrEqual(1);
		});
	});

	describe('a host clock off the API', () => {
		const MINUTE = 60_000;
		it.each([
			['2 min ahead', -2 * MINUTE, true],
			['2 min behind', 2 * MINUTE, false],
			['30 min ahead', -30 * MINUTE, true],
			['30 min behind', 30 * MINUTE, true],
		])(
			'signs on the API time when this host is %s (key pair JWT)',
			async (_name, apiMinusHostMs, refusedFirst) => {
				const emu = await startEmulator({
					taskTimeMs: 300,
					submittedMs: 100,
					clock: { now: () => Date.now() + apiMinusHostMs },
				});
				try {
					const credentials = emulatorCredentials(emu.baseUrl);
					const identified = await runKlingNode({
						credentials,
						items: videos(2),
						parameters: identifyParameters,
					});
					expect(identified.error).toBeUndefined();
					expect(identified.output).toHaveLength(4);
					const refused = (emu.stats.rejected[1003] ?? 0) + (emu.stats.rejected[1004] ?? 0);
					// A token is valid from 5 s before signing to 30 min after: only the first request
					// of each item in flight is refused before the run's measured offset is used.
					if (refusedFirst) expect(refused).toBeGreaterThanOrEqual(1);
					else expect(refused).toBe(0);
					expect(refused).toBeLessThanOrEqual(2);
				} finally {
					await emu.stop();
				}
			},
		);

		it('says how far off the clock is when the API still refuses the corrected token', async () => {
			const emu = await startEmulator({ clock: { now: () => Date.now() - 10 * MINUTE } });
			try {
				emu.injectFault({ route: 'identify', kind: 'error', code: 1004, times: 2 });
				const { error } = await runKlingNode({
					credentials: emulatorCredentials(emu.baseUrl),
					items: videos(1),
					parameters: identifyParameters,
				});
				expect(error?.message).toMatch(/1004/);
				expect(error?.description).toMatch(/clock is off by (59\d|60\d) s \(ahead of the API's/);
			} finally {
				await emu.stop();
			}
		});
	});
});
