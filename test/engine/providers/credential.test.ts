import type {
	ICredentialDataDecryptedObject,
	IHttpRequestOptions,
	INode,
	INodeTypes,
} from 'n8n-workflow';
import { Workflow } from 'n8n-workflow';

import { KlingApi } from '../../../credentials/KlingApi.credentials';
import { startEmulator, type Emulator } from '../../emulator/server';

/**
 * The credential's test request, resolved the way n8n's credential tester does it: the baseURL
 * expression evaluated with `$credentials`, then signed by the credential's own `authenticate`.
 */
const credential = new KlingApi();
const node: INode = {
	id: 'n',
	name: 'Test',
	type: 'test',
	typeVersion: 1,
	position: [0, 0],
	parameters: {},
};
const nodeTypes = {
	getByName: () => undefined,
	getByNameAndVersion: () => undefined,
	getKnownTypes: () => ({}),
} as unknown as INodeTypes;
const workflow = new Workflow({ nodes: [node], connections: {}, active: false, nodeTypes });

const resolve = (value: unknown, credentials: ICredentialDataDecryptedObject): unknown =>
	workflow.expression.getSimpleParameterValue(node, value as string, 'internal', {
		$credentials: credentials,
	});
const resolveBaseUrl = (credentials: ICredentialDataDecryptedObject): string =>
	resolve(credential.test.request.baseURL, credentials) as string;

async function runCredentialTest(
	credentials: ICredentialDataDecryptedObject,
): Promise<{ status: number; body: { code: number }; ignoreHttpStatusErrors: unknown }> {
	const baseURL = resolveBaseUrl(credentials);
	const request: IHttpRequestOptions = {
		url: resolve(credential.test.request.url, credentials) as string,
		baseURL,
	};
	const signed = await credential.authenticate(credentials, request);
	const response = await fetch(`${signed.baseURL}${signed.url}`, {
		headers: signed.headers as Record<string, string>,
	});
	const ignoreHttpStatusErrors = resolve(
		credential.test.request.ignoreHttpStatusErrors,
		credentials,
	);
	return {
		status: response.status,
		body: (await response.json()) as { code: number },
		ignoreHttpStatusErrors,
	};
}

describe('Kling API credential test', () => {
	let emu: Emulator;
	beforeAll(async () => {
		emu = await startEmulator();
	});
	afterAll(async () => emu.stop());

	it('succeeds with the right access key and secret key, and with an API key', async () => {
		const ok = await runCredentialTest({
			authType: 'accessKey',
			accessKey: 'test-access-key',
			secretKey: 'test-secret-key',
			region: 'custom',
			baseUrl: `${emu.baseUrl}/`,
		});
		expect(ok).toEqual({
			status: 200,
			body: expect.objectContaining({ code: 0 }),
			ignoreHttpStatusErrors: false,
		});
		const key = await runCredentialTest({
			authType: 'apiKey',
			apiKey: 'test-api-key',
			region: 'custom',
			baseUrl: emu.baseUrl,
		});
		expect(key.status).toBe(200);
	});

	it('tests a Kling-compatible proxy at its own URL with its key', async () => {
		const ok = await runCredentialTest({
			provider: 'klingProxy',
			apiKey: 'test-api-key',
			baseUrl: `${emu.baseUrl}/kling/`,
		});
		expect(ok.status).toBe(200);
		const bad = await runCredentialTest({
			provider: 'klingProxy',
			apiKey: 'nope',
			baseUrl: `${emu.baseUrl}/kling`,
		});
		expect(bad.status).toBe(401);
	});

	it('tests apimodels.app by a task that does not exist: 404 for a valid key, code 401 (a rule) for a wrong one', async () => {
		const ok = await runCredentialTest({
			provider: 'apimodels',
			apiKey: 'test-api-key',
			apimodelsBaseUrl: emu.baseUrl,
		});
		expect(ok).toEqual({
			status: 404,
			body: { code: 404, msg: 'Task not found' },
			ignoreHttpStatusErrors: true,
		});
		const bad = await runCredentialTest({
			provider: 'apimodels',
			apiKey: 'nope',
			apimodelsBaseUrl: emu.baseUrl,
		});
		expect(bad.body.code).toBe(401);
		expect(credential.test.rules).toContainEqual({
			type: 'responseSuccessBody',
			properties: expect.objectContaining({ key: 'code', value: 401 }),
		});
	});

	it('tests vtrix by a job that does not exist at its status path: 404 for a valid key, error.code 401 for a wrong one', async () => {
		const ok = await runCredentialTest({
			provider: 'vtrix',
			apiKey: 'test-api-key',
			vtrixBaseUrl: emu.baseUrl,
		});
		expect(ok).toEqual({
			status: 404,
			body: { error: { code: '404', error_message: 'Task not found' } },
			ignoreHttpStatusErrors: true,
		});
		const bad = (await runCredentialTest({
			provider: 'vtrix',
			apiKey: 'nope',
			vtrixBaseUrl: emu.baseUrl,
		})) as unknown as { body: { error: { code: string } } };
		expect(bad.body.error.code).toBe('401');
		expect(credential.test.rules).toContainEqual({
			type: 'responseSuccessBody',
			properties: expect.objectContaining({ key: 'error.code', value: '401' }),
		});
	});

	it('fails with 401 on a wrong secret key or API key', async () => {
		const badSecret = await runCredentialTest({
			authType: 'accessKey',
			accessKey: 'test-access-key',
			secretKey: 'nope',
			region: 'custom',
			baseUrl: emu.baseUrl,
		});
		expect(badSecret).toEqual({
			status: 401,
			body: expect.objectContaining({ code: 1000 }),
			ignoreHttpStatusErrors: false,
		});
		// n8n shows the message of the rule for the status, which says what to check.
		const rule = credential.test.rules?.find(
			(candidate) => candidate.type === 'responseCode' && candidate.properties.value === 401,
		);
		expect(rule?.properties.message).toMatch(/Access Key and Secret Key.*Region/);
		const badKey = await runCredentialTest({
			authType: 'apiKey',
			apiKey: 'nope',
			region: 'custom',
			baseUrl: emu.baseUrl,
		});
		expect(badKey).toEqual({
			status: 401,
			body: expect.objectContaining({ code: 1002 }),
			ignoreHttpStatusErrors: false,
		});
	});

	it('points Global and China at their hosts', () => {
		expect(resolveBaseUrl({ region: 'global' })).toBe('https://api-singapore.klingai.com');
		expect(resolveBaseUrl({ region: 'china' })).toBe('https://api-beijing.klingai.com');
	});
});
