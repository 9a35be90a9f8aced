/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { detectAudioFormat, inspectAudio } from '../../nodes/KlingLipSync/helpers/audio';
import { FIXTURES_DIR, silentWav } from '../emulator/server';

const fixture = (name: string): Buffer => readFileSync(path.join(FIXTURES_DIR, name));

describe('audio helpers', () => {
	// Expected lengths: WAV exact; MP3 from its LAME Info header (ffprobe says 3.096 s including the
	// encoder's padding); M4A from mvhd (ffprobe 3.000 s); ADTS AAC by counting frames.
	it.each([
		['tone-3s.wav', 'wav', 3000, 3000],
		['tone-1500ms.wav', 'wav', 1500, 1500],
		['tone-3s.mp3', 'mp3', 3000, 3100],
		['tone-3s.m4a', 'm4a', 3000, 3100],
		['tone-3s.aac', 'aac', 3000, 3100],
	])('measures %s as %s of %d-%d ms', (name, format, min, max) => {
		const info = inspectAudio(fixture(name));
		if ('error' in info) throw new Error(info.error);
		expect(info.format).toBe(format);
		expect(info.durationMs).toBeGreaterThanOrEqual(min);
		expect(info.durationMs).toBeLessThanOrEqual(max);
	});

	it('measures generated WAVs exactly, at any length', () => {
		for (const ms of [2000, 12345, 60000]) {
			expect(inspectAudio(silentWav(ms))).toEqual({ format: 'wav', durationMs: ms });
		}
	});

	it('counts MP3 frames when there is no Info header', () => {
		const mp3 = fixture('tone-3s.mp3');
		const id3 = 10 + ((mp3[6] << 21) | (mp3[7] << 14) | (mp3[8] << 7) | mp3[9]);
		// Remove the first (Info) frame: the rest must still measure about 3 s by walking frames.
		const secondFrame = mp3.indexOf(mp3.subarray(id3, id3 + 2), id3 + 4);
		const stripped = Buffer.concat([mp3.subarray(0, id3), mp3.subarray(secondFrame)]);
		const info = inspectAudio(stripped);
		expect(info).toEqual({ format: 'mp3', durationMs: expect.any(Number) });
		if ('durationMs' in info) expect(Math.abs(info.durationMs - 3096)).toBeLessThan(150);
	});

	it.each([
		['a PNG', () => fixture('face.png'), /is not MP3, WAV, M4A or AAC/],
		[
			'an MP4 video without moov',
			() => Buffer.from('0000000c667479706d703432', 'hex'),
			/duration could not be read/,
		],
		['empty bytes', () => Buffer.alloc(0), /is not MP3/],
		['text', () => Buffer.from('hello world, not audio'), /is not MP3/],
		[
			'a WAV header without data',
			() => silentWav(1000).subarray(0, 36),
			/duration could not be read/,
		],
	])('rejects %s', (_name, bytes, pattern) => {
		const info = inspectAudio(bytes());
		expect('error' in info && info.error).toMatch(pattern);
	});

	it('detects formats by content, not by name', () => {
		expect(detectAudioFormat(fixture('tone-3s.aac'))).toBe('aac');
		expect(detectAudioFormat(fixture('tone-3s.mp3'))).toBe('mp3');
		expect(detectAudioFormat(fixture('tiny.mp4'))).toBe('m4a'); // an MP4 container; Kling decides on its audio
	});
});
