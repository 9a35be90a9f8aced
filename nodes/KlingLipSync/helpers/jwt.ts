import { createHmac } from 'node:crypto';

const base64url = (input: string | Buffer): string => Buffer.from(input).toString('base64url');

/** Lifetime Kling's docs use for a token; it is signed anew for every request anyway. */
export const TOKEN_LIFETIME_SECONDS = 1800;
/** Kling's docs backdate nbf by 5 s so a slightly fast server clock still accepts the token. */
export const NOT_BEFORE_SKEW_SECONDS = 5;

/** The HS256 JWT Kling expects for Access Key + Secret Key auth (its Access Key + Secret Key mode). */
export function signKlingJwt(accessKey: string, secretKey: string, nowMs: number): string {
	const now = Math.floor(nowMs / 1000);
	const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
	const payload = base64url(
		JSON.stringify({
			iss: accessKey,
			exp: now + TOKEN_LIFETIME_SECONDS,
			nbf: now - NOT_BEFORE_SKEW_SECONDS,
		}),
	);
	const signature = createHmac('sha256', secretKey)
		.update(`${header}.${payload}`)
		.digest('base64url');
	return `${header}.${payload}.${signature}`;
}
