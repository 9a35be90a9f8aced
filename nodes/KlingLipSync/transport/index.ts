import { createHash, randomUUID } from 'node:crypto';
import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IHttpRequestOptions,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { CLOCK_OFFSET_HEADER, KLING_CREDENTIAL_TYPE } from '../helpers/constants';
import { parseJsonKeepingBigIntegers } from '../helpers/json';
import { answerExcerpt, maskSecrets } from '../helpers/redact';
import { RequestPacer } from '../helpers/pacer';
import {
	MAX_UNCERTAIN_RESENDS,
	mayHaveBeenCarriedOut,
	retryDelayMs,
	shouldRetry,
	type AttemptOutcome,
} from '../helpers/retry';
import { apimodelsDialect } from './apimodels';
import { resolveBaseUrl, type ApiContext, type RunContext } from './context';
import { klingDialect } from './official';
import { VTRIX_DEFAULT_CREATE_PATH, VTRIX_DEFAULT_STATUS_PATH, vtrixDialect } from './vtrix';
import { sleepUnlessCancelled } from './sleep';
import {
	InlineBytes,
	type LipSyncApi,
	type ProviderDialect,
	type ProviderFailure,
	type SendRequest,
} from './types';

export type { LipSyncApi } from './types';
export type { ApiContext, RunContext } from './context';
export { resolveBaseUrl } from './context';

const REQUEST_TIMEOUT_MS = 120_000;

/** A provider's refusal as n8n shows it: meaning, the provider's words (secrets masked), the remedy, request_id. */
export function providerError(
	ctx: ApiContext,
	itemIndex: number,
	dialect: ProviderDialect,
	failure: ProviderFailure,
	secrets: readonly string[] = [],
): NodeApiError {
	const explained = dialect.explain(failure);
	const title = failure.unreadable
		? `${dialect.name} answered HTTP ${failure.httpStatus} with something that is not its JSON`
		: explained.title;
	const remedy = failure.unreadable
		? 'The provider or a gateway in front of it is failing, or the base URL is not its API.'
		: explained.remedy;
	const message = failure.message === undefined ? undefined : maskSecrets(failure.message, secrets);
	const details = [
		message && !title.endsWith(message) ? `${dialect.name} says: ${message}.` : '',
		failure.unreadable ? `The answer is not ${dialect.name}'s JSON: ${failure.unreadable}.` : '',
		remedy,
		failure.requestId ? `(request_id: ${failure.requestId})` : '',
	]
		.filter(Boolean)
		.join(' ');
	const error = new NodeApiError(
		ctx.getNode(),
		{
			code: failure.klingCode ?? null,
			message: message ?? null,
			request_id: failure.requestId ?? null,
		} as JsonObject,
		{ message: title, description: details, httpCode: String(failure.httpStatus), itemIndex },
	);
	error.context.klingCode = failure.klingCode;
	error.context.requestId = failure.requestId;
	return error;
}

/** What of a credential is secret: every value but the provider, region, base URL and paths. */
export function credentialSecrets(credentials: ICredentialDataDecryptedObject): string[] {
	const plain = new Set(['provider', 'authType', 'region', 'baseUrl', 'createPath', 'statusPath']);
	return Object.entries(credentials)
		.filter(([name, value]) => !plain.has(name) && typeof value === 'string')
		.map(([, value]) => value as string);
}

/**
 * An answer that is not the provider's JSON (an HTML error page, truncated JSON, junk with a 200):
 * what came back, for the error, masked.
 */
function unreadableAnswer(
	statusCode: number,
	headers: Record<string, unknown> | undefined,
	raw: unknown,
	secrets: readonly string[],
): string {
	const contentType =
		typeof headers?.['content-type'] === 'string' ? headers['content-type'] : 'none';
	const bytes = Buffer.isBuffer(raw) ? raw : raw instanceof ArrayBuffer ? Buffer.from(raw) : raw;
	return `HTTP ${statusCode}, content type ${contentType}, body ${answerExcerpt(bytes, secrets)}`;
}

const cancelledError = (ctx: ApiContext, itemIndex: number): NodeOperationError =>
	new NodeOperationError(ctx.getNode(), 'The execution was cancelled', { itemIndex });

/** Says on an error that the refused or unanswered POST may still have been carried out (and billed). */
function markUncertain(error: Error, provider: string): void {
	const withDescription = error as Error & { description?: string | null };
	const warning = `The request may have reached ${provider} before it failed; the node did not send it again, so it cannot be billed twice. Check your tasks at ${provider} before running this item again.`;
	withDescription.description = withDescription.description
		? `${withDescription.description} ${warning}`
		: warning;
}

/** Says on a 1003/1004 error, after signing on the provider's clock did not help, how far off this host is. */
function describeClock(error: Error, offsetMs: number): void {
	const seconds = Math.round(offsetMs / 1000);
	const withDescription = error as Error & { description?: string | null };
	const note = `This machine's clock is off by ${Math.abs(seconds)} s (${seconds >= 0 ? 'behind' : 'ahead of'} the API's, from its Date header); the node signed again on the API's time and was still refused. Set the clock right (NTP) on the machine running n8n.`;
	withDescription.description = withDescription.description
		? `${withDescription.description} ${note}`
		: note;
}

const describeOutcome = (outcome: AttemptOutcome): string =>
	outcome.networkError
		? 'no reply'
		: outcome.code !== undefined
			? `code ${outcome.code}`
			: `HTTP ${outcome.httpStatus}`;

/** The dialect a credential's provider speaks (vtrix's paths are the credential's own). */
function dialectFor(credentials: ICredentialDataDecryptedObject): ProviderDialect {
	switch (credentials.provider) {
		case 'apimodels':
			return apimodelsDialect;
		case 'vtrix':
			return vtrixDialect(
				String(credentials.createPath || VTRIX_DEFAULT_CREATE_PATH),
				String(credentials.statusPath || VTRIX_DEFAULT_STATUS_PATH),
			);
		default:
			return klingDialect;
	}
}

/**
 * How far this host's clock is from the provider's, measured from a reply's Date header when a
 * token was refused as not yet valid or expired (1003/1004). Every item signs with the same
 * correction once it is known, as AWS's SDKs correct clock skew.
 */
interface ClockCorrection {
	offsetMs: number;
	measured: boolean;
}

/** How long one request keeps trying while the API answers 1302: the run slows down meanwhile. */
const RATE_LIMIT_BUDGET_MS = 10 * 60_000;

/** The API's rate limit: Kling's 1302, or a bare HTTP 429 from a gateway. */
const isRateLimited = (outcome: AttemptOutcome): boolean =>
	outcome.code === 1302 || (outcome.code === undefined && outcome.httpStatus === 429);

/** The provider's time minus ours, from a reply's Date header (whole seconds), if it has one. */
function offsetFromDateHeader(headers: Record<string, unknown> | undefined): number | undefined {
	const date = headers?.date;
	const serverMs = typeof date === 'string' ? Date.parse(date) : NaN;
	return Number.isFinite(serverMs) ? serverMs - Date.now() : undefined;
}

/** A reply body as text, parsed so that no id loses digits; a body that is not JSON stays text. */
function parseBody(body: unknown): unknown {
	const text = Buffer.isBuffer(body)
		? body.toString('utf8')
		: body instanceof ArrayBuffer
			? Buffer.from(body).toString('utf8')
			: body;
	if (typeof text !== 'string') return text;
	if (text.trim() === '') return undefined;
	try {
		return parseJsonKeepingBigIntegers(text);
	} catch {
		return text;
	}
}

/** Bytes encoded per slice: slices of 48 KB make strings that die young, never one of megabytes. */
const BASE64_SLICE_BYTES = 3 * 16_384;

/**
 * A request body as JSON bytes. Values that are InlineBytes become base64 strings written slice by
 * slice into the buffer: a 4 MB audio costs its 5.3 MB of request bytes and no string copies of them.
 */
export function jsonBytes(body: IDataObject): Buffer {
	const inline: Buffer[] = [];
	// A mark no other value can hold: a control character (JSON writes it as the escape \u0001) and a random id.
	const mark = `\u0001${randomUUID()}`;
	const text = JSON.stringify(body, (_key, value: unknown) => {
		if (!(value instanceof InlineBytes)) return value;
		inline.push(value.bytes);
		return mark;
	});
	if (inline.length === 0) return Buffer.from(text, 'utf8');
	const parts = text.split(`"${JSON.stringify(mark).slice(1, -1)}"`);
	const encodedLength = (bytes: Buffer): number => 4 * Math.ceil(bytes.length / 3) + 2;
	const total =
		parts.reduce((sum, part) => sum + Buffer.byteLength(part, 'utf8'), 0) +
		inline.reduce((sum, bytes) => sum + encodedLength(bytes), 0);
	const out = Buffer.allocUnsafe(total);
	let offset = 0;
	parts.forEach((part, index) => {
		offset += out.write(part, offset, 'utf8');
		const bytes = inline[index];
		if (!bytes) return;
		offset += out.write('"', offset, 'latin1');
		for (let start = 0; start < bytes.length; start += BASE64_SLICE_BYTES) {
			offset += out.write(
				bytes.subarray(start, start + BASE64_SLICE_BYTES).toString('base64'),
				offset,
				'latin1',
			);
		}
		offset += out.write('"', offset, 'latin1');
	});
	return out;
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

/**
 * Limits for a caller that must answer fast and spend little (the trigger verifying a callback):
 * `singleAttempt` sends each request once (no retry, no waiting out a rate limit; only a token
 * refused for this host's clock is signed again on the API's time),
 * `timeoutMs` bounds how long it waits for a reply.
 */
export interface ApiLimits {
	singleAttempt?: boolean;
	timeoutMs?: number;
}

/**
 * The one place the node talks HTTP to the API: signs through the credential, lets the
 * provider's dialect unwrap its envelope, retries only what is safe to retry, and honours the
 * execution's cancel signal.
 */
export async function createLipSyncApi(
	ctx: ApiContext,
	itemIndex: number,
	limits: ApiLimits = {},
): Promise<LipSyncApi> {
	const credentials = await ctx.getCredentials(KLING_CREDENTIAL_TYPE, itemIndex);
	const baseUrl = resolveBaseUrl(credentials);
	const dialect = dialectFor(credentials);
	const secrets = credentialSecrets(credentials);
	// What every request through this API shares: a node run makes one, so all its items share them.
	const clock: ClockCorrection = { offsetMs: 0, measured: false };
	const pacer = new RequestPacer();
	// A webhook call has no cancel signal: it is short and answers one request.
	const signal = 'getExecutionCancelSignal' in ctx ? ctx.getExecutionCancelSignal() : undefined;
	const wait = async (ms: number): Promise<void> => {
		if (!(await sleepUnlessCancelled(ms, signal))) throw cancelledError(ctx, itemIndex);
	};

	const send: SendRequest = async ({
		method,
		path,
		body,
		qs,
		recover,
		adoptDuplicate,
		onUncertainResend,
		whenBusy,
		absentWhen,
	}) => {
		const options: IHttpRequestOptions = {
			method,
			url: `${baseUrl}${path}`,
			json: true,
			// The reply as bytes: parsed here so that ids sent as bare 18-digit numbers keep every digit.
			encoding: 'arraybuffer',
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
			timeout: limits.timeoutMs ?? REQUEST_TIMEOUT_MS,
			// JSON made here, once for every attempt: inline audio goes in as bytes (see jsonBytes).
			...(body ? { body: jsonBytes(body) } : {}),
			...(qs ? { qs } : {}),
		};
		const contentType = body ? { 'Content-Type': 'application/json' } : {};
		// Whether an earlier attempt of this call may have created the task: only then is a
		// "external_task_id already exists" refusal this call's own task (else the id was reused).
		let mayExist = false;
		let clockCorrectedNow = false;
		let uncertainResends = 0;
		let rateLimitedSince: number | undefined;
		for (let attempt = 0; ; ) {
			let outcome: AttemptOutcome;
			let failure: Error;
			let duplicateExternalId = false;
			const turn = pacer.nextTurn();
			if (turn.delayMs > 0) await wait(turn.delayMs);
			try {
				// The credential signs with the corrected time and drops this header (never sent).
				options.headers = clock.offsetMs
					? { ...contentType, [CLOCK_OFFSET_HEADER]: String(clock.offsetMs) }
					: { ...contentType };
				const response = (await ctx.helpers.httpRequestWithAuthentication.call(
					ctx,
					KLING_CREDENTIAL_TYPE,
					options,
				)) as {
					statusCode: number;
					body: unknown;
					headers?: Record<string, unknown>;
				};
				const parsed = parseBody(response.body);
				const unreadable =
					typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
						? undefined
						: unreadableAnswer(response.statusCode, response.headers, response.body, secrets);
				const reply: ReturnType<ProviderDialect['unwrap']> = unreadable
					? { failure: { httpStatus: response.statusCode, unreadable } }
					: dialect.unwrap(response.statusCode, parsed);
				if ('data' in reply) {
					pacer.answered();
					return reply.data;
				}
				if (absentWhen?.(reply.failure)) return undefined;
				const code = reply.failure.klingCode;
				outcome = {
					method,
					httpStatus: response.statusCode,
					code,
					unreadable: unreadable !== undefined,
				};
				// The id is taken: this call's own task only if an earlier attempt may have created it.
				duplicateExternalId =
					code === 1201 && /external_task_id/i.test(reply.failure.message ?? '');
				failure = providerError(ctx, itemIndex, dialect, reply.failure, secrets);
				if (code === 1003 || code === 1004) {
					const offsetMs = offsetFromDateHeader(response.headers);
					if (offsetMs !== undefined && !clockCorrectedNow) {
						// Refused as not yet valid or expired: sign again on the provider's clock.
						clock.offsetMs = offsetMs;
						clock.measured = true;
						clockCorrectedNow = true;
						continue;
					}
					if (clock.measured) describeClock(failure, clock.offsetMs);
				}
			} catch (error) {
				// n8n's own operation errors (e.g. no credential selected) are not network trouble;
				// n8n reports a failed connection as a NodeApiError without an HTTP status.
				if (error instanceof NodeOperationError)
					throw new NodeOperationError(ctx.getNode(), error, { itemIndex });
				outcome = { method, networkError: true };
				const reason = maskSecrets((error as Error).message, secrets);
				failure = new NodeApiError(ctx.getNode(), { message: reason } as JsonObject, {
					message: `Could not reach the ${dialect.name} API at ${baseUrl}`,
					description: `${reason}. Check the credential's base URL and the network.`,
					itemIndex,
				});
			}
			if (limits.singleAttempt) throw failure;
			if (isRateLimited(outcome)) {
				// Not a failed attempt: the whole run slows down, and this request waits its turn.
				pacer.rateLimited(turn.startMs);
				rateLimitedSince ??= Date.now();
				if (Date.now() - rateLimitedSince < RATE_LIMIT_BUDGET_MS) continue;
				throw failure;
			}
			if (!outcome.networkError) pacer.answered();
			if (outcome.code === 1303 && whenBusy) {
				// Over the account's concurrency: queue until a task frees a slot (not a failed attempt).
				await whenBusy();
				continue;
			}
			const uncertain = mayHaveBeenCarriedOut(outcome);
			if (recover && (uncertain || (duplicateExternalId && (mayExist || adoptDuplicate)))) {
				const found = await recover(uncertain || mayExist ? 'thisCall' : 'earlierRun');
				if (found !== undefined) return found;
			}
			mayExist ||= uncertain;
			if (uncertain && !recover) {
				if (!onUncertainResend) {
					// Without an id to look it up by, sending it again could pay for the same task twice.
					markUncertain(failure, dialect.name);
					throw failure;
				}
				if (uncertainResends >= MAX_UNCERTAIN_RESENDS) throw failure;
			}
			const resendable = recover !== undefined || onUncertainResend !== undefined;
			if (!shouldRetry({ ...outcome, recoverable: resendable }, attempt)) throw failure;
			await wait(retryDelayMs(attempt, outcome));
			attempt++;
			if (uncertain && onUncertainResend) {
				uncertainResends++;
				ctx.logger.warn(
					`Kling Lip Sync "${ctx.getNode().name}": ${method} ${path} failed after it may have reached ${dialect.name} (${describeOutcome(outcome)}); sending it again may cost one more unit`,
				);
				onUncertainResend();
			}
		}
	};

	return dialect.api(send, wait);
}

export { downloadBytes, downloadToBinary, DownloadTooLargeError } from './download';
