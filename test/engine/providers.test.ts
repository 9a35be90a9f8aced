import { startEmulator, type Emulator } from '../emulator/server';
import { emulatorCredentials, runKlingNode, type CredentialMode } from './harness';
import { VIDEO, lipSyncParameters } from './helpers';

/**
 * The same action suite against every provider the credential offers: switching provider is
 * switching the credential alone, the workflow stays the same.
 */
const PROVIDERS: CredentialMode[] = ['accessKey', 'apiKey', 'klingProxy'];

describe.each(PROVIDERS)('every action through the %s credential', (mode) => {
	let emu: Emulator;
	beforeAll(async () => {
		emu = await startEmulator({ taskTimeMs: 500, submittedMs: 100 });
	});
	afterAll(async () => emu.stop());

	const run = (parameters: Record<string, unknown>, items?: Array<Record<string, unknown>>) =>
		runKlingNode({ credentials: emulatorCredentials(emu.baseUrl, mode), parameters: parameters as never, items: items as never });

	it('identifies faces, lip-syncs with wait and download, gets and lists the task', async () => {
		const faces = await run({ operation: 'identifyFace', videoUrl: VIDEO });
		expect(faces.error).toBeUndefined();
		expect(faces.output.map((item) => item.json.face_id)).toEqual(['0', '1']);

		const synced = await run(lipSyncParameters(emu, { options: { externalTaskId: `ext-${mode}` } }), [faces.output[0].json]);
		expect(synced.error).toBeUndefined();
		expect(synced.output[0].json).toEqual(expect.objectContaining({ task_status: 'succeed', external_task_id: `ext-${mode}` }));
		expect(synced.output[0].binary?.data.mimeType).toBe('video/mp4');

		const got = await run({ operation: 'getTask', taskIdType: 'externalTaskId', externalTaskId: `ext-${mode}` });
		expect(got.output[0].json.task_id).toBe(synced.output[0].json.task_id);

		const listed = await run({ operation: 'listTasks', returnAll: true });
		expect(listed.output.map((item) => item.json.task_id)).toContain(synced.output[0].json.task_id);
		expect(emu.stats.billed).toEqual({ identify: 1, create: 1, tts: 0 });
	});

	it("explains the provider's errors with a remedy", async () => {
		emu.injectFault({ route: 'list', kind: 'error', code: 1102 });
		const { error } = await run({ operation: 'listTasks' });
		expect(error?.message).toBe('Kling error 1102: Resource pack exhausted or expired');
	});

	it('rejects a wrong key', async () => {
		const { error } = await runKlingNode({
			credentials: { ...emulatorCredentials(emu.baseUrl, mode), apiKey: 'wrong', secretKey: 'wrong' },
			parameters: { operation: 'listTasks' },
		});
		expect(error?.message).toMatch(/^Kling error 100[02]: Authori[sz]ation is invalid|^Kling error 1000: Authentication failed/);
	});
});
