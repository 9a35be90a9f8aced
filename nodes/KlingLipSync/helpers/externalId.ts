import { createHash } from 'node:crypto';

import type { AdoptionCheck, CreateLipSyncInput } from '../transport/types';

/** Everything that decides what a lip-sync task produces: the same work gives the same id. */
export type LipSyncWork = Pick<
	CreateLipSyncInput,
	| 'faceId'
	| 'cropStartMs'
	| 'cropEndMs'
	| 'insertMs'
	| 'soundVolume'
	| 'originalAudioVolume'
	| 'watermark'
> & {
	/**
	 * What is lip-synced: Lip Sync's session_id, or for Lip Sync Video (which identifies anew on
	 * every run, with a new session) the video itself.
	 */
	subject: string;
	/** `audio_id:<id>`, or `sha256:<hex>` of the audio's bytes (a URL's content, not its text). */
	audio: string;
	/** A step of a dialogue: the dialogue's key and the step (1 = the first speaker). */
	chain?: ChainStep;
};

export interface ChainStep {
	key: string;
	step: number;
	/** The dialogue's last step: its video is the dialogue's result. */
	last: boolean;
}

/**
 * The external_task_id of a task the user named none for: a digest of the work itself, so a
 * retry, a re-run on the same Identify Face output, or a crashed worker's next attempt finds the
 * task already paid for, while different work (in this n8n or another sharing the account) can
 * never meet the same id. `nonce` makes it new on purpose ("New Task Every Run").
 */
export function workTaskId(work: LipSyncWork, nonce = ''): string {
	const fields = [
		'lipsync/1',
		work.subject,
		work.faceId,
		work.audio,
		work.cropStartMs,
		work.cropEndMs,
		work.insertMs,
		work.soundVolume,
		work.originalAudioVolume,
		work.watermark,
		nonce,
		...(work.chain ? [work.chain.key, work.chain.step, work.chain.last] : []),
	];
	const digest = createHash('sha256').update(JSON.stringify(fields)).digest('hex');
	// A dialogue's steps name their dialogue and step: a Callback-mode run finds a chain's tasks in a list.
	if (!work.chain) return `n8n-${digest.slice(0, 32)}`;
	const { key, step, last } = work.chain;
	return `n8n-${last ? 'e' : 'd'}${key}${step}-${digest.slice(0, 24)}`;
}

/** A short key's length: 48 bits in URL-safe characters. */
export const SHORT_KEY_LENGTH = 8;

/**
 * 48 bits of the SHA-256 of a text, in 8 URL-safe characters: the keys of one run never share one,
 * and another's matches one by chance with odds of 1 in 2^48.
 */
export const shortKey = (text: string): string =>
	createHash('sha256').update(text).digest('base64url').slice(0, SHORT_KEY_LENGTH);

/** `n8n-d<key><step>-<digest>`, or `n8n-e...` for a dialogue's last step ("ends"). */
const CHAIN_ID = new RegExp(
	`^n8n-([de])([A-Za-z0-9_-]{${SHORT_KEY_LENGTH}})([1-9][0-9]?)-[0-9a-f]{24}(?:-r[1-9][0-9]*)?$`,
);

/**
 * A dialogue's key: 48 bits of a digest of all its work (video, every speaker's face, audio and
 * timing, the options), in 8 URL-safe characters. `nonce` makes it new on purpose.
 */
export function dialogueKey(work: unknown, nonce = ''): string {
	return shortKey(JSON.stringify(['dialogue/1', work, nonce]));
}

/** The dialogue and step an external_task_id names, when it is a dialogue step's. */
export function chainStepOf(externalTaskId: string | undefined): ChainStep | undefined {
	const match = CHAIN_ID.exec(externalTaskId ?? '');
	return match ? { key: match[2], step: Number(match[3]), last: match[1] === 'e' } : undefined;
}

/** The audio's part of the work: its id, or a digest of its bytes. */
export function audioFingerprint(audio: { audioId?: string; bytes?: Buffer }): string {
	if (audio.audioId) return `audio_id:${audio.audioId}`;
	return `sha256:${createHash('sha256')
		.update(audio.bytes ?? Buffer.alloc(0))
		.digest('hex')}`;
}

/** How often work whose task failed at Kling is made anew under a next id before the node gives up. */
export const MAX_RETRY_GENERATIONS = 20;
const GENERATION = /-r[1-9][0-9]*$/;

/** The work's own id, without the retry generation a task made anew after a failure carries. */
export const workIdOf = (externalTaskId: string): string => externalTaskId.replace(GENERATION, '');

/**
 * The create of work whose earlier tasks failed at Kling, under its `generation`-th next id
 * (`<work id>-r<n>`): derived, so a later retry finds and adopts it as it does the first.
 */
export function retryGeneration(
	input: CreateLipSyncInput,
	reuse: AdoptionCheck,
	generation: number,
): CreateLipSyncInput {
	const externalTaskId = `${workIdOf(reuse.externalTaskId)}-r${generation}`;
	return { ...input, externalTaskId, reuse: { ...reuse, externalTaskId } };
}
