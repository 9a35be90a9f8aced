import type {
	ICredentialDataDecryptedObject,
	ICredentialTestRequest,
	ICredentialType,
	IHttpRequestOptions,
	INodeProperties,
} from 'n8n-workflow';

import { KLING_BASE_URLS } from '../nodes/KlingLipSync/helpers/constants';
import { signKlingJwt } from '../nodes/KlingLipSync/helpers/jwt';

export class KlingApi implements ICredentialType {
	name = 'klingApi';

	displayName = 'Kling API';

	icon = { light: 'file:../nodes/KlingLipSync/kling.svg', dark: 'file:../nodes/KlingLipSync/kling.dark.svg' } as const;

	documentationUrl = 'https://github.com/n8n-nodes-kling-lipsync/n8n-nodes-kling-lipsync#credentials';

	properties: INodeProperties[] = [
		{
			displayName: 'Authentication',
			name: 'authType',
			type: 'options',
			options: [
				{
					name: 'Access Key + Secret Key',
					value: 'accessKey',
					description: 'The key pair from the Kling developer console; the node signs a short-lived token for every request',
				},
				{ name: 'API Key', value: 'apiKey', description: 'A single API key, sent as a Bearer token' },
			],
			default: 'accessKey',
		},
		{
			displayName: 'Access Key',
			name: 'accessKey',
			type: 'string',
			default: '',
			required: true,
			displayOptions: { show: { authType: ['accessKey'] } },
		},
		{
			displayName: 'Secret Key',
			name: 'secretKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			displayOptions: { show: { authType: ['accessKey'] } },
		},
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			displayOptions: { show: { authType: ['apiKey'] } },
		},
		{
			displayName: 'Region',
			name: 'region',
			type: 'options',
			options: [
				{ name: 'Global (Singapore)', value: 'global', description: KLING_BASE_URLS.global },
				{ name: 'China (Beijing)', value: 'china', description: KLING_BASE_URLS.china },
				{ name: 'Custom Base URL', value: 'custom', description: 'Another host serving the Kling API' },
			],
			default: 'global',
			hint: 'Keys work only in the region they were made for',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: '',
			placeholder: 'https://api-singapore.klingai.com',
			required: true,
			displayOptions: { show: { region: ['custom'] } },
		},
	];

	/** Sets the Bearer token: the API key, or an HS256 JWT signed now (never pasted by the user). */
	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> {
		const token =
			credentials.authType === 'apiKey'
				? String(credentials.apiKey ?? '').trim()
				: signKlingJwt(String(credentials.accessKey ?? '').trim(), String(credentials.secretKey ?? '').trim(), Date.now());
		requestOptions.headers = { ...(requestOptions.headers ?? {}), Authorization: `Bearer ${token}` };
		return requestOptions;
	}

	test: ICredentialTestRequest = {
		request: {
			baseURL: `={{ $credentials.region === "custom" ? $credentials.baseUrl.replace(/\\/+$/, "") : ($credentials.region === "china" ? "${KLING_BASE_URLS.china}" : "${KLING_BASE_URLS.global}") }}`,
			url: '/v1/videos/advanced-lip-sync',
			qs: { pageNum: 1, pageSize: 1 },
		},
		rules: [
			{
				type: 'responseSuccessBody',
				properties: { key: 'code', value: 1102, message: 'The keys work, but the resource pack is exhausted (1102)' },
			},
		],
	};
}
