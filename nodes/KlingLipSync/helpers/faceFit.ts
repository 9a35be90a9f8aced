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
	| { by: 'faceId'; faceId: string };

/** Where the audio would start for a face: the user's Insert At, else the face window's start. */
const insertFor = (face: FaceWindow, insertMs: number | undefined): number => insertMs ?? face.startMs ?? 0;

/**
 * The chosen face's index, or why none can be chosen. "Most overlap": the face whose window
 * overlaps the audio most (placed at Insert At, or at each face's own start); ties go to the first.
 * "Visible at": the one face whose window holds that moment.
 */
export function chooseFace(faces: FaceWindow[], audioMs: number, choice: FaceChoice, insertMs?: number): number | string {
	if (faces.length === 0) return 'Kling found no face to lip-sync in the video';
	if (choice.by === 'visibleAt') return visibleFace(faces, choice.atMs);
	if (choice.by === 'index') {
		if (!Number.isInteger(choice.index) || choice.index < 0 || choice.index >= faces.length) {
			return `Face Index must be from 0 to ${faces.length - 1}: Kling found ${faces.length} face(s) (got ${choice.index})`;
		}
		return choice.index;
	}
	if (choice.by === 'faceId') {
		const index = faces.findIndex((face) => face.faceId === choice.faceId.trim());
		return index >= 0 ? index : `Face ID "${choice.faceId}" is not among the faces Kling found (${faces.map((f) => f.faceId).join(', ')})`;
	}
	let best = 0;
	let bestOverlap = -1;
	faces.forEach((face, index) => {
		const start = insertFor(face, insertMs);
		const overlap =
			face.startMs === undefined || face.endMs === undefined ? audioMs : overlapMs(start, start + audioMs, face.startMs, face.endMs);
		if (overlap > bestOverlap) [best, bestOverlap] = [index, overlap];
	});
	return best;
}

/** The one face whose window holds a moment of the video, or why there is not exactly one. */
function visibleFace(faces: FaceWindow[], atMs: number): number | string {
	const visible = faces.flatMap((face, index) =>
		face.startMs !== undefined && face.endMs !== undefined && face.startMs <= atMs && atMs < face.endMs ? [index] : [],
	);
	if (visible.length === 1) return visible[0];
	const windows = faces.map((f) => `${f.faceId}: ${f.startMs ?? '?'}-${f.endMs ?? '?'} ms`).join('; ');
	if (visible.length === 0) return `no face Kling found is visible at ${atMs} ms (${windows})`;
	return `${visible.length} faces are visible at ${atMs} ms (${windows}): choose the face by index or face ID`;
}

/** Whether at least 2 s of audio remain after Crop Start (checked before identifying, too). */
export function checkAudioAfterCropStart(audioMs: number, cropStartMs: number): string | undefined {
	const usable = audioMs - cropStartMs;
	return usable < KLING_LIMITS.minCropMs ? `Crop Start (ms) leaves ${usable} ms of audio; at least 2000 ms are needed` : undefined;
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
export function fitAudio(face: FaceWindow, audioMs: number, cropStartMs: number, insertMs?: number): AudioFit | string {
	const tooShort = checkAudioAfterCropStart(audioMs, cropStartMs);
	if (tooShort) return tooShort;
	const usable = audioMs - cropStartMs;
	const insert = insertFor(face, insertMs);
	if (face.startMs === undefined || face.endMs === undefined) {
		return { cropStartMs, cropEndMs: audioMs, insertMs: insert, trimmedMs: 0 };
	}
	if (insert < face.startMs || insert >= face.endMs) {
		return `Insert At (ms) ${insert} is outside face ${face.faceId}'s window (${face.startMs}-${face.endMs} ms)`;
	}
	const room = face.endMs - insert;
	const length = Math.min(usable, room);
	if (length < KLING_LIMITS.minOverlapMs) {
		if (insertMs !== undefined) {
			return `Insert At (ms) ${insert} leaves ${length} ms of audio inside face ${face.faceId}'s window (${face.startMs}-${face.endMs} ms); at least 2000 ms are needed: start the audio earlier`;
		}
		return `Face ${face.faceId}'s window (${face.startMs}-${face.endMs} ms) leaves ${length} ms for the audio from ${insert} ms; at least 2000 ms are needed`;
	}
	return { cropStartMs, cropEndMs: cropStartMs + length, insertMs: insert, trimmedMs: usable - length };
}

/**
 * Dialogue dubbing's choices, as pure functions: which face each speaker is, where each speaker's
 * audio goes, and finding that face again in the session of a video an earlier step made.
 */

/** Where a speaker's audio lies on the video. */
export type SpeakerPlacement =
	/** As long as the video (silence where others speak): the part inside the face's window is used. */
	| { kind: 'fullLength' }
	/** A clip that starts at Insert At on the video: its part from Crop Start to Crop End. */
	| { kind: 'clip'; insertMs: number; cropStartMs: number; cropEndMs: number };

export interface AudioTiming {
	cropStartMs: number;
	cropEndMs: number;
	insertMs: number;
}

/**
 * Where a speaker's audio goes inside their face's window. A full-length track is cut to the
 * window (it runs alongside the whole video); a clip must lie inside the window, so audio past the
 * face (or the video) is an error, never a silent cut.
 */
export function placeSpeakerAudio(face: FaceWindow, audioMs: number, placement: SpeakerPlacement): AudioTiming | string {
	const window = `face ${face.faceId}'s window (${face.startMs ?? 0}-${face.endMs ?? '?'} ms)`;
	if (placement.kind === 'fullLength') {
		const start = face.startMs ?? 0;
		const end = Math.min(face.endMs ?? audioMs, audioMs);
		if (end - start < KLING_LIMITS.minOverlapMs) {
			return `the track (${audioMs} ms) holds ${Math.max(0, end - start)} ms inside ${window}; at least 2000 ms are needed. A full-length track runs alongside the whole video`;
		}
		return { cropStartMs: start, cropEndMs: end, insertMs: start };
	}
	const fit = fitAudio(face, Math.min(audioMs, placement.cropEndMs), placement.cropStartMs, placement.insertMs);
	if (typeof fit === 'string') return fit;
	if (fit.trimmedMs > 0) {
		return `the audio runs ${fit.trimmedMs} ms past the end of ${window}, where the face (or the video) ends: shorten it, or move Insert At earlier`;
	}
	return { cropStartMs: fit.cropStartMs, cropEndMs: fit.cropEndMs, insertMs: fit.insertMs };
}

/**
 * The face in a new session (of a video an earlier step made) that is the speaker's face: the one
 * whose window overlaps the first session's window most, at least half of it. Re-encoding keeps
 * faces where they were, so a face found elsewhere is another person.
 */
export function matchFace(faces: FaceWindow[], planned: Required<FaceWindow>): number | string {
	let best = -1;
	let bestOverlap = 0;
	faces.forEach((face, index) => {
		if (face.startMs === undefined || face.endMs === undefined) return;
		const overlap = overlapMs(face.startMs, face.endMs, planned.startMs, planned.endMs);
		if (overlap > bestOverlap) [best, bestOverlap] = [index, overlap];
	});
	const length = planned.endMs - planned.startMs;
	if (best < 0 || bestOverlap * 2 < length) {
		const windows = faces.map((f) => `${f.faceId}: ${f.startMs ?? '?'}-${f.endMs ?? '?'} ms`).join('; ');
		return `the face of ${planned.startMs}-${planned.endMs} ms is not in the new video's faces (${windows || 'none'})`;
	}
	return best;
}

/**
 * The planned timing inside the window a face has in a new session: re-encoding may move a
 * window's edges by a frame or two, so the audio keeps its place and loses only what falls outside.
 */
export function timingInWindow(timing: AudioTiming, face: FaceWindow): AudioTiming | string {
	if (face.startMs === undefined || face.endMs === undefined) return timing;
	const start = Math.max(timing.insertMs, face.startMs);
	const end = Math.min(timing.insertMs + (timing.cropEndMs - timing.cropStartMs), face.endMs);
	if (end - start < KLING_LIMITS.minOverlapMs) {
		return `face ${face.faceId}'s window in the new video (${face.startMs}-${face.endMs} ms) leaves ${Math.max(0, end - start)} ms of the audio; at least 2000 ms are needed`;
	}
	const cropStartMs = timing.cropStartMs + (start - timing.insertMs);
	return { cropStartMs, cropEndMs: cropStartMs + (end - start), insertMs: start };
}

/** A speaker as the first session sees them: their face (its window) and where their audio goes. */
export interface CastSpeaker {
	faceIndex: number;
	face: FaceWindow;
	timing: AudioTiming;
}

/**
 * Every speaker's face and timing in the first session, or the first reason it cannot be done
 * (a face not found, two speakers on one face, audio that does not fit): all before any task.
 */
export function castSpeakers(
	faces: FaceWindow[],
	speakers: Array<{ face: FaceChoice; audioMs: number; placement: SpeakerPlacement }>,
): CastSpeaker[] | string {
	const cast: CastSpeaker[] = [];
	for (const [position, speaker] of speakers.entries()) {
		const name = `Speaker ${position + 1}`;
		const faceIndex = chooseFace(faces, speaker.audioMs, speaker.face);
		if (typeof faceIndex === 'string') return `${name}: ${faceIndex}`;
		const other = cast.findIndex((earlier) => earlier.faceIndex === faceIndex);
		if (other >= 0) return `${name} and Speaker ${other + 1} both name face ${faces[faceIndex].faceId}: each speaker needs a face of their own`;
		const face = faces[faceIndex];
		const timing = placeSpeakerAudio(face, speaker.audioMs, speaker.placement);
		if (typeof timing === 'string') return `${name}: ${timing}`;
		cast.push({ faceIndex, face, timing });
	}
	return cast;
}
