import type {
	ICredentialDataDecryptedObject,
	IExecuteFunctions,
	ILoadOptionsFunctions,
	IWebhookFunctions,
} from 'n8n-workflow';

import { APIMODELS_BASE_URL, KLING_BASE_URLS } from '../helpers/constants';

/** Where results are made: an execution, or a webhook call that resumes one. */
export type RunContext = IExecuteFunctions | IWebhookFunctions;
/** Where the node talks to the API from: a run, or the editor's lists. */
export type ApiContext = RunContext | ILoadOptionsFunctions;

/** The API root a credential points at: a region's host, a proxy's URL, or a custom base URL. */
export function resolveBaseUrl(credentials: ICredentialDataDecryptedObject): string {
	const region = credentials.region;
	const provider = credentials.provider ?? 'kling';
	const ownUrl = provider !== 'kling' || region === 'custom';
	const fallback = provider === 'apimodels' ? APIMODELS_BASE_URL : '';
	const url = ownUrl
		? String(credentials.baseUrl || fallback)
		: KLING_BASE_URLS[region === 'china' ? 'china' : 'global'];
	return url.trim().replace(/\/+$/, '');
}
