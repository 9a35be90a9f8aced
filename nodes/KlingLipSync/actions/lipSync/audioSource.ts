import type { IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { inspectAudio } from '../../helpers/audio';
import { checkAudioLength, checkAudioSize, checkHttpUrl, checkId } from '../../helpers/validation';
import { downloadBytes } from '../../transport';
import { failOn } from './params';

export const AUDIO_SOURCES = ['url', 'binary', 'base64', 'audioId'] as const;
export type AudioSourceKind = (typeof AUDIO_SOURCES)[number];

/** What Lip Sync sends as audio, and the audio's length when the node could measure it. */
export interface ResolvedAudio {
	audioId?: string;
	soundFile?: string;
	durationMs?: number;
}

/** Kling wants raw base64: a data: URL's prefix and any line breaks are removed for the user. */
export function normaliseBase64(text: string): string {
	return text.replace(/^data:[^,]*,/, '').replace(/\s+/g, '');
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Reads the chosen audio, checks format (by content), size and length against Kling's rules, and
 * returns what to send. URLs are sent as URLs (Kling downloads them) but measured here first.
 */
export async function resolveAudio(this: IExecuteFunctions, itemIndex: number, kind: AudioSourceKind): Promise<ResolvedAudio> {
	const check = (label: string, bytes: Buffer): number => {
		failOn.call(this, itemIndex, checkAudioSize(label, bytes.length));
		const info = inspectAudio(bytes);
		if ('error' in info) failOn.call(this, itemIndex, `${label} ${info.error}`);
		const durationMs = (info as { durationMs: number }).durationMs;
		failOn.call(this, itemIndex, checkAudioLength(label, durationMs));
		return durationMs;
	};

	if (!AUDIO_SOURCES.includes(kind)) {
		failOn.call(this, itemIndex, `Audio Source must be one of url, binary, base64 or audioId (got "${String(kind).slice(0, 40)}")`);
	}
	if (kind === 'audioId') {
		const audioId = this.getNodeParameter('audioId', itemIndex) as unknown;
		failOn.call(this, itemIndex, checkId('Audio ID', audioId));
		return { audioId: (audioId as string).trim() };
	}
	if (kind === 'url') {
		const raw = this.getNodeParameter('audioUrl', itemIndex) as unknown;
		failOn.call(this, itemIndex, checkHttpUrl('Audio URL', raw));
		const url = (raw as string).trim();
		let bytes: Buffer;
		try {
			bytes = await downloadBytes(this, url);
		} catch (error) {
			// The reason goes in the description: n8n rewrites messages that contain network error codes.
			throw new NodeOperationError(this.getNode(), 'Audio URL could not be downloaded', {
				itemIndex,
				description: `${(error as Error).message}. The node measures the audio before creating a task; Kling must be able to download the same URL.`,
			});
		}
		return { soundFile: url, durationMs: check('Audio URL', bytes) };
	}
	if (kind === 'binary') {
		const property = this.getNodeParameter('audioBinaryPropertyName', itemIndex) as string;
		this.helpers.assertBinaryData(itemIndex, property);
		const bytes = await this.helpers.getBinaryDataBuffer(itemIndex, property);
		const label = `Audio in binary field "${property}"`;
		return { soundFile: bytes.toString('base64'), durationMs: check(label, bytes) };
	}
	const raw = this.getNodeParameter('audioBase64', itemIndex) as unknown;
	if (typeof raw !== 'string' || raw.trim() === '') failOn.call(this, itemIndex, 'Audio (Base64) is required');
	const text = normaliseBase64(raw as string);
	if (!BASE64.test(text) || text.length % 4 !== 0) {
		failOn.call(this, itemIndex, 'Audio (Base64) is not valid base64 (only A-Z, a-z, 0-9, +, / and = padding)');
	}
	return { soundFile: text, durationMs: check('Audio (Base64)', Buffer.from(text, 'base64')) };
}
