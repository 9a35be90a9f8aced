import { createHmac } from 'node:crypto';

/** Standard Webhooks signature, as Kling signs callbacks: v1,base64(HMAC(secret, id.ts.body)). */
export function signWebhook(
	secret: string,
	id: string,
	timestampSeconds: number,
	body: string,
): string {
	const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
	const digest = createHmac('sha256', key)
		.update(`${id}.${timestampSeconds}.${body}`)
		.digest('base64');
	return `v1,${digest}`;
}
