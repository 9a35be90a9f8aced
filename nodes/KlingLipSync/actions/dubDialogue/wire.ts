import { BATCH_QUERY_PARAM, withQueryParam } from '../../helpers/callbackBatch';
import {
	SIGNATURE_QUERY_PARAM,
	signUrlValues,
	urlSignatureHolds,
} from '../../helpers/urlSignature';
import type { AudioTiming, CastDialogue, ChainDialogue } from './dialogue';

/**
 * What the webhook of a Callback-mode Dub Dialogue needs to make a dialogue's next step, carried
 * in the callback URL of its tasks: n8n hands the resume webhook neither the items nor any state
 * of the run. It is signed with a key from the credential and bound to its execution, so a forged,
 * edited or transplanted URL cannot make the node create (and pay for) a task.
 */
export const DIALOGUE_QUERY_PARAM = 'kling_dialogue';

/** A speaker as a later step needs them: no bytes, only what Kling can fetch by itself. */
export interface WireSpeaker {
	/** The face's window in the first session: how the face is found again in a new video. */
	window: [number, number];
	faceId: string;
	timing: AudioTiming;
	/** The audio Kling fetches: a URL or a Kling audio id (the first speaker's may be a file: none). */
	audio?: { url: string } | { audioId: string };
	fingerprint: string;
	durationMs: number;
}

export interface DialogueWire {
	key: string;
	itemIndex: number;
	/** The execution's resume URL, which every step's callback_url extends. */
	resumeUrl: string;
	soundVolume: number;
	originalAudioVolume: number;
	watermark: boolean;
	/** "New Task Every Run": each later step gets a fresh id too. */
	fresh: boolean;
	speakers: WireSpeaker[];
}

/** The dialogue's query value and its signature over it, the run's batch value and the execution. */
export function encodeDialogue(
	wire: DialogueWire,
	batch: string,
	key: Buffer,
	executionId: string,
): { dialogue: string; signature: string } {
	const dialogue = Buffer.from(JSON.stringify(wire)).toString('base64url');
	return { dialogue, signature: signUrlValues(key, executionId, [batch, dialogue]) };
}

/** The dialogue a callback URL carries, when its signature holds for this execution (never throws). */
export function decodeDialogue(
	batch: unknown,
	dialogue: unknown,
	signature: unknown,
	key: Buffer,
	executionId: string,
): DialogueWire | undefined {
	if (
		typeof dialogue !== 'string' ||
		!urlSignatureHolds(key, executionId, [batch, dialogue], signature)
	)
		return undefined;
	try {
		const wire = JSON.parse(Buffer.from(dialogue, 'base64url').toString('utf8')) as DialogueWire;
		return Array.isArray(wire.speakers) &&
			typeof wire.key === 'string' &&
			typeof wire.resumeUrl === 'string'
			? wire
			: undefined;
	} catch {
		return undefined;
	}
}

/** A dialogue in the form its callback URL carries it: the first speaker's audio is never needed there. */
export function wireOf(dialogue: CastDialogue, resumeUrl: string): DialogueWire {
	const { plan, cast, key } = dialogue;
	return {
		key,
		itemIndex: plan.itemIndex,
		resumeUrl,
		soundVolume: plan.create.soundVolume,
		originalAudioVolume: plan.create.originalAudioVolume,
		watermark: plan.create.watermark,
		fresh: plan.create.derivedId === 'fresh',
		speakers: cast.map(({ face, timing }, position) => {
			const { audio } = plan.speakers[position];
			const later = position > 0;
			return {
				window: [face.startMs ?? 0, face.endMs ?? Number.MAX_SAFE_INTEGER],
				faceId: face.faceId,
				timing,
				audio: !later
					? undefined
					: audio.audioId
						? { audioId: audio.audioId }
						: audio.sound && 'url' in audio.sound
							? { url: audio.sound.url }
							: undefined,
				fingerprint: later ? audio.fingerprint : '',
				durationMs: audio.durationMs ?? 0,
			};
		}),
	};
}

/** A dialogue as the webhook knows it from the URL: enough to make its later steps. */
export function dialogueOf(wire: DialogueWire): ChainDialogue {
	return {
		key: wire.key,
		plan: {
			itemIndex: wire.itemIndex,
			speakers: wire.speakers.map((speaker) => ({
				audio: {
					...(speaker.audio && 'audioId' in speaker.audio
						? { audioId: speaker.audio.audioId }
						: {}),
					...(speaker.audio && 'url' in speaker.audio ? { sound: { url: speaker.audio.url } } : {}),
					durationMs: speaker.durationMs,
					fingerprint: speaker.fingerprint,
				},
			})),
			create: {
				soundVolume: wire.soundVolume,
				originalAudioVolume: wire.originalAudioVolume,
				watermark: wire.watermark,
				derivedId: wire.fresh ? 'fresh' : 'work',
			},
		},
		cast: wire.speakers.map((speaker) => ({
			face: { faceId: speaker.faceId, startMs: speaker.window[0], endMs: speaker.window[1] },
			timing: speaker.timing,
		})),
	};
}

/** The callback URL of a dialogue's tasks: the resume URL, the run's dialogues, this one's plan, the signature. */
export function dialogueCallbackUrl(
	resumeUrl: string,
	batch: string,
	dialogue: string,
	signature: string,
): string {
	return withQueryParam(
		withQueryParam(
			withQueryParam(resumeUrl, BATCH_QUERY_PARAM, batch),
			DIALOGUE_QUERY_PARAM,
			dialogue,
		),
		SIGNATURE_QUERY_PARAM,
		signature,
	);
}
