import type { ICredentialDataDecryptedObject, IHttpRequestOptions, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import {
	CLOCK_OFFSET_HEADER,
	KLING_CREDENTIAL_TYPE,
	VTRIX_DEFAULT_CREATE_PATH,
	VTRIX_DEFAULT_STATUS_PATH,
} from '../helpers/constants';
import { RequestPacer } from '../helpers/pacer';
import { maskSecrets } from '../helpers/redact';
import {
	isRateLimited,
	MAX_UNCERTAIN_RESENDS,
	RATE_LIMIT_BUDGET_MS,
	mayHaveBeenCarriedOut,
	retryDelayMs,
	shouldRetry,
	type AttemptOutcome,
} from '../helpers/retry';
import { apimodelsDialect } from './apimodels';
import { jsonBytes, parseBody } from './body';
import { credentialSecrets, resolveBaseUrl, type ApiContext } from './context';
import {
	cancelledError,
	describeClock,
	describeOutcome,
	markUncertain,
	providerError,
	unreadableAnswer,
} from './errors';
import { klingDialect } from './official';
import { sleepUnlessCancelled } from './context';
import type { ApiLimits, LipSyncApi, ProviderDialect, SendRequest } from './types';

import { vtrixDialect } from './vtrix';
import { isDataObject } from '../helpers/json';

export type { LipSyncApi } from './types';
export type { ApiContext, RunContext } from './context';
export { credentialKey, resolveBaseUrl } from './context';
export { jsonBytes } from './body';

const REQUEST_TIMEOUT_MS = 120_000;

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

/** The provider's time minus ours, from a reply's Date header (whole seconds), if it has one. */
function offsetFromDateHeader(headers: Record<string, unknown> | undefined): number | undefined {
	const date = headers?.date;
	const serverMs = typeof date === 'string' ? Date.parse(date) : NaN;
	return Number.isFinite(serverMs) ? serverMs - Date.now() : undefined;
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
				const unreadable = isDataObject(parsed)
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
