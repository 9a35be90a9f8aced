import { KLING_LIMITS } from './constants';

/**
 * Pure checks of the node's parameters against Kling's documented rules. Each returns the first
 * broken rule as text that names the parameter (as the user sees it in the panel) and the rule,
 * or undefined when all hold; callers turn it into a NodeOperationError before any billed call.
 */

export type RuleViolation = string | undefined;

/**
 * Why a value that should be a number is not one. n8n hands an expression's NaN or Infinity to the
 * node as null, so null is named as such: it never falls back to a default nobody chose.
 */
export function notANumber(label: string, value: unknown, what: string): RuleViolation {
	if (value === null)
		return `${label} must be ${what}: its expression gave null (NaN and Infinity arrive as null)`;
	if (typeof value === 'number' && !Number.isFinite(value))
		return `${label} must be ${what}: its expression gave ${value}`;
	if (typeof value !== 'number') return `${label} must be ${what} (got ${typeName(value)})`;
	return undefined;
}

/** A time: whole, non-negative milliseconds, at most `maxMs` (by default the longest video). */
export function checkMilliseconds(
	label: string,
	value: unknown,
	maxMs: number = KLING_LIMITS.maxVideoMs,
): RuleViolation {
	const notNumber = notANumber(label, value, 'a number of milliseconds');
	if (notNumber) return notNumber;
	const ms = value as number;
	if (!Number.isInteger(ms)) return `${label} must be a whole number of milliseconds (got ${ms})`;
	if (ms < 0) return `${label} must not be negative (got ${ms})`;
	if (ms > maxMs) return `${label} must be at most ${maxMs} ms (got ${ms})`;
	return undefined;
}

export function checkVolume(label: string, value: unknown): RuleViolation {
	const notNumber = notANumber(label, value, 'a number from 0 to 2');
	if (notNumber) return notNumber;
	if (typeof value !== 'number') return `${label} must be a number from 0 to 2`;
	if (value < KLING_LIMITS.minVolume || value > KLING_LIMITS.maxVolume) {
		return `${label} must be from 0 to 2 (got ${value})`;
	}
	return undefined;
}

const typeName = (value: unknown): string =>
	value === null ? 'null' : Array.isArray(value) ? 'a list' : `a ${typeof value}`;

/** Ids Kling (or a reseller) issued: printable ASCII without spaces (digits, letters, - and _). */
const ISSUED_ID = /^[\x21-\x7e]+$/;
/** Whether text holds a control character (U+0000-U+001F, U+007F), line breaks included. */
const hasControlCharacter = (text: string): boolean =>
	Array.from(text).some((char) => {
		const code = char.charCodeAt(0);
		return code < 0x20 || code === 0x7f;
	});

/**
 * Kling ids are strings; a number is refused because 18-digit ids lose digits as JS numbers.
 * `issued` ids come from Kling and are plain ASCII; `yours` (external_task_id) may be any text
 * without control characters.
 */
export function checkId(
	label: string,
	value: unknown,
	origin: 'issued' | 'yours' = 'issued',
): RuleViolation {
	if (typeof value === 'number') {
		return `${label} must be text, not a number: Kling ids have up to 19 digits and lose precision as numbers. Wrap it in quotes or use {{ String(...) }}`;
	}
	if (value === undefined || value === null || value === '') return `${label} is required`;
	if (typeof value !== 'string') return `${label} must be text (got ${typeName(value)})`;
	const id = value.trim();
	if (id === '') return `${label} is required`;
	if (id.length > 256) return `${label} is too long to be a Kling id (${id.length} characters)`;
	if (origin === 'issued' && !ISSUED_ID.test(id)) {
		return `${label} must be an id as Kling gives it: letters, digits and punctuation without spaces (got "${id.slice(0, 40)}")`;
	}
	if (hasControlCharacter(id)) return `${label} must not contain control characters or line breaks`;
	return undefined;
}

const MAX_URL_LENGTH = 4096;

export function checkHttpUrl(label: string, value: unknown): RuleViolation {
	if (value !== undefined && value !== null && typeof value !== 'string')
		return `${label} must be a URL as text (got ${typeName(value)})`;
	if (typeof value !== 'string' || value.trim() === '') return `${label} is required`;
	// Longer is not a link someone meant (often base64 pasted into the URL field).
	if (value.trim().length > MAX_URL_LENGTH)
		return `${label} is too long for a URL (${value.trim().length} characters; at most ${MAX_URL_LENGTH})`;
	let url: URL;
	try {
		url = new URL(value.trim());
	} catch {
		return `${label} must be a full http(s) URL (got "${value.slice(0, 80)}")`;
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:') {
		return `${label} must be an http(s) URL (got ${url.protocol})`;
	}
	return undefined;
}

export function checkAudioLength(label: string, durationMs: number): RuleViolation {
	if (durationMs < KLING_LIMITS.minAudioMs || durationMs > KLING_LIMITS.maxAudioMs) {
		return `${label} must be 2-60 seconds long (it is ${(durationMs / 1000).toFixed(2)} s)`;
	}
	return undefined;
}

export function checkAudioSize(label: string, bytes: number): RuleViolation {
	if (bytes > KLING_LIMITS.maxAudioBytes) {
		return `${label} must be at most 5 MB (it is ${(bytes / 1024 / 1024).toFixed(2)} MB)`;
	}
	return undefined;
}

export interface LipSyncTiming {
	cropStartMs: number;
	cropEndMs: number;
	insertMs: number;
}

/** Where the face can be lip-synced, and the video's length when known (from Identify Face). */
export interface SceneBounds {
	faceStartMs?: number;
	faceEndMs?: number;
	videoDurationMs?: number;
}

export const overlapMs = (aStart: number, aEnd: number, bStart: number, bEnd: number): number =>
	Math.max(0, Math.min(aEnd, bEnd) - Math.max(aStart, bStart));

/** The crop, insert and overlap rules of face_choose, as Kling documents them. */
export function checkTiming(
	timing: LipSyncTiming,
	audioMs: number | undefined,
	scene: SceneBounds,
): RuleViolation {
	for (const [label, value, maxMs] of [
		['Crop Start (Milliseconds)', timing.cropStartMs, KLING_LIMITS.maxAudioMs],
		['Crop End (Milliseconds)', timing.cropEndMs, KLING_LIMITS.maxAudioMs],
		['Insert At (Milliseconds)', timing.insertMs, KLING_LIMITS.maxVideoMs],
	] as const) {
		const violation = checkMilliseconds(label, value, maxMs);
		if (violation) return violation;
	}
	const cropMs = timing.cropEndMs - timing.cropStartMs;
	if (cropMs < KLING_LIMITS.minCropMs) {
		return `Crop End (Milliseconds) minus Crop Start (Milliseconds) must be at least 2000 ms: Kling lip-syncs at least 2 s of audio (got ${cropMs} ms)`;
	}
	if (audioMs !== undefined && timing.cropEndMs > audioMs) {
		return `Crop End (Milliseconds) must not be later than the end of the audio (${audioMs} ms; got ${timing.cropEndMs})`;
	}
	const insertEnd = timing.insertMs + cropMs;
	if (scene.videoDurationMs !== undefined && insertEnd > scene.videoDurationMs) {
		return `Insert At (Milliseconds): the audio would play ${timing.insertMs}-${insertEnd} ms, past the end of the video (${scene.videoDurationMs} ms)`;
	}
	if (scene.faceStartMs !== undefined && scene.faceEndMs !== undefined) {
		const overlap = overlapMs(timing.insertMs, insertEnd, scene.faceStartMs, scene.faceEndMs);
		if (overlap < KLING_LIMITS.minOverlapMs) {
			return `Insert At (Milliseconds): the audio (${timing.insertMs}-${insertEnd} ms) must overlap the face's window (${scene.faceStartMs}-${scene.faceEndMs} ms) by at least 2000 ms (overlap ${overlap} ms)`;
		}
	}
	return undefined;
}
