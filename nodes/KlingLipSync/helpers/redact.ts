/**
 * Text taken from a provider's answer may echo what the request carried (a proxy that repeats the
 * Authorization header in its error): it is masked before it reaches an error, execution data or a
 * log. Known secret values are masked wherever they appear, and so is any bearer token or JWT.
 */
const MASK = '***';
const BEARER = /\b(Bearer)\s+[A-Za-z0-9\-._~+/]+=*/gi;
const JWT = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;
/** Shorter values are not masked: they would mask ordinary words. */
const MIN_SECRET_LENGTH = 6;

export function maskSecrets(text: string, secrets: readonly string[]): string {
	let masked = text;
	for (const secret of secrets) {
		if (secret.length >= MIN_SECRET_LENGTH) masked = masked.split(secret).join(MASK);
	}
	return masked.replace(BEARER, `$1 ${MASK}`).replace(JWT, MASK);
}

/** The first characters of an answer that is not the provider's JSON, on one line and masked. */
export function answerExcerpt(body: unknown, secrets: readonly string[], length = 120): string {
	const text = Buffer.isBuffer(body)
		? body.toString('utf8')
		: typeof body === 'string'
			? body
			: body === undefined
				? ''
				: JSON.stringify(body);
	const line = text.replace(/\s+/g, ' ').trim();
	if (line === '') return '(an empty body)';
	const excerpt = maskSecrets(line.slice(0, length * 2), secrets).slice(0, length);
	return `"${excerpt}${line.length > length ? '...' : ''}"`;
}
