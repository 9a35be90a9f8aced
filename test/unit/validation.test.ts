import {
	checkHttpUrl,
	checkId,
	checkMilliseconds,
	checkTiming,
	checkVolume,
	overlapMs,
} from '../../nodes/KlingLipSync/helpers/validation';
import { normaliseBase64 } from '../../nodes/KlingLipSync/actions/shared/audioSource';

describe('validation', () => {
	it.each([
		[checkMilliseconds('T', 5), undefined],
		[checkMilliseconds('T', '5'), 'T must be a number of milliseconds (got a string)'],
		[
			checkMilliseconds('T', null),
			'T must be a number of milliseconds: its expression gave null (NaN and Infinity arrive as null)',
		],
		[checkMilliseconds('T', 3_600_001), 'T must be at most 3600000 ms (got 3600001)'],
		[
			checkMilliseconds('T', Number.NaN),
			'T must be a number of milliseconds: its expression gave NaN',
		],
		[checkMilliseconds('T', 1.5), 'T must be a whole number of milliseconds (got 1.5)'],
		[checkMilliseconds('T', -1), 'T must not be negative (got -1)'],
		[checkVolume('V', 0), undefined],
		[checkVolume('V', 2), undefined],
		[checkVolume('V', 2.01), 'V must be from 0 to 2 (got 2.01)'],
		[
			checkVolume('V', Number.POSITIVE_INFINITY),
			'V must be a number from 0 to 2: its expression gave Infinity',
		],
		[
			checkVolume('V', null),
			'V must be a number from 0 to 2: its expression gave null (NaN and Infinity arrive as null)',
		],
		[checkId('I', '0'), undefined],
		[checkId('I', '  '), 'I is required'],
		[checkId('I', null), 'I is required'],
		[checkHttpUrl('U', 'https://a.b/c'), undefined],
		[checkHttpUrl('U', 'javascript:alert(1)'), 'U must be an http(s) URL (got javascript:)'],
	])('%#: %s', (actual, expected) => {
		expect(actual).toBe(expected);
	});

	it('measures overlaps', () => {
		expect(overlapMs(0, 3000, 2000, 8000)).toBe(1000);
		expect(overlapMs(0, 1000, 2000, 8000)).toBe(0);
	});

	it('checks timing at the exact boundaries', () => {
		const scene = { faceStartMs: 1000, faceEndMs: 5000, videoDurationMs: 8000 };
		expect(checkTiming({ cropStartMs: 0, cropEndMs: 2000, insertMs: 6000 }, 2000, scene)).toMatch(
			/overlap 0 ms/,
		);
		expect(
			checkTiming({ cropStartMs: 0, cropEndMs: 2000, insertMs: 3000 }, 2000, scene),
		).toBeUndefined();
		expect(
			checkTiming({ cropStartMs: 0, cropEndMs: 2000, insertMs: 6000 }, 2000, {
				videoDurationMs: 8000,
			}),
		).toBeUndefined();
		expect(
			checkTiming({ cropStartMs: 0, cropEndMs: 2000, insertMs: 6001 }, 2000, {
				videoDurationMs: 8000,
			}),
		).toMatch(/past the end/);
		expect(checkTiming({ cropStartMs: 1, cropEndMs: 2000, insertMs: 0 }, 2000, {})).toMatch(
			/got 1999 ms/,
		);
		expect(checkTiming({ cropStartMs: 0, cropEndMs: 2001, insertMs: 0 }, 2000, {})).toMatch(
			/end of the audio/,
		);
		expect(
			checkTiming({ cropStartMs: 0, cropEndMs: 60000, insertMs: 0 }, undefined, {}),
		).toBeUndefined();
	});

	it('normalises base64 input', () => {
		expect(normaliseBase64('data:audio/wav;base64,QUJD\nREVG ')).toBe('QUJDREVG');
	});
});
