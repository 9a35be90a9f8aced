/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
import { createReadStream, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';

import { KlingError } from './envelope';
import type { EmulatorState } from './state';

/** Media: bodies in, files out (no auth, like Kling's CDN links), and Kling's own fetch of a sound_file. */

export const FIXTURES_DIR = path.join(__dirname, '..', 'fixtures');
const RESULT_MP4 = readFileSync(path.join(FIXTURES_DIR, 'tiny.mp4'));
const FACE_PNG = readFileSync(path.join(FIXTURES_DIR, 'face.png'));

export function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		req.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size > limit) {
				reject(new KlingError(1200, 'Request body is too large'));
				req.destroy();
				return;
			}
			chunks.push(chunk);
		});
		req.on('end', () => resolve(Buffer.concat(chunks)));
		req.on('error', reject);
	});
}

/** Fetches a URL as Kling fetches a sound_file: following up to 3 redirects. */
export function download(url: string, limit: number, redirects = 3): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const client = url.startsWith('https:') ? https : http;
		const req = client.get(url, { timeout: 10000 }, (res) => {
			const location = res.headers.location;
			if (
				location &&
				(res.statusCode ?? 0) >= 300 &&
				(res.statusCode ?? 0) < 400 &&
				redirects > 0
			) {
				res.resume();
				download(new URL(location, url).toString(), limit, redirects - 1).then(resolve, reject);
				return;
			}
			if ((res.statusCode ?? 0) >= 300) {
				res.resume();
				reject(new Error(`HTTP ${res.statusCode}`));
				return;
			}
			const chunks: Buffer[] = [];
			let size = 0;
			res.on('data', (chunk: Buffer) => {
				size += chunk.length;
				if (size > limit) {
					req.destroy();
					reject(new Error('too large'));
					return;
				}
				chunks.push(chunk);
			});
			res.on('end', () => resolve(Buffer.concat(chunks)));
			res.on('error', reject);
		});
		req.on('timeout', () => req.destroy(new Error('timeout')));
		req.on('error', reject);
	});
}

/** A WAV of silence, for TTS results: real audio whose length the node can measure. */
export function silentWav(durationMs: number, sampleRate = 8000): Buffer {
	const samples = Math.round((durationMs / 1000) * sampleRate);
	const header = Buffer.alloc(44);
	header.write('RIFF', 0);
	header.writeUInt32LE(36 + samples, 4);
	header.write('WAVEfmt ', 8);
	header.writeUInt32LE(16, 16);
	header.writeUInt16LE(1, 20); // PCM
	header.writeUInt16LE(1, 22); // mono
	header.writeUInt32LE(sampleRate, 24);
	header.writeUInt32LE(sampleRate, 28); // byte rate: 8-bit mono
	header.writeUInt16LE(1, 32);
	header.writeUInt16LE(8, 34);
	header.write('data', 36);
	header.writeUInt32LE(samples, 40);
	return Buffer.concat([header, Buffer.alloc(samples, 128)]);
}

export function sendMp4(res: http.ServerResponse, size: number): void {
	const total = Math.max(size, RESULT_MP4.length);
	res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(total) });
	if (total === RESULT_MP4.length) {
		res.end(RESULT_MP4);
		return;
	}
	// Pad with one MP4 'free' box, streamed in chunks so a 200 MB result is never held in memory.
	const padding = total - RESULT_MP4.length;
	const boxHeader = Buffer.alloc(8);
	boxHeader.writeUInt32BE(padding, 0);
	boxHeader.write('free', 4);
	res.write(RESULT_MP4);
	res.write(boxHeader);
	let left = padding - 8;
	const chunk = Buffer.alloc(64 * 1024);
	const pump = (): void => {
		while (left > 0) {
			const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
			left -= part.length;
			if (!res.write(part)) {
				res.once('drain', pump);
				return;
			}
		}
		res.end();
	};
	pump();
}

/**
 * A file of any size (an MP3 frame header, then zeros), made as it is read and sent only as
 * fast as the reader takes it: what a reader that stops early leaves unread is never sent.
 */
export function sendLarge(s: EmulatorState, res: http.ServerResponse, size: number): void {
	res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': String(size) });
	const chunk = Buffer.alloc(64 * 1024);
	chunk.set([0xff, 0xfb, 0x90, 0x64]);
	let sent = 0;
	const pump = (): void => {
		while (sent < size && !res.destroyed) {
			const piece = chunk.subarray(0, Math.min(chunk.length, size - sent));
			sent += piece.length;
			s.stats.largeBytesSent += piece.length;
			if (!res.write(piece)) {
				res.once('drain', pump);
				return;
			}
		}
		if (sent >= size) res.end();
	};
	res.on('close', () => res.removeAllListeners('drain'));
	pump();
}

export function serveMedia(s: EmulatorState, url: URL, res: http.ServerResponse): boolean {
	const parts = url.pathname.split('/').filter(Boolean); // media, kind, ...
	const [, kind, first, second] = parts;
	if (kind === 'results') {
		const id = first?.replace(/(-watermark)?\.mp4$/, '');
		if (id) s.stats.videoDownloads[id] = (s.stats.videoDownloads[id] ?? 0) + 1;
		if (!id || s.tasks.get(id)?.status !== 'succeed') return false;
		sendMp4(res, s.startResultBytes ?? s.config.resultBytes ?? RESULT_MP4.length);
		return true;
	}
	if (kind === 'redirect') {
		// A link that moves: `/media/redirect?to=<url>` answers 302 to it (a hostile result URL's first hop).
		const to = url.searchParams.get('to');
		if (!to) return false;
		res.writeHead(302, { location: to });
		res.end();
		return true;
	}
	if (kind === 'faces' && s.sessions.has(first) && second) {
		res.writeHead(200, {
			'content-type': 'image/png',
			'content-length': String(FACE_PNG.length),
		});
		res.end(FACE_PNG);
		return true;
	}
	if (kind === 'audio') {
		const audio = s.audios.get(first?.replace(/\.wav$/, ''));
		if (!audio) return false;
		res.writeHead(200, {
			'content-type': 'audio/wav',
			'content-length': String(audio.wav.length),
		});
		res.end(audio.wav);
		return true;
	}
	if (kind === 'silence' && /^\d+\.wav$/.test(first ?? '')) {
		// A voice track of any length (a dub with silence where others speak): at most 60 s.
		const wav = silentWav(Math.min(60_000, Number(first.replace('.wav', ''))));
		res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': String(wav.length) });
		res.end(wav);
		return true;
	}
	if (kind === 'large' && /^\d+\.mp3$/.test(first ?? '')) {
		sendLarge(s, res, Number(first.replace('.mp3', '')));
		return true;
	}
	if (kind === 'videos' && first) {
		sendMp4(res, RESULT_MP4.length);
		return true;
	}
	if (kind === 'fixtures' && first && /^[\w.-]+$/.test(first)) {
		const file = path.join(FIXTURES_DIR, first);
		const stream = createReadStream(file);
		stream.on('error', () => {
			res.writeHead(404).end();
		});
		stream.once('open', () => res.writeHead(200));
		stream.pipe(res);
		return true;
	}
	return false;
}
