import type {
	IBinaryData,
	ICredentialDataDecryptedObject,
	IExecuteFunctions,
	IHttpRequestOptions,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { KLING_BASE_URLS, KLING_CREDENTIAL_TYPE } from '../helpers/constants';
import { describeKlingCode } from '../helpers/errorCodes';
import { retryDelayMs, shouldRetry, type AttemptOutcome } from '../helpers/retry';
import { officialDialect, type SendRequest } from './official';
import { sleepUnlessCancelled } from './sleep';
import type { LipSyncApi } from './types';

export type { LipSyncApi } from './types';

const REQUEST_TIMEOUT_MS = 120_000;

/** The API root a credential points at: a region's host, a proxy's URL, or a custom base URL. */
export function resolveBaseUrl(credentials: ICredentialDataDecryptedObject): string {
	const region = credentials.region;
	const ownUrl = credentials.provider === 'klingProxy' || region === 'custom';
	const url = ownUrl ? String(credentials.baseUrl ?? '') : KLING_BASE_URLS[region === 'china' ? 'china' : 'global'];
	return url.trim().replace(/\/+$/, '');
}

interface Envelope {
	code?: number;
	message?: string;
	request_id?: string;
	data?: unknown;
}

const asEnvelope = (body: unknown): Envelope =>
	body && typeof body === 'object' && !Array.isArray(body) ? (body as Envelope) : {};

/** A Kling error as n8n shows it: code, meaning, Kling's own words, the remedy and the request_id. */
export function klingApiError(
	ctx: IExecuteFunctions,
	itemIndex: number,
	httpStatus: number,
	envelope: Envelope,
): NodeApiError {
	const code = typeof envelope.code === 'number' ? envelope.code : undefined;
	const info = code === undefined ? undefined : describeKlingCode(code);
	const message = info ? `Kling error ${code}: ${info.title}` : `Kling answered HTTP ${httpStatus}`;
	const details = [
		envelope.message && envelope.message !== info?.title ? `Kling says: ${envelope.message}.` : '',
		info?.remedy ?? 'The service may be down or the base URL wrong: check the credential.',
		envelope.request_id ? `(request_id: ${envelope.request_id})` : '',
	]
		.filter(Boolean)
		.join(' ');
	const error = new NodeApiError(
		ctx.getNode(),
		{ code: code ?? null, message: envelope.message ?? null, request_id: envelope.request_id ?? null } as JsonObject,
		{ message, description: details, httpCode: String(httpStatus), itemIndex },
	);
	error.context.klingCode = code;
	error.context.requestId = envelope.request_id;
	return error;
}

const cancelledError = (ctx: IExecuteFunctions, itemIndex: number): NodeOperationError =>
	new NodeOperationError(ctx.getNode(), 'The execution was cancelled', { itemIndex });

/**
 * The one place the node talks HTTP to the API: signs through the credential, unwraps Kling's
 * envelope, retries only what is safe to retry, and honours the execution's cancel signal.
 */
export async function createLipSyncApi(ctx: IExecuteFunctions, itemIndex: number): Promise<LipSyncApi> {
	const credentials = await ctx.getCredentials(KLING_CREDENTIAL_TYPE, itemIndex);
	const baseUrl = resolveBaseUrl(credentials);
	const signal = ctx.getExecutionCancelSignal();

	const send: SendRequest = async ({ method, path, body, qs }) => {
		const options: IHttpRequestOptions = {
			method,
			url: `${baseUrl}${path}`,
			json: true,
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
			timeout: REQUEST_TIMEOUT_MS,
			...(body ? { body } : {}),
			...(qs ? { qs } : {}),
		};
		for (let attempt = 0; ; attempt++) {
			let outcome: AttemptOutcome;
			let failure: Error;
			try {
				const response = (await ctx.helpers.httpRequestWithAuthentication.call(ctx, KLING_CREDENTIAL_TYPE, options)) as {
					statusCode: number;
					body: unknown;
				};
				const envelope = asEnvelope(response.body);
				if (response.statusCode >= 200 && response.statusCode < 300 && envelope.code === 0) return envelope.data;
				outcome = { method, httpStatus: response.statusCode, code: envelope.code };
				failure = klingApiError(ctx, itemIndex, response.statusCode, envelope);
			} catch (error) {
				// n8n's own operation errors (e.g. no credential selected) are not network trouble;
				// n8n reports a failed connection as a NodeApiError without an HTTP status.
				if (error instanceof NodeOperationError) throw new NodeOperationError(ctx.getNode(), error, { itemIndex });
				outcome = { method, networkError: true };
				failure = new NodeApiError(
					ctx.getNode(),
					{ message: (error as Error).message } as JsonObject,
					{
						message: `Could not reach the Kling API at ${baseUrl}`,
						description: `${(error as Error).message}. Check the credential's region or base URL and the network.`,
						itemIndex,
					},
				);
			}
			if (!shouldRetry(outcome, attempt)) throw failure;
			if (!(await sleepUnlessCancelled(retryDelayMs(attempt, outcome), signal))) throw cancelledError(ctx, itemIndex);
		}
	};

	return officialDialect(send);
}

type BinarySource = Parameters<IExecuteFunctions['helpers']['prepareBinaryData']>[0];

/**
 * Downloads a result file (a public CDN link: no credential) as a stream straight into n8n's
 * binary data store, so a large video is never held whole in memory (in filesystem/S3 mode).
 */
export async function downloadToBinary(
	ctx: IExecuteFunctions,
	url: string,
	fileName: string,
	mimeType: string,
): Promise<IBinaryData> {
	const stream = (await ctx.helpers.httpRequest({
		method: 'GET',
		url,
		encoding: 'stream',
		timeout: REQUEST_TIMEOUT_MS,
	})) as BinarySource;
	return await ctx.helpers.prepareBinaryData(stream, fileName, mimeType);
}

/** Downloads a small file (the audio to measure) into memory. */
export async function downloadBytes(ctx: IExecuteFunctions, url: string): Promise<Buffer> {
	const body = (await ctx.helpers.httpRequest({
		method: 'GET',
		url,
		encoding: 'arraybuffer',
		timeout: REQUEST_TIMEOUT_MS,
	})) as ArrayBuffer | Buffer;
	return Buffer.isBuffer(body) ? body : Buffer.from(body);
}
