import { createHmac } from 'node:crypto';
import type {
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestOptions,
	INodeProperties,
} from 'n8n-workflow';

import {
	APIMODELS_BASE_URL,
	CLOCK_OFFSET_HEADER,
	KLING_BASE_URLS,
	VTRIX_DEFAULT_CREATE_PATH,
	VTRIX_DEFAULT_STATUS_PATH,
} from '../nodes/KlingLipSync/helpers/constants';
import { CREDENTIAL_TEST } from '../nodes/KlingLipSync/helpers/credentialTest';

const base64url = (input: string | Buffer): string => Buffer.from(input).toString('base64url');

/** Lifetime Kling's docs use for a token; it is signed anew for every request anyway. */
const TOKEN_LIFETIME_SECONDS = 1800;
/** Kling's docs backdate nbf by 5 s so a slightly fast server clock still accepts the token. */
const NOT_BEFORE_SKEW_SECONDS = 5;

/** The HS256 JWT Kling expects for Access Key + Secret Key auth (its Access Key + Secret Key mode). */
export function signKlingJwt(accessKey: string, secretKey: string, nowMs: number): string {
	const now = Math.floor(nowMs / 1000);
	const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
	const payload = base64url(
		JSON.stringify({
			iss: accessKey,
			exp: now + TOKEN_LIFETIME_SECONDS,
			nbf: now - NOT_BEFORE_SKEW_SECONDS,
		}),
	);
	const signature = createHmac('sha256', secretKey)
		.update(`${header}.${payload}`)
		.digest('base64url');
	return `${header}.${payload}.${signature}`;
}

export class KlingApi implements ICredentialType {
	name = 'klingApi';

	displayName = 'Kling API';

	icon = {
		light: 'file:../nodes/KlingLipSync/kling.svg',
		dark: 'file:../nodes/KlingLipSync/kling.dark.svg',
	} as const;

	documentationUrl =
		'https://github.com/n8n-nodes-kling-lipsync/n8n-nodes-kling-lipsync#credentials';

	properties: INodeProperties[] = [
		{
			displayName: 'Provider',
			name: 'provider',
			type: 'options',
			options: [
				{
					name: 'Kling (Official API)',
					value: 'kling',
					description: "Kling's own API, Global or China region",
				},
				{
					name: 'Kling-Compatible Proxy',
					value: 'klingProxy',
					description:
						"A reseller that passes Kling's API through under its own URL (kkiai, chainhub, ...)",
				},
				{
					name: 'apimodels.app',
					value: 'apimodels',
					description: 'Kling lip-sync through apimodels.app (its own API)',
				},
				{
					name: 'Vtrix (Kirin)',
					value: 'vtrix',
					description: "Kling lip-sync through vtrix's kirin models (its own API)",
				},
			],
			default: 'kling',
		},
		{
			displayName: 'Authentication',
			name: 'authType',
			type: 'options',
			options: [
				{
					name: 'Access Key + Secret Key',
					value: 'accessKey',
					description:
						'The key pair from the Kling developer console; the node signs a short-lived token for every request',
				},
				{
					name: 'API Key',
					value: 'apiKey',
					description: 'A single API key, sent as a Bearer token',
				},
			],
			default: 'accessKey',
			displayOptions: { show: { provider: ['kling'] } },
		},
		{
			displayName: 'Access Key',
			name: 'accessKey',
			type: 'string',
			default: '',
			required: true,
			displayOptions: { show: { provider: ['kling'], authType: ['accessKey'] } },
		},
		{
			displayName: 'Secret Key',
			name: 'secretKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			displayOptions: { show: { provider: ['kling'], authType: ['accessKey'] } },
		},
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			displayOptions: { show: { provider: ['kling'], authType: ['apiKey'] } },
		},
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description: "The provider's API key, sent as a Bearer token",
			displayOptions: { show: { provider: ['klingProxy', 'apimodels', 'vtrix'] } },
		},
		{
			displayName: 'Region',
			name: 'region',
			type: 'options',
			options: [
				{ name: 'Global (Singapore)', value: 'global', description: KLING_BASE_URLS.global },
				{ name: 'China (Beijing)', value: 'china', description: KLING_BASE_URLS.china },
				{
					name: 'Custom Base URL',
					value: 'custom',
					description: 'Another host serving the Kling API',
				},
			],
			default: 'global',
			hint: 'Keys work only in the region they were made for',
			displayOptions: { show: { provider: ['kling'] } },
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: '',
			placeholder: 'e.g. https://api-singapore.klingai.com',
			required: true,
			displayOptions: { show: { provider: ['kling'], region: ['custom'] } },
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: '',
			placeholder: 'e.g. https://www.kkiai.com/kling',
			required: true,
			description:
				"The proxy's URL up to where Kling's paths (/v1/videos/...) begin, including its prefix",
			displayOptions: { show: { provider: ['klingProxy'] } },
		},
		{
			displayName: 'Base URL',
			name: 'apimodelsBaseUrl',
			type: 'string',
			default: APIMODELS_BASE_URL,
			required: true,
			displayOptions: { show: { provider: ['apimodels'] } },
		},
		{
			displayName: 'Base URL',
			name: 'vtrixBaseUrl',
			type: 'string',
			default: '',
			required: true,
			description: "vtrix's API root, as shown in its API key page",
			displayOptions: { show: { provider: ['vtrix'] } },
		},
		{
			displayName: 'Create Path',
			name: 'createPath',
			type: 'string',
			default: VTRIX_DEFAULT_CREATE_PATH,
			hint: "vtrix's documentation does not name its paths: change them if yours differ",
			displayOptions: { show: { provider: ['vtrix'] } },
		},
		{
			displayName: 'Status Path',
			name: 'statusPath',
			type: 'string',
			default: VTRIX_DEFAULT_STATUS_PATH,
			description: '{id} is replaced by the job ID',
			displayOptions: { show: { provider: ['vtrix'] } },
		},
	];

	/** Sets the Bearer token: the API key, or an HS256 JWT signed now (never pasted by the user). */
	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> {
		// Proxies take their own key; Kling takes an API key or a JWT signed with the key pair.
		const usesKeyPair =
			(credentials.provider ?? 'kling') === 'kling' && credentials.authType !== 'apiKey';
		// The node's measured clock correction (after a 1003/1004), for this request only.
		const { [CLOCK_OFFSET_HEADER]: offset, ...headers } = requestOptions.headers ?? {};
		const offsetMs = Number(offset) || 0;
		const token = usesKeyPair
			? signKlingJwt(
					String(credentials.accessKey ?? '').trim(),
					String(credentials.secretKey ?? '').trim(),
					Date.now() + offsetMs,
				)
			: String(credentials.apiKey ?? '').trim();
		requestOptions.headers = { ...headers, Authorization: `Bearer ${token}` };
		return requestOptions;
	}

	/**
	 * Kling and proxies: list one task. apimodels.app has no read-only call, so it asks for a task
	 * that does not exist: a valid key gets 404, a wrong one 401 (caught by a rule).
	 */
	test: ICredentialTestRequest = CREDENTIAL_TEST;
}
