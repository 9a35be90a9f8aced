import { randomUUID } from 'node:crypto';
import type { IDataObject } from 'n8n-workflow';

import { parseJsonKeepingBigIntegers } from '../helpers/json';
import { InlineBytes } from './types';

/** Request and reply bodies: JSON out with inline bytes, JSON in with every digit of an id kept. */

/** A reply body as text, parsed so that no id loses digits; a body that is not JSON stays text. */
export function parseBody(body: unknown): unknown {
	const text = Buffer.isBuffer(body)
		? body.toString('utf8')
		: body instanceof ArrayBuffer
			? Buffer.from(body).toString('utf8')
			: body;
	if (typeof text !== 'string') return text;
	if (text.trim() === '') return undefined;
	try {
		return parseJsonKeepingBigIntegers(text);
	} catch {
		return text;
	}
}

/** Bytes encoded per slice: slices of 48 KB make strings that die young, never one of megabytes. */
const BASE64_SLICE_BYTES = 3 * 16_384;

/**
 * A request body as JSON bytes. Values that are InlineBytes become base64 strings written slice by
 * slice into the buffer: a 4 MB audio costs its 5.3 MB of request bytes and no string copies of them.
 */
export function jsonBytes(body: IDataObject): Buffer {
	const inline: Buffer[] = [];
	// A mark no other value can hold: a control character (JSON writes it as the escape \u0001) and a random id.
	const mark = `\u0001${randomUUID()}`;
	const text = JSON.stringify(body, (_key, value: unknown) => {
		if (!(value instanceof InlineBytes)) return value;
		inline.push(value.bytes);
		return mark;
	});
	if (inline.length === 0) return Buffer.from(text, 'utf8');
	const parts = text.split(`"${JSON.stringify(mark).slice(1, -1)}"`);
	const encodedLength = (bytes: Buffer): number => 4 * Math.ceil(bytes.length / 3) + 2;
	const total =
		parts.reduce((sum, part) => sum + Buffer.byteLength(part, 'utf8'), 0) +
		inline.reduce((sum, bytes) => sum + encodedLength(bytes), 0);
	const out = Buffer.allocUnsafe(total);
	let offset = 0;
	parts.forEach((part, index) => {
		offset += out.write(part, offset, 'utf8');
		const bytes = inline[index];
		if (!bytes) return;
		offset += out.write('"', offset, 'latin1');
		for (let start = 0; start < bytes.length; start += BASE64_SLICE_BYTES) {
			offset += out.write(
				bytes.subarray(start, start + BASE64_SLICE_BYTES).toString('base64'),
				offset,
				'latin1',
			);
		}
		offset += out.write('"', offset, 'latin1');
	});
	return out;
}
