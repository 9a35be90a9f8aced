import { KLING_LIMITS } from './constants';
import { overlapMs } from './validation';

/**
 * Lip Sync Video's choices, as pure functions: which face to sync, and where the audio goes so
 * that it lies inside the face's window (and so inside the video), trimmed when it is longer.
 */

export interface FaceWindow {
	faceId: string;
	/** Unknown where the provider gives no windows (apimodels.app). */
	startMs?: number;
	endMs?: number;
}

/** How a face is chosen among those Kling found: Lip Sync Video's and each Dub Dialogue speaker's. */
export type FaceChoice =
	| { by: 'mostOverlap' }
	| { by: 'visibleAt'; atMs: number }
	| { by: 'index'; index: number }
	| { by: 'faceId'; faceId: string }
	| { by: 'nextFree' };

/** Where the audio would start for a face: the user's Insert At, else the face window's start. */
const insertFor = (face: FaceWindow, insertMs: number | undefined): number =>
	insertMs ?? face.startMs ?? 0;

/**
 * The chosen face's index, or why none can be chosen. "Most overlap": the face whose window
 * overlaps the audio most (placed at Insert At, or at each face's own start); ties go to the first.
 * "Visible at": the one face whose window holds that moment. "Next free": the first face in Kling's
 * order that is not taken (by another speaker).
 */
export function chooseFace(
	faces: FaceWindow[],
	audioMs: number,
	choice: FaceChoice,
	insertMs?: number,
	taken: ReadonlySet<number> = new Set(),
): number | string {
	if (faces.length === 0) return 'Kling found no face to lip-sync in the video';
	if (choice.by === 'nextFree') {
		const free = faces.findIndex((_, index) => !taken.has(index));
		return free >= 0
			? free
			: `Kling found ${faces.length} face(s) and every one is another speaker's: a speaker needs a face of their own`;
	}
	if (choice.by === 'visibleAt') return visibleFace(faces, choice.atMs);
	if (choice.by === 'index') {
		if (!Number.isInteger(choice.index) || choice.index < 0 || choice.index >= faces.length) {
			return `Face Index must be from 0 to ${faces.length - 1}: Kling found ${faces.length} face(s) (got ${choice.index})`;
		}
		return choice.index;
	}
	if (choice.by === 'faceId') {
		const index = faces.findIndex((face) => face.faceId === choice.faceId.trim());
		return index >= 0
			? index
			: `Face ID "${choice.faceId}" is not among the faces Kling found (${faces.map((f) => f.faceId).join(', ')})`;
	}
	let best = 0;
	let bestOverlap = -1;
	faces.forEach((face, index) => {
		const start = insertFor(face, insertMs);
		const overlap =
			face.startMs === undefined || face.endMs === undefined
				? audioMs
				: overlapMs(start, start + audioMs, face.startMs, face.endMs);
		if (overlap > bestOverlap) [best, bestOverlap] = [index, overlap];
	});
	return best;
}

/** The one face whose window holds a moment of the video, or why there is not exactly one. */
function visibleFace(faces: FaceWindow[], atMs: number): number | string {
	const visible = faces.flatMap((face, index) =>
		face.startMs !== undefined &&
		face.endMs !== undefined &&
		face.startMs <= atMs &&
		atMs < face.endMs
			? [index]
			: [],
	);
	if (visible.length === 1) return visible[0];
	const windows = faces
		.map((f) => `${f.faceId}: ${f.startMs ?? '?'}-${f.endMs ?? '?'} ms`)
		.join('; ');
	if (visible.length === 0) return `no face Kling found is visible at ${atMs} ms (${windows})`;
	return `${visible.length} faces are visible at ${atMs} ms (${windows}): choose the face by index or face ID`;
}

/** Whether at least 2 s of audio remain after Crop Start (checked before identifying, too). */
export function checkAudioAfterCropStart(audioMs: number, cropStartMs: number): string | undefined {
	const usable = audioMs - cropStartMs;
	return usable < KLING_LIMITS.minCropMs
		? `Crop Start (Milliseconds) leaves ${usable} ms of audio; at least 2000 ms are needed`
		: undefined;
}

export interface AudioFit {
	cropStartMs: number;
	cropEndMs: number;
	insertMs: number;
	/** How much of the audio's end was cut to fit the face's window (0: none). */
	trimmedMs: number;
}

/**
 * Places the audio (from `cropStartMs`) at Insert At (default: the window's start) and cuts its end
 * where the face's window ends. Fails when less than 2 s of audio would remain or overlap.
 */
export function fitAudio(
	face: FaceWindow,
	audioMs: number,
	cropStartMs: number,
	insertMs?: number,
): AudioFit | string {
	const tooShort = checkAudioAfterCropStart(audioMs, cropStartMs);
	if (tooShort) return tooShort;
	const usable = audioMs - cropStartMs;
	const insert = insertFor(face, insertMs);
	if (face.startMs === undefined || face.endMs === undefined) {
		return { cropStartMs, cropEndMs: audioMs, insertMs: insert, trimmedMs: 0 };
	}
	if (insert < face.startMs || insert >= face.endMs) {
		return `Insert At (Milliseconds) ${insert} is outside face ${face.faceId}'s window (${face.startMs}-${face.endMs} ms)`;
	}
	const room = face.endMs - insert;
	const length = Math.min(usable, room);
	if (length < KLING_LIMITS.minOverlapMs) {
		if (insertMs !== undefined) {
			return `Insert At (Milliseconds) ${insert} leaves ${length} ms of audio inside face ${face.faceId}'s window (${face.startMs}-${face.endMs} ms); at least 2000 ms are needed: start the audio earlier`;
		}
		return `Face ${face.faceId}'s window (${face.startMs}-${face.endMs} ms) leaves ${length} ms for the audio from ${insert} ms; at least 2000 ms are needed`;
	}
	return {
		cropStartMs,
		cropEndMs: cropStartMs + length,
		insertMs: insert,
		trimmedMs: usable - length,
	};
}
