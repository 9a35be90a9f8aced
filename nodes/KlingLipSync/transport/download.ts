import type { IBinaryData } from 'n8n-workflow';

import { KLING_CREDENTIAL_TYPE } from '../helpers/constants';
import { hostOf, internalOrigin, mediaUrlProblem } from '../helpers/mediaUrl';
import { answerExcerpt } from '../helpers/redact';
import { resolveBaseUrl, type ApiContext, type RunContext } from './context';

/**
 * Downloads of media: result videos a provider's answer points at (untrusted: checked, bounded and
 * sniffed) and audio the user names (their own input: only where its redirects lead is checked).
 * Redirects are followed here, one hop at a time, so each hop is checked before it is fetched.
 */

const DOWNLOAD_TIMEOUT_MS = 120_000;
const MAX_REDIRECTS = 5;

/** A download that passed its size limit: it was stopped there, nothing more was read. */
export class DownloadTooLargeError extends Error {
	constructor(readonly limitBytes: number) {
		super(`the file is larger than ${limitBytes} bytes; the download was stopped there`);
		this.name = 'DownloadTooLargeError';
	}
}

type ByteStream = AsyncIterable<Buffer | Uint8Array> & {
	destroy(error?: Error): void;
	on(event: 'data', listener: (chunk: Buffer) => void): void;
	on(event: 'end', listener: () => void): void;
	on(event: 'newListener', listener: (event: string | symbol) => void): void;
};
type BinarySource = Parameters<RunContext['helpers']['prepareBinaryData']>[0];

interface Opened {
	stream: ByteStream;
	contentType: string;
}

/** Which hops of a download are checked, and which internal origin may serve all the same. */
interface FetchPolicy {
	checkFirst: boolean;
	checkRedirects: boolean;
	allowedOrigin?: string;
}

const header = (headers: Record<string, unknown> | undefined, name: string): string | undefined => {
	const value = headers?.[name];
	return typeof value === 'string'
		? value
		: Array.isArray(value) && typeof value[0] === 'string'
			? value[0]
			: undefined;
};

/** The credential's base URL's origin when it is internal (a local test server): media may come from there. */
async function credentialOrigin(ctx: ApiContext): Promise<string | undefined> {
	try {
		return internalOrigin(resolveBaseUrl(await ctx.getCredentials(KLING_CREDENTIAL_TYPE, 0)));
	} catch {
		// A trigger that verifies signatures has no API credential: nothing internal is allowed.
		return undefined;
	}
}

/** Opens a GET, following up to 5 redirects, each checked before it is fetched. */
async function open(ctx: ApiContext, url: string, policy: FetchPolicy): Promise<Opened> {
	let current = url;
	for (let hop = 0; ; hop++) {
		if (hop > 0 ? policy.checkRedirects : policy.checkFirst) {
			const problem = mediaUrlProblem(current, policy.allowedOrigin);
			if (problem)
				throw new Error(
					`refused to fetch from ${hostOf(current)}${hop > 0 ? ' (a redirect)' : ''}: ${problem}`,
				);
		}
		const response = (await ctx.helpers.httpRequest({
			method: 'GET',
			url: current,
			encoding: 'stream',
			timeout: DOWNLOAD_TIMEOUT_MS,
			disableFollowRedirect: true,
			returnFullResponse: true,
			ignoreHttpStatusErrors: true,
		})) as { statusCode: number; headers?: Record<string, unknown>; body: ByteStream };
		const location = header(response.headers, 'location');
		if (response.statusCode >= 300 && response.statusCode < 400 && location) {
			response.body.destroy();
			if (hop >= MAX_REDIRECTS)
				throw new Error(`more than ${MAX_REDIRECTS} redirects from ${hostOf(url)}`);
			current = new URL(location, current).toString();
			continue;
		}
		if (response.statusCode < 200 || response.statusCode >= 300) {
			response.body.destroy();
			throw new Error(`${hostOf(current)} answered HTTP ${response.statusCode}`);
		}
		return {
			stream: response.body,
			contentType: header(response.headers, 'content-type') ?? 'none',
		};
	}
}

/** Whether bytes start as an MP4/MOV does: a box whose type, at offset 4, is `ftyp`. */
const looksLikeVideo = (head: Buffer): boolean =>
	head.length >= 8 && head.toString('latin1', 4, 8) === 'ftyp';

/**
 * Downloads a result video (from a provider's answer: untrusted) as a stream straight into n8n's
 * binary data store, so it is never held whole in memory: only over http(s), never from an
 * internal address (unless the credential's own base URL is one, for its origin), stopped at
 * `limitBytes`, and refused unless it starts as an MP4/MOV does.
 */
export async function downloadToBinary(
	ctx: RunContext,
	url: string,
	fileName: string,
	mimeType: string,
	limitBytes: number,
): Promise<IBinaryData> {
	const { stream, contentType } = await open(ctx, url, {
		checkFirst: true,
		checkRedirects: true,
		allowedOrigin: await credentialOrigin(ctx),
	});
	let problem: Error | undefined;
	let size = 0;
	let head = Buffer.alloc(0);
	const stop = (error: Error): void => {
		problem ??= error;
		stream.destroy(error);
	};
	// Watched from the moment the store starts reading it (a listener of ours before then would set
	// the stream flowing while nobody stores it): every chunk the store reads passes here too.
	let watching = false;
	const watch = (): void => {
		watching = true;
		stream.on('data', (chunk) => {
			size += chunk.length;
			if (head.length < 8) {
				head = Buffer.concat([head, Buffer.from(chunk)]).subarray(0, 64);
				if (head.length >= 8 && !looksLikeVideo(head)) stop(notAVideo(contentType, head));
			}
			if (size > limitBytes) stop(new DownloadTooLargeError(limitBytes));
		});
	};
	stream.on('newListener', (event) => {
		if (!watching && (event === 'data' || event === 'readable')) watch();
	});
	stream.on('end', () => {
		if (!looksLikeVideo(head)) problem ??= notAVideo(contentType, head);
	});
	let binary: IBinaryData;
	try {
		binary = await ctx.helpers.prepareBinaryData(
			stream as unknown as BinarySource,
			fileName,
			mimeType,
		);
	} catch (error) {
		throw problem ?? error;
	}
	if (problem) throw problem;
	return binary;
}

const notAVideo = (contentType: string, head: Buffer): Error =>
	new Error(
		`what came back is not an MP4/MOV video (content type ${contentType}, it starts with ${answerExcerpt(head.toString('latin1').replace(/[^\x20-\x7e]/g, '.'), [], 32)})`,
	);

/**
 * Downloads a small file the user named (the audio to measure) into memory, reading at most
 * `limitBytes`. The URL is the user's own, so it is not checked; a redirect from a public URL to
 * an internal address is refused (unless the first URL was internal itself).
 */
export async function downloadBytes(
	ctx: ApiContext,
	url: string,
	limitBytes: number,
): Promise<Buffer> {
	const firstIsInternal = mediaUrlProblem(url) !== undefined;
	const { stream } = await open(ctx, url, {
		checkFirst: false,
		checkRedirects: !firstIsInternal,
		allowedOrigin: await credentialOrigin(ctx),
	});
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of stream) {
		size += chunk.length;
		if (size > limitBytes) {
			stream.destroy();
			throw new DownloadTooLargeError(limitBytes);
		}
		chunks.push(Buffer.from(chunk));
	}
	return Buffer.concat(chunks, size);
}
