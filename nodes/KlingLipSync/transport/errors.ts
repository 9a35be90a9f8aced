import type { JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { answerExcerpt, maskSecrets } from '../helpers/redact';
import type { AttemptOutcome } from '../helpers/retry';
import type { ApiContext } from './context';
import type { ProviderDialect, ProviderFailure } from './types';
import { addToDescription } from '../helpers/errorText';

/** How the transport's failures read: the provider's refusal explained, what is uncertain said. */

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

/**
 * An answer that is not the provider's JSON (an HTML error page, truncated JSON, junk with a 200):
 * what came back, for the error, masked.
 */
export function unreadableAnswer(
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

export const cancelledError = (ctx: ApiContext, itemIndex: number): NodeOperationError =>
	new NodeOperationError(ctx.getNode(), 'The execution was cancelled', { itemIndex });

/** Says on an error that the refused or unanswered POST may still have been carried out (and billed). */
export function markUncertain(error: Error, provider: string): void {
	addToDescription(
		error,
		`The request may have reached ${provider} before it failed; the node did not send it again, so it cannot be billed twice. Check your tasks at ${provider} before running this item again.`,
	);
}

/** Says on a 1003/1004 error, after signing on the provider's clock did not help, how far off this host is. */
export function describeClock(error: Error, offsetMs: number): void {
	const seconds = Math.round(offsetMs / 1000);
	addToDescription(
		error,
		`This machine's clock is off by ${Math.abs(seconds)} s (${seconds >= 0 ? 'behind' : 'ahead of'} the API's, from its Date header); the node signed again on the API's time and was still refused. Set the clock right (NTP) on the machine running n8n.`,
	);
}

export const describeOutcome = (outcome: AttemptOutcome): string =>
	outcome.networkError
		? 'no reply'
		: outcome.code !== undefined
			? `code ${outcome.code}`
			: `HTTP ${outcome.httpStatus}`;
