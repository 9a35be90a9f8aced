import {
	castSpeakers,
	matchFace,
	placeSpeakerAudio,
	timingInWindow,
} from '../../nodes/KlingLipSync/actions/dubDialogue/casting';
import { chooseFace } from '../../nodes/KlingLipSync/helpers/faceFit';

/** Dub Dialogue's pure parts: placing speakers, finding faces again, chain ids, the signed URL plan. */

describe('Dub Dialogue: speakers and faces', () => {
	const faces = [
		{ faceId: '0', startMs: 0, endMs: 4500 },
		{ faceId: '1', startMs: 4500, endMs: 9000 },
		{ faceId: '2', startMs: 3000, endMs: 6000 },
	];

	it('finds the face visible at a time, and says when none or several are', () => {
		expect(chooseFace(faces, 3000, { by: 'visibleAt', atMs: 1000 })).toBe(0);
		expect(chooseFace(faces, 3000, { by: 'visibleAt', atMs: 8000 })).toBe(1);
		expect(chooseFace(faces, 3000, { by: 'visibleAt', atMs: 4000 })).toMatch(
			/^2 faces are visible at 4000 ms .*choose the face by index or face ID/,
		);
		expect(chooseFace(faces, 3000, { by: 'visibleAt', atMs: 9000 })).toMatch(
			/^no face Kling found is visible at 9000 ms/,
		);
		expect(chooseFace(faces, 3000, { by: 'index', index: 2 })).toBe(2);
		expect(chooseFace(faces, 3000, { by: 'faceId', faceId: '1' })).toBe(1);
		expect(chooseFace(faces, 3000, { by: 'index', index: 3 })).toMatch(
			/Face Index must be from 0 to 2/,
		);
	});

	it('gives Next Free Face the first face not taken', () => {
		expect(chooseFace(faces, 3000, { by: 'nextFree' })).toBe(0);
		expect(chooseFace(faces, 3000, { by: 'nextFree' }, undefined, new Set([0, 2]))).toBe(1);
		expect(chooseFace(faces, 3000, { by: 'nextFree' }, undefined, new Set([0, 1, 2]))).toMatch(
			/^Kling found 3 face\(s\) and every one is another speaker's/,
		);
	});

	it('places a full-length track inside the window, and a clip only where it fits whole', () => {
		expect(placeSpeakerAudio(faces[1], 9000, { kind: 'fullLength' })).toEqual({
			cropStartMs: 4500,
			cropEndMs: 9000,
			insertMs: 4500,
		});
		// A track shorter than the video: its end is where it ends.
		expect(placeSpeakerAudio(faces[1], 7000, { kind: 'fullLength' })).toEqual({
			cropStartMs: 4500,
			cropEndMs: 7000,
			insertMs: 4500,
		});
		expect(placeSpeakerAudio(faces[1], 6000, { kind: 'fullLength' })).toMatch(
			/the track \(6000 ms\) holds 1500 ms inside face 1's window \(4500-9000 ms\)/,
		);
		expect(
			placeSpeakerAudio(faces[0], 3000, {
				kind: 'clip',
				insertMs: 1000,
				cropStartMs: 0,
				cropEndMs: 3000,
			}),
		).toEqual({ cropStartMs: 0, cropEndMs: 3000, insertMs: 1000 });
		expect(
			placeSpeakerAudio(faces[0], 3000, {
				kind: 'clip',
				insertMs: 2000,
				cropStartMs: 0,
				cropEndMs: 3000,
			}),
		).toMatch(/runs 500 ms past the end of face 0's window/);
		expect(
			placeSpeakerAudio(faces[0], 3000, {
				kind: 'clip',
				insertMs: 5000,
				cropStartMs: 0,
				cropEndMs: 3000,
			}),
		).toMatch(/Insert At \(Milliseconds\) 5000 is outside face 0's window/);
		// The part from Crop Start to Crop End: 500-2800 ms of the clip, at 2000 ms.
		expect(
			placeSpeakerAudio(faces[0], 3000, {
				kind: 'clip',
				insertMs: 2000,
				cropStartMs: 500,
				cropEndMs: 2800,
			}),
		).toEqual({ cropStartMs: 500, cropEndMs: 2800, insertMs: 2000 });
	});

	it('casts every speaker before any task: one face each, every audio placed', () => {
		const speakers = [
			{
				face: { by: 'visibleAt' as const, atMs: 1000 },
				audioMs: 9000,
				placement: { kind: 'fullLength' as const },
			},
			{
				face: { by: 'index' as const, index: 1 },
				audioMs: 9000,
				placement: { kind: 'fullLength' as const },
			},
		];
		const cast = castSpeakers(faces, speakers);
		expect(
			Array.isArray(cast) && cast.map((speaker) => [speaker.faceIndex, speaker.timing.insertMs]),
		).toEqual([
			[0, 0],
			[1, 4500],
		]);
		expect(
			castSpeakers(faces, [speakers[0], { ...speakers[1], face: { by: 'faceId', faceId: '0' } }]),
		).toMatch(/^Speaker 2 and Speaker 1 both name face 0/);
		// Speakers who name a face are cast first: Next Free Face takes what is left, in order.
		const free = { ...speakers[0], face: { by: 'nextFree' as const } };
		const freeFirst = castSpeakers(faces, [free, speakers[1]]);
		expect(Array.isArray(freeFirst) && freeFirst.map((speaker) => speaker.faceIndex)).toEqual([
			0, 1,
		]);
		const named = { ...speakers[1], face: { by: 'index' as const, index: 0 } };
		const cast2 = castSpeakers(faces, [free, named]);
		expect(Array.isArray(cast2) && cast2.map((speaker) => speaker.faceIndex)).toEqual([1, 0]);
		expect(castSpeakers(faces, [speakers[0], { ...speakers[1], audioMs: 5000 }])).toMatch(
			/^Speaker 2: the track \(5000 ms\) holds 500 ms/,
		);
	});

	it('finds the same face in a new video by its window, and keeps the audio inside the new window', () => {
		const planned = { faceId: '1', startMs: 4500, endMs: 9000 };
		// Re-encoding moved the edges by a frame; the ids may differ.
		expect(
			matchFace(
				[
					{ faceId: '0', startMs: 0, endMs: 4480 },
					{ faceId: '7', startMs: 4520, endMs: 9000 },
				],
				planned,
			),
		).toBe(1);
		expect(matchFace([{ faceId: '0', startMs: 0, endMs: 4500 }], planned)).toMatch(
			/the face of 4500-9000 ms is not in the new video's faces \(0: 0-4500 ms\)/,
		);
		// Less than half of the window overlaps: another person.
		expect(matchFace([{ faceId: '0', startMs: 0, endMs: 6000 }], planned)).toMatch(
			/not in the new video's faces/,
		);
		const timing = { cropStartMs: 4500, cropEndMs: 9000, insertMs: 4500 };
		expect(timingInWindow(timing, { faceId: '7', startMs: 4520, endMs: 8960 })).toEqual({
			cropStartMs: 4520,
			cropEndMs: 8960,
			insertMs: 4520,
		});
		expect(timingInWindow(timing, { faceId: '7', startMs: 4500, endMs: 6000 })).toMatch(
			/leaves 1500 ms of the audio/,
		);
	});
});
