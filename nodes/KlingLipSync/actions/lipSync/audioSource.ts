import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { inspectAudio } from '../../helpers/audio';
import { audioFingerprint } from '../../helpers/externalId';
import { checkAudioLength, checkAudioSize, checkHttpUrl, checkId } from '../../helpers/validation';
import { downloadBytes } from '../../transport';
import { failOn } from './params';

/** The audio parameters, shared by Lip Sync and Lip Sync Video. */
export const audioSourceFields: INodeProperties[] = [
	{
		displayName: 'Audio Source',
		name: 'audioSource',
		type: 'options',
		options: [
			{ name: 'URL', value: 'url', description: 'A public link to an MP3, WAV, M4A or AAC file' },
			{ name: 'Binary File', value: 'binary', description: 'Audio in a binary field of the input item' },
			{ name: 'Base64', value: 'base64', description: 'Base64-encoded audio (a data: URL prefix is removed)' },
			{ name: 'Kling Audio ID', value: 'audioId', description: 'An audio_id from Kling text-to-speech, last 30 days (not with apimodels.app)' },
		],
		default: 'url',
		hint: 'MP3, WAV, M4A or AAC, 2-60 seconds, up to 5 MB',
	},
	{
		displayName: 'Audio URL',
		name: 'audioUrl',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'https://example.com/dub.mp3',
		displayOptions: { show: { audioSource: ['url'] } },
	},
	{
		displayName: 'Input Binary Field',
		name: 'audioBinaryPropertyName',
		type: 'string',
		default: 'data',
		required: true,
		hint: 'The name of the input binary field holding the audio file',
		displayOptions: { show: { audioSource: ['binary'] } },
	},
	{
		displayName: 'Audio (Base64)',
		name: 'audioBase64',
		type: 'string',
		typeOptions: { rows: 3 },
		default: '',
		required: true,
		displayOptions: { show: { audioSource: ['base64'] } },
	},
	{
		displayName: 'Audio ID',
		name: 'audioId',
		type: 'string',
		default: '',
		required: true,
		displayOptions: { show: { audioSource: ['audioId'] } },
	},
];

export const AUDIO_SOURCES = ['url', 'binary', 'base64', 'audioId'] as const;
export type AudioSourceKind = (typeof AUDIO_SOURCES)[number];

/** What Lip Sync sends as audio, and the audio's length when the node could measure it. */
export interface ResolvedAudio {
	audioId?: string;
	soundFile?: string;
	durationMs?: number;
	/** What the audio is, for the task's work-derived id: its id, or a digest of its bytes. */
	fingerprint: string;
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
		const id = (audioId as string).trim();
		// Text to Speech outputs the audio's length next to its id: use it, as if measured.
		const input = this.getInputData()[itemIndex]?.json ?? {};
		const known = String(input.audio_id) === id && typeof input.audio_duration_ms === 'number' ? input.audio_duration_ms : undefined;
		if (known !== undefined) failOn.call(this, itemIndex, checkAudioLength('Audio ID', known));
		return { audioId: id, durationMs: known, fingerprint: audioFingerprint({ audioId: id }) };
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
		return { soundFile: url, durationMs: check('Audio URL', bytes), fingerprint: audioFingerprint({ bytes }) };
	}
	if (kind === 'binary') {
		const property = this.getNodeParameter('audioBinaryPropertyName', itemIndex) as string;
		this.helpers.assertBinaryData(itemIndex, property);
		const bytes = await this.helpers.getBinaryDataBuffer(itemIndex, property);
		const label = `Audio in binary field "${property}"`;
		return { soundFile: bytes.toString('base64'), durationMs: check(label, bytes), fingerprint: audioFingerprint({ bytes }) };
	}
	const raw = this.getNodeParameter('audioBase64', itemIndex) as unknown;
	if (typeof raw !== 'string' || raw.trim() === '') failOn.call(this, itemIndex, 'Audio (Base64) is required');
	const text = normaliseBase64(raw as string);
	if (!BASE64.test(text) || text.length % 4 !== 0) {
		failOn.call(this, itemIndex, 'Audio (Base64) is not valid base64 (only A-Z, a-z, 0-9, +, / and = padding)');
	}
	const bytes = Buffer.from(text, 'base64');
	return { soundFile: text, durationMs: check('Audio (Base64)', bytes), fingerprint: audioFingerprint({ bytes }) };
}
