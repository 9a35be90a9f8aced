import { jsonBytes } from '../../nodes/KlingLipSync/transport';
import { InlineBytes } from '../../nodes/KlingLipSync/transport/types';

describe('request bodies as JSON bytes (inline audio)', () => {
	it('writes inline bytes as the same base64 JSON.stringify would, at every slice boundary', () => {
		for (const size of [0, 1, 2, 3, 49_151, 49_152, 49_153, 200_000]) {
			const bytes = Buffer.from(
				Array.from({ length: size }, (_, index) => (index * 7 + size) % 256),
			);
			const body = {
				session_id: '800000001000007932',
				face_choose: [{ face_id: '0', sound_file: new InlineBytes(bytes) }],
				note: 'é "q"',
			};
			const written = jsonBytes(body);
			expect(written.toString('utf8')).toBe(
				JSON.stringify({
					...body,
					face_choose: [{ face_id: '0', sound_file: bytes.toString('base64') }],
				}),
			);
		}
	});

	it('leaves a body without inline bytes as plain JSON, and a look-alike text as text', () => {
		const body = { text: '\u0001inline:0', list: [1, 2], nested: { a: null } };
		expect(JSON.parse(jsonBytes(body).toString('utf8'))).toEqual(body);
	});
});
