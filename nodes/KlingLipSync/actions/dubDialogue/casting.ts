import { randomUUID } from 'node:crypto';
import type { IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { KLING_LIMITS } from '../../helpers/constants';
import { dialogueKey } from '../../helpers/externalId';
import { chooseFace, fitAudio, type FaceChoice, type FaceWindow } from '../../helpers/faceFit';
import { overlapMs } from '../../helpers/validation';
import type { RunSettings } from '../node.type';
import {
	subjectOf,
	type AudioTiming,
	type CastDialogue,
	type CastSpeaker,
	type DialoguePlan,
	type SpeakerPlacement,
} from './dialogue';

/**
 * Casting a dialogue: which face each speaker is, where each speaker's audio goes (pure
 * functions), and finding that face again in the session of a video an earlier step made.
 */

/**
 * Where a speaker's audio goes inside their face's window. A full-length track is cut to the
 * window (it runs alongside the whole video); a clip must lie inside the window, so audio past the
 * face (or the video) is an error, never a silent cut.
 */
export function placeSpeakerAudio(
	face: FaceWindow,
	audioMs: number,
	placement: SpeakerPlacement,
): AudioTiming | string {
	const window = `face ${face.faceId}'s window (${face.startMs ?? 0}-${face.endMs ?? '?'} ms)`;
	if (placement.kind === 'fullLength') {
		const start = face.startMs ?? 0;
		const end = Math.min(face.endMs ?? audioMs, audioMs);
		if (end - start < KLING_LIMITS.minOverlapMs) {
			return `the track (${audioMs} ms) holds ${Math.max(0, end - start)} ms inside ${window}; at least 2000 ms are needed. A full-length track runs alongside the whole video`;
		}
		return { cropStartMs: start, cropEndMs: end, insertMs: start };
	}
	const fit = fitAudio(
		face,
		Math.min(audioMs, placement.cropEndMs),
		placement.cropStartMs,
		placement.insertMs,
	);
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
		const windows = faces
			.map((f) => `${f.faceId}: ${f.startMs ?? '?'}-${f.endMs ?? '?'} ms`)
			.join('; ');
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

/**
 * Every speaker's face and timing in the first session, or the first reason it cannot be done
 * (a face not found, two speakers on one face, audio that does not fit): all before any task.
 */
export function castSpeakers(
	faces: FaceWindow[],
	speakers: Array<{ face: FaceChoice; audioMs: number; placement: SpeakerPlacement }>,
): CastSpeaker[] | string {
	// Speakers who name their face are cast first (a stable sort keeps their order), so a Next Free
	// Face speaker takes none of theirs.
	const isFree = (position: number): number => Number(speakers[position].face.by === 'nextFree');
	const order = [...speakers.keys()].sort((a, b) => isFree(a) - isFree(b));
	const faceOf: number[] = [];
	for (const position of order) {
		const speaker = speakers[position];
		// Object.values skips the positions not cast yet.
		const taken = new Set(Object.values(faceOf));
		const faceIndex = chooseFace(faces, speaker.audioMs, speaker.face, undefined, taken);
		if (typeof faceIndex === 'string') return `Speaker ${position + 1}: ${faceIndex}`;
		const other = faceOf.indexOf(faceIndex);
		if (other >= 0)
			return `Speaker ${position + 1} and Speaker ${other + 1} both name face ${faces[faceIndex].faceId}: each speaker needs a face of their own`;
		faceOf[position] = faceIndex;
	}
	const cast: CastSpeaker[] = [];
	for (const [position, speaker] of speakers.entries()) {
		const name = `Speaker ${position + 1}`;
		const faceIndex = faceOf[position];
		const face = faces[faceIndex];
		const timing = placeSpeakerAudio(face, speaker.audioMs, speaker.placement);
		if (typeof timing === 'string') return `${name}: ${timing}`;
		cast.push({ faceIndex, face, timing });
	}
	return cast;
}

/**
 * The first Identify Face of the video, and every speaker placed on it (faces found, no face
 * named twice, every audio inside its face's window): a dialogue that cannot be dubbed stops here,
 * before any task.
 */
export async function castDialogue(
	this: IExecuteFunctions,
	planned: DialoguePlan,
	run: RunSettings,
): Promise<CastDialogue> {
	const first = await run.api.identifyFace(planned.video);
	const cast = castSpeakers(first.faces, planned.speakers);
	if (typeof cast === 'string') {
		const error = new NodeOperationError(this.getNode(), cast, {
			itemIndex: planned.itemIndex,
			description: `session_id ${first.sessionId}; faces: ${first.faces.map((face) => `${face.faceId} (${face.startMs ?? '?'}-${face.endMs ?? '?'} ms)`).join(', ') || 'none'}. No lip-sync task was created.`,
		});
		error.context.session_id = first.sessionId;
		throw error;
	}
	const { soundVolume, originalAudioVolume, watermark, derivedId } = planned.create;
	const work = {
		video: subjectOf(planned.video),
		speakers: cast.map(({ face, timing }, position) => [
			face.faceId,
			face.startMs,
			face.endMs,
			timing,
			planned.speakers[position].audio.fingerprint,
		]),
		options: [soundVolume, originalAudioVolume, watermark],
	};
	return {
		plan: planned,
		first,
		cast,
		key: dialogueKey(work, derivedId === 'fresh' ? randomUUID() : ''),
	};
}
