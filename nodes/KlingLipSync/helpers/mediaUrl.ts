/**
 * Where the node may fetch a file that a provider's answer (or a redirect) points at. A provider
 * is a third party (a reseller, or anyone in the middle of a plain-http base URL): a result URL
 * that names this machine, the local network or a cloud's metadata service would make n8n fetch
 * an internal page and store it as a video. Only http(s) to public addresses is fetched, and to
 * the credential's own base URL's origin when that is internal (a local test server).
 *
 * The node checks the host as written (names and every IP notation the URL parser accepts); it
 * cannot resolve names itself (a community node may not use node:dns), so a public name that
 * resolves to an internal address is left to n8n's own SSRF protection
 * (N8N_SSRF_PROTECTION_ENABLED), which resolves once and connects to the address it checked.
 */

/** Names that always mean this machine, the local network or a metadata service. */
const INTERNAL_NAMES = [
	/^localhost$/,
	/\.localhost$/,
	/\.local$/,
	/\.internal$/,
	/\.intranet$/,
	/\.lan$/,
	/\.home\.arpa$/,
	/^instance-data$/,
];

const ipv4 = (host: string): number[] | undefined => {
	const parts = host.split('.');
	if (parts.length !== 4 || !parts.every((part) => /^\d{1,3}$/.test(part))) return undefined;
	const bytes = parts.map(Number);
	return bytes.every((byte) => byte <= 255) ? bytes : undefined;
};

/** Why an IPv4 address is not public, or undefined. */
function ipv4Problem([a, b]: number[]): string | undefined {
	if (a === 127) return 'a loopback address';
	if (a === 0) return 'a "this network" address';
	if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168))
		return 'a private address';
	if (a === 169 && b === 254) return 'a link-local address (cloud metadata services live there)';
	if (a === 100 && b >= 64 && b <= 127) return 'a carrier-grade NAT address';
	if (a === 198 && (b === 18 || b === 19)) return 'a benchmarking network address';
	if (a >= 224) return 'a multicast or reserved address';
	return undefined;
}

/** Why an IPv6 address (as the URL parser writes it, without brackets) is not public, or undefined. */
function ipv6Problem(host: string): string | undefined {
	const address = host.toLowerCase();
	if (address === '::1' || address === '::') return 'a loopback address';
	// IPv4-mapped and -translated forms carry an IPv4 address in their last 32 bits.
	const mapped = /^::ffff:(?:0:)?([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(address);
	if (mapped) {
		const high = parseInt(mapped[1], 16);
		const low = parseInt(mapped[2], 16);
		return ipv4Problem([high >> 8, high & 255, low >> 8, low & 255]) ?? undefined;
	}
	if (/^f[cd]/.test(address)) return 'a private (unique local) address';
	if (/^fe[89ab]/.test(address)) return 'a link-local address';
	if (/^ff/.test(address)) return 'a multicast address';
	return undefined;
}

/** Why a URL's host is internal (this machine, a private network, a metadata service), or undefined when public. */
export function internalHostProblem(hostname: string): string | undefined {
	const host = hostname
		.replace(/^\[|\]$/g, '')
		.replace(/\.$/, '')
		.toLowerCase();
	if (host.includes(':')) return ipv6Problem(host);
	const bytes = ipv4(host);
	if (bytes) return ipv4Problem(bytes);
	if (INTERNAL_NAMES.some((name) => name.test(host))) return 'a local or internal name';
	// A name without a dot resolves through the local search domains: an internal host.
	if (!host.includes('.')) return 'a single-label (local network) name';
	return undefined;
}

/** Whether a base URL is an internal one (a local test server): its origin may then serve media. */
export function internalOrigin(baseUrl: string): string | undefined {
	try {
		const url = new URL(baseUrl);
		return internalHostProblem(url.hostname) ? url.origin : undefined;
	} catch {
		return undefined;
	}
}

/**
 * Why the node will not fetch this URL, or undefined when it may. `allowedOrigin`: an internal
 * origin that may be fetched all the same (the credential's own base URL's).
 */
export function mediaUrlProblem(text: string, allowedOrigin?: string): string | undefined {
	let url: URL;
	try {
		url = new URL(text);
	} catch {
		return 'it is not a URL';
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:')
		return `it is not http(s) (${url.protocol})`;
	if (url.username || url.password) return 'it carries a user name or password';
	if (allowedOrigin !== undefined && url.origin === allowedOrigin) return undefined;
	const problem = internalHostProblem(url.hostname);
	return problem ? `its host ${url.hostname} is ${problem}` : undefined;
}

/** The host a URL names, for messages (never its path or query, which may hold tokens). */
export function hostOf(text: string): string {
	try {
		return new URL(text).host;
	} catch {
		return text.slice(0, 40);
	}
}
