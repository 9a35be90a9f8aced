import { invalidParameter } from './envelope';
import type { Scene } from './scene';

/**
 * The documented rules of the advanced lip-sync API, as pure checks. Each failure is HTTP 400 /
 * code 1201 with a message that names the field, as Kling's "details in message".
 */

export const MIN_CROP_MS = 2000;
export const MIN_OVERLAP_MS = 2000;
export const MIN_AUDIO_MS = 2000;
export const MAX_AUDIO_MS = 60000;
export const MAX_AUDIO_BYTES = 5 * 1024 * 1024;
export const MIN_VIDEO_MS = 2000;
export const MAX_VIDEO_MS = 60000;

/** An empty string counts as absent, as Kling's "cannot be empty or both populated" implies. */
export const present = (value: unknown): boolean =>
	value !== undefined && value !== null && value !== '';

export function requireString(body: Record<string, unknown>, field: string, label = field): string {
	const value = body[field];
	if (!present(value)) throw invalidParameter(`${label} is required`);
	if (typeof value !== 'string') throw invalidParameter(`${label} must be a string`);
	return value;
}

export function requireInteger(
	body: Record<string, unknown>,
	field: string,
	label: string,
): number {
	const value = body[field];
	if (value === undefined || value === null || value === '')
		throw invalidParameter(`${label} is required`);
	if (typeof value !== 'number' || !Number.isInteger(value)) {
		throw invalidParameter(`${label} must be an integer number of milliseconds`);
	}
	if (value < 0) throw invalidParameter(`${label} must not be negative`);
	return value;
}

export function optionalVolume(body: Record<string, unknown>, field: string, label: string): void {
	const value = body[field];
	if (value === undefined) return;
	if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 2) {
		throw invalidParameter(`${label} must be a number from 0 to 2`);
	}
}

export function checkVideoScene(scene: Scene, field: 'video_url' | 'video_id'): void {
	if (scene.durationMs < MIN_VIDEO_MS || scene.durationMs > MAX_VIDEO_MS) {
		throw invalidParameter(`${field}: video duration must be 2-60 s (got ${scene.durationMs} ms)`);
	}
	if (field === 'video_url') {
		if (scene.sizeMb > 100) throw invalidParameter('video_url: video must be at most 100 MB');
		for (const [name, px] of [
			['width', scene.width],
			['height', scene.height],
		] as const) {
			if (px < 512 || px > 2160)
				throw invalidParameter(`video_url: ${name} must be 512-2160 px (got ${px})`);
		}
	}
}

export interface CropTiming {
	startMs: number;
	endMs: number;
	insertMs: number;
}

/** Crop, insert and overlap rules of face_choose[0], given the audio's and video's real lengths. */
export function checkTiming(
	timing: CropTiming,
	audioMs: number,
	videoMs: number,
	face: { startMs: number; endMs: number },
): void {
	const cropMs = timing.endMs - timing.startMs;
	if (cropMs < MIN_CROP_MS) {
		throw invalidParameter(
			`face_choose[0].sound_end_time - sound_start_time must be at least ${MIN_CROP_MS} ms (got ${cropMs})`,
		);
	}
	if (timing.endMs > audioMs) {
		throw invalidParameter(
			`face_choose[0].sound_end_time must not be later than the audio's length (${audioMs} ms)`,
		);
	}
	const insertEnd = timing.insertMs + cropMs;
	if (insertEnd > videoMs) {
		throw invalidParameter(
			`face_choose[0].sound_insert_time: the inserted audio (${timing.insertMs}-${insertEnd} ms) must end within the video (${videoMs} ms)`,
		);
	}
	const overlap = Math.min(insertEnd, face.endMs) - Math.max(timing.insertMs, face.startMs);
	if (overlap < MIN_OVERLAP_MS) {
		throw invalidParameter(
			`face_choose[0].sound_insert_time: the inserted audio must overlap the face's window (${face.startMs}-${face.endMs} ms) by at least ${MIN_OVERLAP_MS} ms (got ${Math.max(overlap, 0)})`,
		);
	}
}
