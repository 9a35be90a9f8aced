import type { AudioTiming } from './faceFit';
import { signUrlValues, urlSignatureHolds } from './urlSignature';

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
export function encodeDialogue(wire: DialogueWire, batch: string, key: Buffer, executionId: string): { dialogue: string; signature: string } {
	const dialogue = Buffer.from(JSON.stringify(wire)).toString('base64url');
	return { dialogue, signature: signUrlValues(key, executionId, [batch, dialogue]) };
}

/** The dialogue a callback URL carries, when its signature holds for this execution (never throws). */
export function decodeDialogue(batch: unknown, dialogue: unknown, signature: unknown, key: Buffer, executionId: string): DialogueWire | undefined {
	if (typeof dialogue !== 'string' || !urlSignatureHolds(key, executionId, [batch, dialogue], signature)) return undefined;
	try {
		const wire = JSON.parse(Buffer.from(dialogue, 'base64url').toString('utf8')) as DialogueWire;
		return Array.isArray(wire.speakers) && typeof wire.key === 'string' && typeof wire.resumeUrl === 'string' ? wire : undefined;
	} catch {
		return undefined;
	}
}
