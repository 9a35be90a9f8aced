/** Kling's business codes and the HTTP status each travels with (kling-api.md, "Envelope and errors"). */
export const HTTP_STATUS_BY_CODE: Record<number, number> = {
	1000: 401,
	1001: 401,
	1002: 401,
	1003: 401,
	1004: 401,
	1100: 429,
	1101: 429,
	1102: 429,
	1103: 403,
	1200: 400,
	1201: 400,
	1202: 404,
	1203: 404,
	1300: 400,
	1301: 400,
	1302: 429,
	1303: 429,
	1304: 429,
	5000: 500,
	5001: 503,
	5002: 504,
};

export const DEFAULT_MESSAGES: Record<number, string> = {
	1000: 'Authentication failed',
	1001: 'Authorization is empty',
	1002: 'Authorization is invalid',
	1003: 'Authorization is not yet valid',
	1004: 'Authorization has expired',
	1100: 'Account exception',
	1101: 'Account in arrears',
	1102: 'Resource pack depleted or expired',
	1103: 'Unauthorized access to requested resource',
	1200: 'Invalid request parameters',
	1201: 'Invalid parameters',
	1202: 'The requested method is invalid',
	1203: 'The requested resource does not exist',
	1300: 'Trigger strategy of the platform',
	1301: 'Trigger the content security policy of the platform',
	1302: 'The API request is too fast, exceeding the platform rate limit',
	1303: 'Concurrency or QPS exceeds the prepaid resource package limit',
	1304: 'Trigger the IP whitelisting policy of the platform',
	5000: 'Server internal error',
	5001: 'Server temporarily unavailable, usually due to maintenance',
	5002: 'Server internal timeout, usually due to a backlog',
};

/** A business error: thrown by the emulator's handlers and turned into the documented envelope. */
export class KlingError extends Error {
	readonly httpStatus: number;

	constructor(
		readonly code: number,
		message?: string,
	) {
		super(message ?? DEFAULT_MESSAGES[code] ?? 'Error');
		this.httpStatus = HTTP_STATUS_BY_CODE[code] ?? 500;
	}
}

/** Shorthand for the most common failure: HTTP 400, code 1201, a message naming the field. */
export const invalidParameter = (message: string): KlingError => new KlingError(1201, message);
