import type {
	IAuthenticateRuleResponseCode,
	IAuthenticateRuleResponseSuccessBody,
	ICredentialTestRequest,
} from 'n8n-workflow';

import { APIMODELS_BASE_URL, KLING_BASE_URLS, VTRIX_DEFAULT_STATUS_PATH } from './constants';

/** The message of a refusal by HTTP status, with what to check: the credential's Test shows it. */
const refused = (
	status: number,
	message: string,
): ICredentialTestRequest['rules'] extends Array<infer Rule> | undefined ? Rule : never => ({
	type: 'responseCode',
	properties: { value: status, message },
});

/**
 * The Kling API credential's Test: one cheap read from the provider, and what each answer means.
 * Kling answers a wrong key pair or API key with HTTP 401 and a code (1000 signature, 1001 no
 * header, 1002 unknown key, 1003/1004 token not yet valid / expired: this machine's clock).
 */
export const CREDENTIAL_TEST: ICredentialTestRequest = {
	request: {
		baseURL: `={{ $credentials.provider === "apimodels" ? ($credentials.apimodelsBaseUrl || "${APIMODELS_BASE_URL}").replace(/\\/+$/, "") : $credentials.provider === "vtrix" ? $credentials.vtrixBaseUrl.replace(/\\/+$/, "") : $credentials.provider === "klingProxy" || $credentials.region === "custom" ? $credentials.baseUrl.replace(/\\/+$/, "") : ($credentials.region === "china" ? "${KLING_BASE_URLS.china}" : "${KLING_BASE_URLS.global}") }}`,
		url: `={{ $credentials.provider === "apimodels" ? "/api/v1/audio/generations?task_id=n8n-credential-test" : $credentials.provider === "vtrix" ? ($credentials.statusPath || "${VTRIX_DEFAULT_STATUS_PATH}").replace("{id}", "n8n-credential-test") : "/v1/videos/advanced-lip-sync?pageNum=1&pageSize=1" }}`,
		// n8n types this field as a boolean; an expression is resolved per credential.
		ignoreHttpStatusErrors:
			'={{ $credentials.provider === "apimodels" || $credentials.provider === "vtrix" }}' as unknown as boolean,
	},
	// n8n checks refusals by status and answers by body from one list; its type allows one kind.
	rules: [
		refused(
			401,
			'The keys were refused (HTTP 401: Kling codes 1000-1004). Check the Access Key and Secret Key (or the API key), and the Region: keys work only in the region they were made for. Refused as not yet valid or expired, the clock of the machine running n8n is off',
		),
		refused(
			403,
			'The account may not use this API (HTTP 403): check that the keys belong to an account with API access',
		),
		refused(
			404,
			'No Kling API answers at this address (HTTP 404): check the Region, or the Base URL and its prefix',
		),
		{
			type: 'responseSuccessBody',
			properties: {
				key: 'code',
				value: 1102,
				message: 'The keys work, but the resource pack is exhausted (1102)',
			},
		},
		{
			type: 'responseSuccessBody',
			properties: { key: 'code', value: 401, message: 'apimodels.app rejected the API key (401)' },
		},
		{
			type: 'responseSuccessBody',
			properties: { key: 'error.code', value: '401', message: 'vtrix rejected the API key (401)' },
		},
	] satisfies Array<
		IAuthenticateRuleResponseCode | IAuthenticateRuleResponseSuccessBody
	> as ICredentialTestRequest['rules'],
};
