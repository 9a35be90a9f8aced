import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { inspectAudio } from '../../helpers/audio';
import { KLING_LIMITS } from '../../helpers/constants';
import { audioFingerprint } from '../../helpers/externalId';
import { messageOf } from '../../helpers/errorText';
import { checkAudioLength, checkAudioSize } from '../../helpers/validation';
import type { Slots } from '../../helpers/pool';
import { downloadBytes, DownloadTooLargeError } from '../../transport';
import { InlineBytes } from '../../transport/types';
import { ItemParameters } from '../params';
import { supportNote } from '../../transport/providers';

/** What Kling takes as audio, said where a file is given. */
const AUDIO_FILE_RULES = 'MP3, WAV, M4A or AAC, 2-60 seconds, up to 5 MB';

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
	},
	{
		displayName: 'Audio URL',
		name: 'audioUrl',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. https://example.com/dub.mp3',
		hint: AUDIO_FILE_RULES,
		displayOptions: { show: { audioSource: ['url'] } },
	},
	{
		displayName: 'Input Binary Field',
		name: 'audioBinaryPropertyName',
		type: 'string',
		default: 'data',
		required: true,
		hint: `The name of the input binary field holding the audio file. ${AUDIO_FILE_RULES}`,
		displayOptions: { show: { audioSource: ['binary'] } },
	},
	{
		displayName: 'Audio (Base64)',
		name: 'audioBase64',
		type: 'string',
		typeOptions: { rows: 3 },
		default: '',
		required: true,
		hint: AUDIO_FILE_RULES,
		displayOptions: { show: { audioSource: ['base64'] } },
	},
	{
		displayName: 'Audio ID',
		name: 'audioId',
		type: 'string',
		default: '',
		placeholder: 'e.g. 860000000000000002',
		required: true,
		hint: 'The node cannot measure audio it does not have: give its length through Crop End, or feed this from Text to Speech (its audio_duration_ms is used)',
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
 */
export async function resolveAudio(
	item: ItemParameters,
	localReads: Slots,
): Promise<ResolvedAudio> {
	const { ctx, itemIndex } = item;
	const kind = item.choice('audioSource', 'Audio Source', AUDIO_SOURCES, 'url');
	const check = (what: string, bytes: Buffer): number => {
		item.check(checkAudioSize(what, bytes.length));
		const info = inspectAudio(bytes);
		if ('error' in info) item.fail(`${what} ${info.error}`);
		item.check(checkAudioLength(what, info.durationMs));
		return info.durationMs;
	};

	if (kind === 'audioId') {
		const id = item.id('audioId', 'Audio ID');
		// Text to Speech outputs the audio's length next to its id: use it, as if measured.
		const input = ctx.getInputData()[itemIndex]?.json ?? {};
		const known =
			String(input.audio_id) === id && typeof input.audio_duration_ms === 'number'
				? input.audio_duration_ms
				: undefined;
		if (known !== undefined) item.check(checkAudioLength('Audio ID', known));
		return { audioId: id, durationMs: known, fingerprint: audioFingerprint({ audioId: id }) };
	}
	if (kind === 'url') {
		const url = item.url('audioUrl', 'Audio URL');
		let bytes: Buffer;
		try {
			bytes = await downloadBytes(ctx, url, KLING_LIMITS.maxAudioBytes);
		} catch (error) {
			if (error instanceof DownloadTooLargeError) {
				item.fail(
					'Audio URL must be at most 5 MB (5,242,880 bytes): the file is larger, so the node stopped reading it at that limit',
				);
			}
			// The reason goes in the description: n8n rewrites messages that contain network error codes.
			throw new NodeOperationError(
				ctx.getNode(),
				`${item.label}Audio URL could not be downloaded`,
				{
					itemIndex,
					description: `${messageOf(error)}. The node measures the audio before creating a task; Kling must be able to download the same URL.`,
				},
			);
		}
		return {
			sound: { url },
			durationMs: check('Audio URL', bytes),
			fingerprint: audioFingerprint({ bytes }),
		};
	}
	// Bytes n8n holds already gain nothing from reading side by side: a few at a time, so memory stays flat.
	if (kind === 'binary') {
		const property = item.text('audioBinaryPropertyName', 'data');
		ctx.helpers.assertBinaryData(itemIndex, property);
		return await localReads.use(async () => {
			const bytes = await ctx.helpers.getBinaryDataBuffer(itemIndex, property);
			return {
				sound: { binaryProperty: property },
				durationMs: check(`Audio in binary field "${property}"`, bytes),
				fingerprint: audioFingerprint({ bytes }),
			};
		});
	}
	return await localReads.use(async () => {
		const bytes = Buffer.from(readBase64(item, 'audioBase64'), 'base64');
		return {
			sound: { base64Parameter: `${item.at}audioBase64` },
			durationMs: check('Audio (Base64)', bytes),
			fingerprint: audioFingerprint({ bytes }),
		};
	});
}

/** A Base64 parameter, checked and without a data: prefix or line breaks. */
function readBase64(item: ItemParameters, name: string): string {
	const raw = item.raw(name, '');
	if (typeof raw !== 'string' || raw.trim() === '') item.fail('Audio (Base64) is required');
	const text = normaliseBase64(raw);
	if (!BASE64.test(text) || text.length % 4 !== 0) {
		item.fail('Audio (Base64) is not valid base64 (only A-Z, a-z, 0-9, +, / and = padding)');
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
	return readBase64(new ItemParameters(ctx, itemIndex), sound.base64Parameter);
}
