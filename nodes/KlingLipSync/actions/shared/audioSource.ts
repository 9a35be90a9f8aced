import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { inspectAudio } from '../../helpers/audio';
import { KLING_LIMITS } from '../../helpers/constants';
import { audioFingerprint } from '../../helpers/externalId';
import { checkAudioLength, checkAudioSize, checkHttpUrl, checkId } from '../../helpers/validation';
import type { Slots } from '../../helpers/pool';
import { downloadBytes, DownloadTooLargeError } from '../../transport';
import { InlineBytes } from '../../transport/types';
import { failOn as failOnItem } from '../params';
import { supportNote } from '../../transport/providers';

/** The audio parameters, shared by Lip Sync and Lip Sync Video. */
export const audioSourceFields: INodeProperties[] = [
	{
		displayName: 'Audio Source',
		name: 'audioSource',
		type: 'options',
		options: [
			{ name: 'URL', value: 'url', description: 'A public link to an MP3, WAV, M4A or AAC file' },
			{
				name: 'Binary File',
				value: 'binary',
				description: 'Audio in a binary field of the input item',
			},
			{
				name: 'Base64',
				value: 'base64',
				description: 'Base64-encoded audio (a data: URL prefix is removed)',
			},
			{
				name: 'Kling Audio ID',
				value: 'audioId',
				description: `An audio_id from Kling text-to-speech, last 30 days (${supportNote('audioId')})`,
			},
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
		placeholder: 'e.g. https://example.com/dub.mp3',
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
		placeholder: 'e.g. 860000000000000002',
		required: true,
		displayOptions: { show: { audioSource: ['audioId'] } },
	},
];

export const AUDIO_SOURCES = ['url', 'binary', 'base64', 'audioId'] as const;
export type AudioSourceKind = (typeof AUDIO_SOURCES)[number];

/** The checked audio of an item: what Kling is sent, and its length when the node could measure it. */
export interface ResolvedAudio {
	audioId?: string;
	/**
	 * A URL (sent as it is), or where the bytes are: the input binary field, or the Base64 parameter.
	 * Bytes are read again when the task is created, so no item holds its audio while it waits its turn.
	 */
	sound?: { url: string } | { binaryProperty: string } | { base64Parameter: string };
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
 * `at` is where the audio parameters are: the node's own, or one entry of a list
 * (`speakers.speaker[1].`); `label` starts the messages when that is not plain from the field names.
 */
export async function resolveAudio(
	this: IExecuteFunctions,
	itemIndex: number,
	localReads: Slots,
	at = '',
	label = '',
): Promise<ResolvedAudio> {
	const kind = this.getNodeParameter(`${at}audioSource`, itemIndex, 'url') as AudioSourceKind;
	const failOn = (violation: string | undefined): void =>
		failOnItem.call(this, itemIndex, violation && `${label}${violation}`);
	const check = (what: string, bytes: Buffer): number => {
		failOn(checkAudioSize(what, bytes.length));
		const info = inspectAudio(bytes);
		if ('error' in info) failOn(`${what} ${info.error}`);
		const durationMs = (info as { durationMs: number }).durationMs;
		failOn(checkAudioLength(what, durationMs));
		return durationMs;
	};

	if (!AUDIO_SOURCES.includes(kind)) {
		failOn(
			`Audio Source must be one of url, binary, base64 or audioId (got "${String(kind).slice(0, 40)}")`,
		);
	}
	if (kind === 'audioId') {
		const audioId = this.getNodeParameter(`${at}audioId`, itemIndex, '') as unknown;
		failOn(checkId('Audio ID', audioId));
		const id = (audioId as string).trim();
		// Text to Speech outputs the audio's length next to its id: use it, as if measured.
		const input = this.getInputData()[itemIndex]?.json ?? {};
		const known =
			String(input.audio_id) === id && typeof input.audio_duration_ms === 'number'
				? input.audio_duration_ms
				: undefined;
		if (known !== undefined) failOn(checkAudioLength('Audio ID', known));
		return { audioId: id, durationMs: known, fingerprint: audioFingerprint({ audioId: id }) };
	}
	if (kind === 'url') {
		const raw = this.getNodeParameter(`${at}audioUrl`, itemIndex, '') as unknown;
		failOn(checkHttpUrl('Audio URL', raw));
		const url = (raw as string).trim();
		let bytes: Buffer;
		try {
			bytes = await downloadBytes(this, url, KLING_LIMITS.maxAudioBytes);
		} catch (error) {
			if (error instanceof DownloadTooLargeError) {
				failOn(
					'Audio URL must be at most 5 MB (5,242,880 bytes): the file is larger, so the node stopped reading it at that limit',
				);
			}
			// The reason goes in the description: n8n rewrites messages that contain network error codes.
			throw new NodeOperationError(this.getNode(), `${label}Audio URL could not be downloaded`, {
				itemIndex,
				description: `${(error as Error).message}. The node measures the audio before creating a task; Kling must be able to download the same URL.`,
			});
		}
		return {
			sound: { url },
			durationMs: check('Audio URL', bytes),
			fingerprint: audioFingerprint({ bytes }),
		};
	}
	// Bytes n8n holds already gain nothing from reading side by side: a few at a time, so memory stays flat.
	if (kind === 'binary') {
		const property = this.getNodeParameter(
			`${at}audioBinaryPropertyName`,
			itemIndex,
			'data',
		) as string;
		this.helpers.assertBinaryData(itemIndex, property);
		return await localReads.use(async () => {
			const bytes = await this.helpers.getBinaryDataBuffer(itemIndex, property);
			return {
				sound: { binaryProperty: property },
				durationMs: check(`Audio in binary field "${property}"`, bytes),
				fingerprint: audioFingerprint({ bytes }),
			};
		});
	}
	return await localReads.use(async () => {
		const parameter = `${at}audioBase64`;
		const bytes = Buffer.from(readBase64.call(this, itemIndex, parameter, label), 'base64');
		return {
			sound: { base64Parameter: parameter },
			durationMs: check('Audio (Base64)', bytes),
			fingerprint: audioFingerprint({ bytes }),
		};
	});
}

/** A Base64 parameter, checked and without a data: prefix or line breaks. */
function readBase64(
	this: IExecuteFunctions,
	itemIndex: number,
	parameter: string,
	label = '',
): string {
	const raw = this.getNodeParameter(parameter, itemIndex, '') as unknown;
	if (typeof raw !== 'string' || raw.trim() === '')
		failOnItem.call(this, itemIndex, `${label}Audio (Base64) is required`);
	const text = normaliseBase64(raw as string);
	if (!BASE64.test(text) || text.length % 4 !== 0) {
		failOnItem.call(
			this,
			itemIndex,
			`${label}Audio (Base64) is not valid base64 (only A-Z, a-z, 0-9, +, / and = padding)`,
		);
	}
	return text;
}

/** Inline audio (binary field or Base64 parameter) as Kling's sound_file, read when its task is created. */
export async function readAudioInline(
	ctx: IExecuteFunctions,
	itemIndex: number,
	sound: { binaryProperty: string } | { base64Parameter: string },
): Promise<string | InlineBytes> {
	if ('binaryProperty' in sound)
		return new InlineBytes(await ctx.helpers.getBinaryDataBuffer(itemIndex, sound.binaryProperty));
	return readBase64.call(ctx, itemIndex, sound.base64Parameter);
}
