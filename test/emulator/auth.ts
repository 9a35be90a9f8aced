import { createHmac, timingSafeEqual } from 'node:crypto';

import { KlingError } from './envelope';

export interface AuthConfig {
	apiKeys: string[];
	/** Access Key -> Secret Key */
	accessKeys: Record<string, string>;
}

const decodeJson = (part: string): Record<string, unknown> | undefined => {
	try {
		const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
		return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
	} catch {
		return undefined;
	}
};

/**
 * Checks an Authorization header as Kling does: a static API key, or an HS256 JWT whose iss is an
 * Access Key, signed with its Secret Key, inside its nbf..exp window. Throws 1000-1004.
 */
export function authenticate(header: string | undefined, config: AuthConfig, nowMs: number): void {
	if (!header || !header.trim()) throw new KlingError(1001);
	const match = /^Bearer\s+(\S+)$/.exec(header.trim());
	if (!match) throw new KlingError(1002, 'Authorization must be "Bearer <token>"');
	const token = match[1];
	if (config.apiKeys.includes(token)) return;

	const parts = token.split('.');
	if (parts.length !== 3) throw new KlingError(1002);
	const head = decodeJson(parts[0]);
	const payload = decodeJson(parts[1]);
	if (!head || !payload || head.alg !== 'HS256') throw new KlingError(1002);
	const secret = typeof payload.iss === 'string' ? config.accessKeys[payload.iss] : undefined;
	if (secret === undefined)
		throw new KlingError(1002, 'Authorization is invalid: unknown access key');

	const expected = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
	const given = Buffer.from(parts[2], 'base64url');
	if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
		throw new KlingError(1000, 'Authentication failed: signature does not match');
	}
	const nowSeconds = Math.floor(nowMs / 1000);
	if (typeof payload.exp !== 'number')
		throw new KlingError(1002, 'Authorization is invalid: exp missing');
	if (typeof payload.nbf === 'number' && payload.nbf > nowSeconds) throw new KlingError(1003);
	if (payload.exp <= nowSeconds) throw new KlingError(1004);
}
