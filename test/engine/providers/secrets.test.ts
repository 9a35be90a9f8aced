/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
import { NodeApiError } from 'n8n-workflow';

import { startEmulator, type Emulator } from '../../emulator/server';
import {
	emulatorCredentials,
	runKlingNode,
	type CredentialMode,
	type RunOptions,
} from '../harness';
import { identify, lipSyncParameters, VIDEO } from '../helpers';
import { assertNoSecrets, findSecrets, scanStats, serialize } from '../secrets';

/**
 * Secrets (secret key, API key, every signed token) never reach outputs, errors, descriptions or
 * n8n's log. The harness scans every engine run of the suite; this file runs the paths where a
 * leak would be likeliest (every provider, failures and cancellation) and checks the scanner.
 */
describe('secret hygiene', () => {
	let emu: Emulator;
	beforeAll(async () => {
		emu = await startEmulator({ taskTimeMs: 400, submittedMs: 100 });
	});
	afterAll(async () => emu.stop());
	beforeEach(() => {
		emu.clearFaults();
		emu.configure({ taskTimeMs: 400 });
	});

	describe('the scanner', () => {
		const token = 'eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJhayJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';

		it('finds a secret in an error description, its context and its cause, also base64- or URL-encoded', () => {
			const error = new NodeApiError(
				{ name: 'Kling', type: 'x', typeVersion: 1, position: [0, 0], parameters: {}, id: 'k' },
				{ message: 'no' },
				{
					message: 'Request failed',
					description: `sent Authorization: Bearer ${token}`,
				},
			);
			expect(findSecrets(serialize({ error }), [token])).toEqual([token]);
			const nested = new Error('outer', { cause: { headers: { authorization: token } } });
			expect(findSecrets(serialize(nested), [token])).toEqual([token]);
			expect(
				findSecrets(Buffer.from(`k=${token}`).toString('base64'), ['k=' + token]),
			).toHaveLength(1);
			expect(
				findSecrets(`?key=${encodeURIComponent('s3cret/key+1')}`, ['s3cret/key+1']),
			).toHaveLength(1);
			expect(() => assertNoSecrets('a test', `x ${token} y`, [token])).toThrow(
				/A secret leaked into a test: eyJh… \(\d+ chars\)/,
			);
			expect(() => assertNoSecrets('a test', 'clean', [token])).not.toThrow();
		});

		it('serializes cycles, and buffers as their text, so a secret inside bytes is found too', () => {
			const cyclic: Record<string, unknown> = { buffer: Buffer.from(`key ${token}`) };
			cyclic.self = cyclic;
			expect(serialize(cyclic)).toBe(`{"buffer":"key ${token}","self":"[seen]"}`);
			expect(findSecrets(serialize(cyclic), [token])).toEqual([token]);
		});
	});

	describe('every provider and failure path', () => {
		const modes: CredentialMode[] = ['accessKey', 'apiKey', 'klingProxy', 'apimodels', 'vtrix'];
		const run = async (
			mode: CredentialMode,
			options: Omit<RunOptions, 'credentials'>,
			over = {},
		) => {
			const before = scanStats.runs;
			const result = await runKlingNode({
				credentials: { ...emulatorCredentials(emu.baseUrl, mode), ...over },
				...options,
			});
			expect(scanStats.runs).toBe(before + 1);
			return result;
		};

		it.each(modes)('%s: identify, lip sync with download, get task', async (mode) => {
			const faces = await run(mode, { parameters: { operation: 'identifyFace', videoUrl: VIDEO } });
			expect(faces.error).toBeUndefined();
			const synced = await run(mode, {
				items: [faces.output[0].json],
				parameters: lipSyncParameters(emu),
			});
			expect(synced.output[0].binary?.data).toBeDefined();
			const got = await run(mode, {
				items: [synced.output[0].json],
				parameters: { operation: 'getTask' },
			});
			expect(got.output[0].json.task_status).toBe('succeed');
		});

		it.each(modes)(
			'%s: wrong key, provider errors, network failure, failed task, continue on fail',
			async (mode) => {
				const wrong =
					mode === 'accessKey'
						? { secretKey: 'wrong-secret-key-1' }
						: { apiKey: 'wrong-api-key-12' };
				const denied = await run(
					mode,
					{ parameters: { operation: 'identifyFace', videoUrl: VIDEO } },
					wrong,
				);
				expect(denied.error).toBeDefined();
				const down = await run(
					mode,
					{ parameters: { operation: 'identifyFace', videoUrl: VIDEO } },
					{
						baseUrl: 'http://127.0.0.1:1',
						apimodelsBaseUrl: 'http://127.0.0.1:1',
						vtrixBaseUrl: 'http://127.0.0.1:1',
						region: 'custom',
					},
				);
				expect(down.error?.message).toMatch(/Could not reach/);
				const session = await identify(emu);
				emu.injectFault({
					route: 'create',
					kind: 'http',
					status: 400,
					text: '<html>Bad request</html>',
				});
				const refused = await run(mode, {
					items: [{ ...session, face_id: '0' }],
					parameters: lipSyncParameters(emu),
					continueOnFail: true,
				});
				expect(refused.output[0].json.error).toBeDefined();
				if (mode === 'accessKey' || mode === 'apiKey' || mode === 'klingProxy') {
					emu.injectFault({ route: 'create', kind: 'error', code: 1102 });
					const exhausted = await run(mode, {
						items: [{ ...session, face_id: '0' }],
						parameters: lipSyncParameters(emu),
					});
					expect(exhausted.error?.message).toBe(
						'Kling error 1102: Resource pack exhausted or expired',
					);
				}
				const failing = `${VIDEO}&fail=no+mouth+visible`;
				const failed = await run(mode, {
					items: [{ ...(await identify(emu, failing)), face_id: '0' }],
					parameters: lipSyncParameters(emu),
				});
				expect(failed.error?.message).toMatch(/failed|Could not/);
			},
		);

		it('a cancelled wait and a timed-out wait (Kling, key pair)', async () => {
			emu.configure({ taskTimeMs: 60_000 });
			const session = await identify(emu);
			const item = [{ ...session, face_id: '0' }];
			const cancelled = await run('accessKey', {
				items: item,
				parameters: lipSyncParameters(emu, {
					waitOptions: { pollIntervalSeconds: 1, maxWaitMinutes: 5 },
				}),
				cancelAfterMs: 500,
			});
			expect(cancelled.status).toBe('canceled');
			const timedOut = await run('accessKey', {
				items: item,
				parameters: lipSyncParameters(emu, {
					waitOptions: { pollIntervalSeconds: 0.2, maxWaitMinutes: 0.01 },
				}),
			});
			expect(timedOut.error?.message).toMatch(/still (submitted|processing)/);
		});
	});
});
