import { taskKey } from '../../nodes/KlingLipSync/helpers/callbackBatch';
import {
	chainStepOf,
	dialogueKey,
	retryGeneration,
	workIdOf,
	workTaskId,
} from '../../nodes/KlingLipSync/helpers/externalId';
import {
	decodeDialogue,
	encodeDialogue,
	type DialogueWire,
} from '../../nodes/KlingLipSync/actions/dubDialogue/wire';

/** Dub Dialogue's pure parts: placing speakers, finding faces again, chain ids, the signed URL plan. */

describe('Dub Dialogue: chain ids and the signed plan', () => {
	const work = {
		subject: 'video_id:1',
		faceId: '0',
		audio: 'sha256:ab',
		cropStartMs: 0,
		cropEndMs: 4500,
		insertMs: 0,
		soundVolume: 1,
		originalAudioVolume: 1,
		watermark: false,
	};

	it('names the dialogue and the step in each step id, the last step apart, and reads them back', () => {
		const key = dialogueKey({ video: 'video_url:x', speakers: [1, 2] });
		expect(key).toMatch(/^[A-Za-z0-9_-]{8}$/);
		expect(dialogueKey({ video: 'video_url:x', speakers: [1, 2] })).toBe(key);
		expect(dialogueKey({ video: 'video_url:x', speakers: [1, 2] }, 'nonce')).not.toBe(key);
		const first = workTaskId({ ...work, chain: { key, step: 1, last: false } });
		const last = workTaskId({
			...work,
			subject: 'video_id:2',
			chain: { key, step: 2, last: true },
		});
		expect(first).toMatch(new RegExp(`^n8n-d${key.replace(/[-]/g, '\\-')}1-[0-9a-f]{24}$`));
		expect(chainStepOf(first)).toEqual({ key, step: 1, last: false });
		expect(chainStepOf(last)).toEqual({ key, step: 2, last: true });
		expect(chainStepOf(workTaskId(work))).toBeUndefined();
		expect(chainStepOf('n8n-dABCDEFGH1-xyz')).toBeUndefined();
		// A step made anew after Kling failed it is the same step, under the same callback key.
		expect(chainStepOf(`${last}-r2`)).toEqual({ key, step: 2, last: true });
		expect(workIdOf(`${last}-r2`)).toBe(last);
		expect(taskKey(`${last}-r1`)).toBe(taskKey(last));
		const reuse = { externalTaskId: last, watermark: false };
		const next = retryGeneration(
			{
				sessionId: 's',
				faceId: '0',
				cropStartMs: 0,
				cropEndMs: 2000,
				insertMs: 0,
				soundVolume: 1,
				originalAudioVolume: 1,
				watermark: false,
				externalTaskId: last,
				reuse,
			},
			reuse,
			3,
		);
		expect(next.externalTaskId).toBe(`${last}-r3`);
		expect(next.reuse?.externalTaskId).toBe(`${last}-r3`);
		// The same work in another dialogue or step is another task.
		expect(workTaskId({ ...work, chain: { key, step: 2, last: false } })).not.toBe(first);
	});

	it('signs the plan with the credential key: an edit, another key or another run is refused', () => {
		const wire: DialogueWire = {
			key: 'AbCdEfGh',
			itemIndex: 3,
			resumeUrl: 'https://n8n.example.com/webhook-waiting/42',
			soundVolume: 1,
			originalAudioVolume: 0.5,
			watermark: false,
			fresh: false,
			speakers: [
				{
					window: [4500, 9000],
					faceId: '1',
					timing: { cropStartMs: 4500, cropEndMs: 9000, insertMs: 4500 },
					audio: { url: 'https://a.example/b.mp3' },
					fingerprint: 'sha256:ab',
					durationMs: 9000,
				},
			],
		};
		const key = Buffer.alloc(32, 7);
		const { dialogue, signature } = encodeDialogue(wire, 'AbCdEfGh', key, '17');
		expect(decodeDialogue('AbCdEfGh', dialogue, signature, key, '17')).toEqual(wire);
		// Another execution's resume URL with this dialogue: refused.
		expect(decodeDialogue('AbCdEfGh', dialogue, signature, key, '18')).toBeUndefined();
		expect(
			decodeDialogue('AbCdEfGh', dialogue, signature, Buffer.alloc(32, 8), '17'),
		).toBeUndefined();
		expect(decodeDialogue('AbCdEfGhIjKlMnOp', dialogue, signature, key, '17')).toBeUndefined();
		const edited = Buffer.from(
			JSON.stringify({
				...wire,
				speakers: [{ ...wire.speakers[0], audio: { url: 'https://evil.example/x.mp3' } }],
			}),
		).toString('base64url');
		expect(decodeDialogue('AbCdEfGh', edited, signature, key, '17')).toBeUndefined();
		expect(decodeDialogue('AbCdEfGh', dialogue, undefined, key, '17')).toBeUndefined();
		expect(decodeDialogue('AbCdEfGh', 'not json', signature, key, '17')).toBeUndefined();
	});
});
