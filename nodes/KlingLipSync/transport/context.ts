import { createHash } from 'node:crypto';
import type {
	ICredentialDataDecryptedObject,
	IExecuteFunctions,
	ILoadOptionsFunctions,
	IWebhookFunctions,
} from 'n8n-workflow';
import { sleep } from 'n8n-workflow';

import { APIMODELS_BASE_URL, KLING_BASE_URLS, KLING_CREDENTIAL_TYPE } from '../helpers/constants';

/** Where results are made: an execution, or a webhook call that resumes one. */
export type RunContext = IExecuteFunctions | IWebhookFunctions;
/** Where the node talks to the API from: a run, or the editor's lists. */
export type ApiContext = RunContext | ILoadOptionsFunctions;

/**
 * Where each reseller's base URL is kept: a field of its own, so that switching the provider on a
 * credential never carries another provider's URL (Kling's custom region and proxies: baseUrl).
 */
const BASE_URL_FIELD: Record<string, string> = {
	apimodels: 'apimodelsBaseUrl',
	vtrix: 'vtrixBaseUrl',
};

/** The API root a credential points at: a region's host, a proxy's URL, or a custom base URL. */
export function resolveBaseUrl(credentials: ICredentialDataDecryptedObject): string {
	const region = credentials.region;
	const provider = credentials.provider ?? 'kling';
	const ownUrl = provider !== 'kling' || region === 'custom';
	const fallback = provider === 'apimodels' ? APIMODELS_BASE_URL : '';
	const url = ownUrl
		? String(credentials[BASE_URL_FIELD[String(provider)] ?? 'baseUrl'] || fallback)
		: KLING_BASE_URLS[region === 'china' ? 'china' : 'global'];
	return url.trim().replace(/\/+$/, '');
}

/**
 * A key only holders of the credential can make (a digest of all its fields): signs what the node
 * leaves in a URL for its own webhook to act on, so nobody else can forge it.
 */
export async function credentialKey(ctx: RunContext): Promise<Buffer> {
	const credentials = await ctx.getCredentials(KLING_CREDENTIAL_TYPE, 0);
	const fields = Object.entries(credentials).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
	return createHash('sha256')
		.update(JSON.stringify(['n8n-nodes-kling-lipsync/url-key/1', fields]))
		.digest();
}

/** What of a credential is secret: every value but the provider, region, base URL and paths. */
export function credentialSecrets(credentials: ICredentialDataDecryptedObject): string[] {
	const plain = new Set([
		'provider',
		'authType',
		'region',
		'baseUrl',
		...Object.values(BASE_URL_FIELD),
		'createPath',
		'statusPath',
	]);
	return Object.entries(credentials)
		.filter(([name, value]) => !plain.has(name) && typeof value === 'string')
		.map(([, value]) => value as string);
}

/** Longest single sleep: keeps cancellation prompt on n8n versions whose sleep ignores a signal. */
const SLICE_MS = 250;

/** True once the execution was stopped by the user (or the server). */
const isCancelled = (signal: AbortSignal | undefined): boolean => signal?.aborted === true;

/**
 * Sleeps `ms`, waking every 250 ms to check the execution's cancel signal: n8n 2.8's `sleep` takes
 * no signal, so checking between slices is what makes a stop take effect within a second.
 * Resolves false when cancelled, true when the full time passed.
 */
export async function sleepUnlessCancelled(
	ms: number,
	signal: AbortSignal | undefined,
): Promise<boolean> {
	let left = ms;
	while (left > 0) {
		if (isCancelled(signal)) return false;
		const slice = Math.min(SLICE_MS, left);
		await sleep(slice);
		left -= slice;
	}
	return !isCancelled(signal);
}
