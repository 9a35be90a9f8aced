import { createHmac, timingSafeEqual } from 'node:crypto';

/** Kling signs callbacks the Standard Webhooks way; a timestamp further off than this is refused. */
export const MAX_CLOCK_SKEW_SECONDS = 5 * 60;

export interface SignedDelivery {
	id?: string;
	timestamp?: string;
	/** `v1,<base64> [v1,<base64> ...]` (several while a secret rotates). */
	signature?: string;
	rawBody: Buffer | string;
}

/**
 * Checks a Standard Webhooks signature: base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")) with
 * the key being the secret's base64 after "whsec_". Returns why it fails, or undefined when valid.
 */
export function checkWebhookSignature(
	secret: string,
	delivery: SignedDelivery,
	nowSeconds: number,
): string | undefined {
	if (!delivery.id || !delivery.timestamp || !delivery.signature) {
		return 'the webhook-id, webhook-timestamp or webhook-signature header is missing';
	}
	const timestamp = Number(delivery.timestamp);
	if (
		!/^\d+$/.test(delivery.timestamp) ||
		Math.abs(nowSeconds - timestamp) > MAX_CLOCK_SKEW_SECONDS
	) {
		return 'the webhook-timestamp is more than 5 minutes off';
	}
	const key = Buffer.from(secret.trim().replace(/^whsec_/, ''), 'base64');
	const body = Buffer.isBuffer(delivery.rawBody) ? delivery.rawBody : Buffer.from(delivery.rawBody);
	const expected = createHmac('sha256', key)
		.update(Buffer.concat([Buffer.from(`${delivery.id}.${delivery.timestamp}.`), body]))
		.digest();
	const matches = delivery.signature.split(' ').some((entry) => {
		const [version, value] = entry.split(',');
		if (version !== 'v1' || !value) return false;
		const given = Buffer.from(value, 'base64');
		return given.length === expected.length && timingSafeEqual(given, expected);
	});
	return matches ? undefined : 'the webhook-signature does not match the secret';
}

/** Why a webhook secret cannot be Kling's, or undefined: "whsec_" and base64 of at least 16 bytes. */
export function checkWebhookSecretFormat(secret: string): string | undefined {
	const trimmed = secret.trim();
	if (!trimmed.startsWith('whsec_'))
		return "The webhook secret starts with whsec_ (copy it whole from Kling's console)";
	const body = trimmed.slice('whsec_'.length);
	if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body) || Buffer.from(body, 'base64').length < 16) {
		return 'After whsec_ the webhook secret is base64 of at least 16 bytes';
	}
	return undefined;
}
