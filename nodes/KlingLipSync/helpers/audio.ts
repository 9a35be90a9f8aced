/**
 * Audio format detection and duration measurement from the file's own bytes.
 * Pure functions: no I/O, so the node (before a billed call) and the emulator (as Kling would)
 * judge the same file the same way, and both are unit-tested on real fixtures.
 */

export type AudioFormat = 'mp3' | 'wav' | 'm4a' | 'aac';

export const AUDIO_MIME_TYPES: Record<AudioFormat, string> = {
	mp3: 'audio/mpeg',
	wav: 'audio/wav',
	m4a: 'audio/mp4',
	aac: 'audio/aac',
};

export interface AudioInfo {
	format: AudioFormat;
	durationMs: number;
}

const ascii = (bytes: Uint8Array, start: number, length: number): string =>
	String.fromCharCode(...bytes.subarray(start, start + length));

const u32be = (b: Uint8Array, o: number): number =>
	((b[o] << 24) >>> 0) + (b[o + 1] << 16) + (b[o + 2] << 8) + b[o + 3];

const u32le = (b: Uint8Array, o: number): number =>
	b[o] + (b[o + 1] << 8) + (b[o + 2] << 16) + ((b[o + 3] << 24) >>> 0);

/** Length of a leading ID3v2 tag (MP3 and ADTS files may carry one), 0 when there is none. */
function id3v2Length(b: Uint8Array): number {
	if (b.length < 10 || ascii(b, 0, 3) !== 'ID3') return 0;
	const size = ((b[6] & 0x7f) << 21) | ((b[7] & 0x7f) << 14) | ((b[8] & 0x7f) << 7) | (b[9] & 0x7f);
	const hasFooter = (b[5] & 0x10) !== 0;
	return 10 + size + (hasFooter ? 10 : 0);
}

const isAdtsSync = (b: Uint8Array, o: number): boolean =>
	o + 7 <= b.length && b[o] === 0xff && (b[o + 1] & 0xf6) === 0xf0;

const isMpegAudioSync = (b: Uint8Array, o: number): boolean =>
	o + 4 <= b.length && b[o] === 0xff && (b[o + 1] & 0xe0) === 0xe0 && (b[o + 1] & 0x06) !== 0;

/** Recognises the four formats Kling accepts by their magic bytes, never by a file name. */
export function detectAudioFormat(bytes: Uint8Array): AudioFormat | undefined {
	if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WAVE')
		return 'wav';
	if (bytes.length >= 12 && ascii(bytes, 4, 4) === 'ftyp') return 'm4a';
	const start = id3v2Length(bytes);
	if (isAdtsSync(bytes, start)) return 'aac';
	if (isMpegAudioSync(bytes, start)) return 'mp3';
	return undefined;
}

function wavDurationMs(b: Uint8Array): number | undefined {
	let offset = 12;
	let byteRate: number | undefined;
	while (offset + 8 <= b.length) {
		const id = ascii(b, offset, 4);
		const size = u32le(b, offset + 4);
		const body = offset + 8;
		if (id === 'fmt ' && body + 12 <= b.length) byteRate = u32le(b, body + 8);
		if (id === 'data') {
			if (!byteRate) return undefined;
			// Streamed WAVs may declare 0 or 0xFFFFFFFF: trust the bytes actually present then.
			const available = b.length - body;
			const dataSize = size === 0 || size > available ? available : size;
			return (dataSize / byteRate) * 1000;
		}
		offset = body + size + (size % 2);
	}
	return undefined;
}

const MPEG1_L3_KBPS = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const MPEG2_L3_KBPS = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const MPEG_SAMPLE_RATES: Record<number, number[]> = {
	3: [44100, 48000, 32000], // MPEG 1
	2: [22050, 24000, 16000], // MPEG 2
	0: [11025, 12000, 8000], // MPEG 2.5
};

interface MpegFrame {
	sampleRate: number;
	samples: number;
	length: number;
	sideInfoLength: number;
}

function readMpegFrame(b: Uint8Array, o: number): MpegFrame | undefined {
	if (!isMpegAudioSync(b, o)) return undefined;
	const version = (b[o + 1] >> 3) & 0x03;
	const layer = (b[o + 1] >> 1) & 0x03;
	if (version === 1 || layer !== 1) return undefined; // reserved version, or not Layer III
	const bitrateIndex = b[o + 2] >> 4;
	const rateIndex = (b[o + 2] >> 2) & 0x03;
	if (bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return undefined;
	const isMpeg1 = version === 3;
	const kbps = (isMpeg1 ? MPEG1_L3_KBPS : MPEG2_L3_KBPS)[bitrateIndex];
	const sampleRate = MPEG_SAMPLE_RATES[version][rateIndex];
	const padding = (b[o + 2] >> 1) & 0x01;
	const mono = b[o + 3] >> 6 === 3;
	const length = Math.floor(((isMpeg1 ? 144 : 72) * kbps * 1000) / sampleRate) + padding;
	const sideInfoLength = isMpeg1 ? (mono ? 17 : 32) : mono ? 9 : 17;
	return { sampleRate, samples: isMpeg1 ? 1152 : 576, length, sideInfoLength };
}

function mp3DurationMs(b: Uint8Array): number | undefined {
	let offset = id3v2Length(b);
	const first = readMpegFrame(b, offset);
	if (!first) return undefined;
	// A Xing/Info (or VBRI) header in the first frame states the frame count: use it when present.
	const xing = offset + 4 + first.sideInfoLength;
	const tag = ascii(b, xing, 4);
	if ((tag === 'Xing' || tag === 'Info') && (b[xing + 7] & 0x01) !== 0) {
		return (u32be(b, xing + 8) * first.samples * 1000) / first.sampleRate;
	}
	if (ascii(b, offset + 36, 4) === 'VBRI') {
		return (u32be(b, offset + 36 + 14) * first.samples * 1000) / first.sampleRate;
	}
	let frames = 0;
	let frame: MpegFrame | undefined = first;
	while (frame && frame.length > 0) {
		frames++;
		offset += frame.length;
		frame = readMpegFrame(b, offset);
	}
	return (frames * first.samples * 1000) / first.sampleRate;
}

/** MP4/M4A: the movie header (moov/mvhd) states duration and timescale. */
function m4aDurationMs(b: Uint8Array): number | undefined {
	const findBox = (type: string, from: number, to: number): [number, number] | undefined => {
		let o = from;
		while (o + 8 <= to) {
			let size = u32be(b, o);
			let header = 8;
			if (size === 1 && o + 16 <= to) {
				size = u32be(b, o + 8) * 2 ** 32 + u32be(b, o + 12);
				header = 16;
			} else if (size === 0) {
				size = to - o;
			}
			if (size < header) return undefined;
			if (ascii(b, o + 4, 4) === type) return [o + header, Math.min(o + size, to)];
			o += size;
		}
		return undefined;
	};
	const moov = findBox('moov', 0, b.length);
	const mvhd = moov && findBox('mvhd', moov[0], moov[1]);
	if (!mvhd) return undefined;
	const [o] = mvhd;
	const version = b[o];
	const timescale = version === 1 ? u32be(b, o + 20) : u32be(b, o + 12);
	const duration = version === 1 ? u32be(b, o + 24) * 2 ** 32 + u32be(b, o + 28) : u32be(b, o + 16);
	return timescale ? (duration * 1000) / timescale : undefined;
}

const ADTS_SAMPLE_RATES = [
	96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/** ADTS AAC has no global header: count the samples frame by frame. */
function aacDurationMs(b: Uint8Array): number | undefined {
	let offset = id3v2Length(b);
	let samples = 0;
	let sampleRate = 0;
	while (isAdtsSync(b, offset)) {
		const rate = ADTS_SAMPLE_RATES[(b[offset + 2] >> 2) & 0x0f];
		const length = ((b[offset + 3] & 0x03) << 11) | (b[offset + 4] << 3) | (b[offset + 5] >> 5);
		if (!rate || length < 7) break;
		sampleRate = rate;
		samples += ((b[offset + 6] & 0x03) + 1) * 1024;
		offset += length;
	}
	return sampleRate ? (samples * 1000) / sampleRate : undefined;
}

const DURATION_READERS: Record<AudioFormat, (b: Uint8Array) => number | undefined> = {
	wav: wavDurationMs,
	mp3: mp3DurationMs,
	m4a: m4aDurationMs,
	aac: aacDurationMs,
};

/**
 * Format and duration (whole milliseconds, rounded down so a crop end never exceeds the file),
 * or the reason the bytes are not usable audio.
 */
export function inspectAudio(bytes: Uint8Array): AudioInfo | { error: string } {
	const format = detectAudioFormat(bytes);
	if (!format) return { error: 'is not MP3, WAV, M4A or AAC audio (checked by its content)' };
	const duration = DURATION_READERS[format](bytes);
	if (duration === undefined || !Number.isFinite(duration) || duration <= 0) {
		return { error: `looks like ${format.toUpperCase()} but its duration could not be read` };
	}
	return { format, durationMs: Math.floor(duration) };
}
