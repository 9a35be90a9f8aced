import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * What the node leaves in a callback URL for its own resume webhook to act on (the tasks a run
 * waits for, a dialogue's later steps) is signed with a key from the credential and bound to the
 * execution that waits: an edited URL, or one execution's values under another's resume URL, is
 * refused before anything is read or made.
 */
export const SIGNATURE_QUERY_PARAM = 'kling_sig';

export const signUrlValues = (key: Buffer, executionId: string, values: string[]): string =>
	createHmac('sha256', key)
		.update([`execution ${executionId}`, ...values].join('\n'))
		.digest('base64url')
		.slice(0, 32);

/** Whether `signature` signs exactly these values for this execution (never throws). */
export function urlSignatureHolds(
	key: Buffer,
	executionId: string,
	values: unknown[],
	signature: unknown,
): boolean {
	if (
		typeof signature !== 'string' ||
		!values.every((value): value is string => typeof value === 'string')
	)
		return false;
	const expected = Buffer.from(signUrlValues(key, executionId, values));
	const given = Buffer.from(signature);
	return given.length === expected.length && timingSafeEqual(given, expected);
}
