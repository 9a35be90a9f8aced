import { startEmulator, type Emulator } from '../../emulator/server';
import { emulatorCredentials, runKlingNode, type CredentialMode } from '../harness';
import { VIDEO, lipSyncParameters } from '../helpers';

/**
 * The same action suite against every provider the credential offers: switching provider is
 * switching the credential alone, the workflow stays the same. Where a provider cannot do
 * something, the node says so before calling it.
 */
interface ProviderCase {
	mode: CredentialMode;
	/** Lists tasks and finds them by external_task_id. */
	full: boolean;
	videoId: boolean;
	windows: boolean;
	name: string;
	/** An HTTP 402 reply in the provider's own shape, and what the node makes of it. */
	balanceError: { json: unknown; message: string; description: RegExp };
}

const KLING_BALANCE = {
	json: undefined,
	message: 'Kling error 1102: Resource pack exhausted or expired',
	description: /Top up or renew/,
};
const PROVIDERS: ProviderCase[] = [
	{
		mode: 'accessKey',
		full: true,
		videoId: true,
		windows: true,
		name: 'Kling',
		balanceError: KLING_BALANCE,
	},
	{
		mode: 'apiKey',
		full: true,
		videoId: true,
		windows: true,
		name: 'Kling',
		balanceError: KLING_BALANCE,
	},
	{
		mode: 'klingProxy',
		full: true,
		videoId: true,
		windows: true,
		name: 'Kling',
		balanceError: KLING_BALANCE,
	},
	{
		mode: 'apimodels',
		full: false,
		videoId: false,
		windows: false,
		name: 'apimodels.app',
		balanceError: {
			json: { code: 402, msg: 'Insufficient credits' },
			message: 'apimodels.app error 402: Insufficient balance',
			description: /apimodels.app says: Insufficient credits\. Top up your apimodels.app credits/,
		},
	},
	{
		mode: 'vtrix',
		full: false,
		videoId: true,
		windows: true,
		name: 'vtrix',
		balanceError: {
			json: { error: { code: '402', error_message: 'Insufficient credits' } },
			message: 'vtrix error 402: Insufficient balance',
			description: /vtrix says: 402: Insufficient credits\. Top up your vtrix account/,
		},
	},
];

describe.each(PROVIDERS)(
	'every action through the $mode credential',
	({ mode, full, videoId, windows, name, balanceError }) => {
		let emu: Emulator;
		beforeAll(async () => {
			emu = await startEmulator({ taskTimeMs: 500, submittedMs: 100, apimodelsIdentifyMs: 200 });
		});
		afterAll(async () => emu.stop());
		beforeEach(() => emu.clearFaults());

		const run = (parameters: Record<string, unknown>, items?: Array<Record<string, unknown>>) =>
			runKlingNode({
				credentials: emulatorCredentials(emu.baseUrl, mode),
				parameters: parameters as never,
				items: items as never,
			});

		it('identifies faces, lip-syncs with wait and download, and gets the task', async () => {
			const faces = await run({ operation: 'identifyFace', videoUrl: VIDEO });
			expect(faces.error).toBeUndefined();
			expect(faces.output.map((item) => item.json.face_id)).toEqual(['0', '1']);
			expect(faces.output[0].json.end_time).toBe(windows ? 5200 : null);

			const externalTaskId = full ? `ext-${mode}` : '';
			const synced = await run(lipSyncParameters(emu, { options: { externalTaskId } }), [
				faces.output[0].json,
			]);
			expect(synced.error).toBeUndefined();
			expect(synced.output[0].json).toEqual(
				expect.objectContaining({
					task_status: 'succeed',
					video_url: expect.stringMatching(/\.mp4$/),
				}),
			);
			expect(synced.output[0].binary?.data.mimeType).toBe('video/mp4');

			const got = await run({ operation: 'getTask', taskId: synced.output[0].json.task_id });
			expect(got.output[0].json).toEqual(
				expect.objectContaining({ task_id: synced.output[0].json.task_id, task_status: 'succeed' }),
			);
			expect(emu.stats.billed.identify).toBe(1);
			expect(emu.stats.billed.create).toBe(1);
		});

		it(
			full
				? 'lists tasks and finds one by external_task_id'
				: 'says clearly what it does not support',
			async () => {
				const listed = await run({ operation: 'listTasks', returnAll: true });
				const byExternal = await run({
					operation: 'getTask',
					taskIdType: 'externalTaskId',
					externalTaskId: `ext-${mode}`,
				});
				const byVideoId = await run({
					operation: 'identifyFace',
					videoSource: 'videoId',
					videoId: 'kling-video-8s',
				});
				if (full) {
					expect(listed.output.length).toBeGreaterThanOrEqual(1);
					expect(byExternal.output[0].json.external_task_id).toBe(`ext-${mode}`);
				} else {
					expect(listed.error?.message).toBe(`${name} does not support listing tasks`);
					expect(byExternal.error?.message).toBe(
						`${name} does not support external task IDs (find the task by its task_id)`,
					);
				}
				if (videoId) expect(byVideoId.output[0].json.end_time).toBe(8000);
				else
					expect(byVideoId.error?.message).toBe(
						`${name} does not support Kling video IDs (use a video URL)`,
					);
			},
		);

		it('checks what the provider supports for every item before any item calls it', async () => {
			const session = await run({ operation: 'identifyFace', videoUrl: VIDEO });
			emu.resetStats();
			const items = [session.output[0].json, { ...session.output[0].json, ext: `batch-${mode}` }];
			const { error, output } = await run(
				lipSyncParameters(emu, {
					waitForCompletion: false,
					options: { externalTaskId: '={{ $json.ext ?? "" }}' },
				}),
				items,
			);
			if (full) {
				expect(error).toBeUndefined();
				expect(output).toHaveLength(2);
			} else {
				expect(error?.message).toBe(
					`${name} does not support external task IDs (find the task by its task_id)`,
				);
				expect(emu.stats.requests.create ?? 0).toBe(0);
			}
		});

		it("explains the provider's errors with a remedy", async () => {
			if (balanceError.json === undefined)
				emu.injectFault({ route: 'get', kind: 'error', code: 1102 });
			else emu.injectFault({ route: 'get', kind: 'http', status: 402, json: balanceError.json });
			const { error } = await run({ operation: 'getTask', taskId: '812345678901234567' });
			expect(error?.message).toBe(balanceError.message);
			expect(error?.description).toMatch(balanceError.description);
		});

		it('rejects a wrong key', async () => {
			const { error } = await runKlingNode({
				credentials: {
					...emulatorCredentials(emu.baseUrl, mode),
					apiKey: 'wrong',
					secretKey: 'wrong',
				},
				parameters: { operation: 'getTask', taskId: '812345678901234567' },
			});
			expect(error?.message).toMatch(
				name === 'Kling'
					? /^Kling error (1002: Authorization is invalid|1000: Authentication failed)$/
					: new RegExp(`^${name} error 401: Invalid API key$`),
			);
		});
	},
);
