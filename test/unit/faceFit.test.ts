import { chooseFace, fitAudio } from '../../nodes/KlingLipSync/helpers/faceFit';
import { searchVoices } from '../../nodes/KlingLipSync/helpers/voices';

describe('Lip Sync Video: face choice and fitting', () => {
	const faces = [
		{ faceId: '0', startMs: 0, endMs: 3000 },
		{ faceId: '1', startMs: 2000, endMs: 8000 },
	];

	it.each([
		['the most overlap at each face start', { by: 'mostOverlap' as const }, 4000, undefined, 1],
		['the first on a tie', { by: 'mostOverlap' as const }, 2500, undefined, 0],
		['the most overlap at a fixed insert', { by: 'mostOverlap' as const }, 2500, 0, 0],
		['by index', { by: 'index' as const, index: 1 }, 2500, undefined, 1],
		['by face id (trimmed)', { by: 'faceId' as const, faceId: ' 1 ' }, 2500, undefined, 1],
	])('chooses %s', (_name, choice, audioMs, insertMs, expected) => {
		expect(chooseFace(faces, audioMs, choice, insertMs)).toBe(expected);
	});

	it('explains why no face can be chosen', () => {
		expect(chooseFace([], 3000, { by: 'mostOverlap' })).toMatch(/no face/);
		expect(chooseFace(faces, 3000, { by: 'index', index: 2 })).toMatch(
			/^Face Index must be from 0 to 1/,
		);
		expect(chooseFace(faces, 3000, { by: 'index', index: 0.5 })).toMatch(/^Face Index/);
		expect(chooseFace(faces, 3000, { by: 'faceId', faceId: '9' })).toMatch(
			/not among the faces Kling found \(0, 1\)/,
		);
	});

	it.each([
		[
			'audio inside the window',
			faces[1],
			4000,
			0,
			undefined,
			{ cropStartMs: 0, cropEndMs: 4000, insertMs: 2000, trimmedMs: 0 },
		],
		[
			'audio longer than the window',
			faces[0],
			5000,
			0,
			undefined,
			{ cropStartMs: 0, cropEndMs: 3000, insertMs: 0, trimmedMs: 2000 },
		],
		[
			'a crop start',
			faces[1],
			9000,
			1000,
			3000,
			{ cropStartMs: 1000, cropEndMs: 6000, insertMs: 3000, trimmedMs: 3000 },
		],
		[
			'no window known',
			{ faceId: '0' },
			5000,
			0,
			undefined,
			{ cropStartMs: 0, cropEndMs: 5000, insertMs: 0, trimmedMs: 0 },
		],
	])('fits %s', (_name, face, audioMs, cropStartMs, insertMs, expected) => {
		expect(fitAudio(face, audioMs, cropStartMs, insertMs)).toEqual(expected);
	});

	it.each([
		[
			'too little audio after the crop start',
			faces[1],
			3000,
			1500,
			undefined,
			/leaves 1500 ms of audio/,
		],
		['an insert before the window', faces[1], 3000, 0, 1000, /outside face 1's window/],
		[
			'an insert leaving under 2 s',
			faces[1],
			3000,
			0,
			6500,
			/^Insert At \(Milliseconds\) 6500 leaves 1500 ms of audio inside face 1's window/,
		],
	])('refuses %s', (_name, face, audioMs, cropStartMs, insertMs, message) => {
		expect(fitAudio(face, audioMs, cropStartMs, insertMs)).toMatch(message);
	});

	it('searches voices by name, id or language', () => {
		expect(searchVoices(undefined).length).toBeGreaterThan(10);
		expect(searchVoices('british').map((voice) => voice.id)).toEqual([
			'uk_boy1',
			'uk_man2',
			'uk_oldman3',
		]);
		expect(searchVoices('ZH').every((voice) => voice.language === 'zh')).toBe(true);
		expect(searchVoices('no such voice')).toEqual([]);
	});
});
