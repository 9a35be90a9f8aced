import { createHash } from 'node:crypto';

import type { CreateLipSyncInput } from '../transport/types';

/** Everything that decides what a lip-sync task produces: the same work gives the same id. */
export type LipSyncWork = Pick<
	CreateLipSyncInput,
	'faceId' | 'cropStartMs' | 'cropEndMs' | 'insertMs' | 'soundVolume' | 'originalAudioVolume' | 'watermark'
> & {
	/**
	 * What is lip-synced: Lip Sync's session_id, or for Lip Sync Video (which identifies anew on
	 * every run, with a new session) the video itself.
	 */
	subject: string;
	/** `audio_id:<id>`, or `sha256:<hex>` of the audio's bytes (a URL's content, not its text). */
	audio: string;
};

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
	];
	return `n8n-${createHash('sha256').update(JSON.stringify(fields)).digest('hex').slice(0, 32)}`;
}

/** The audio's part of the work: its id, or a digest of its bytes. */
export function audioFingerprint(audio: { audioId?: string; bytes?: Buffer }): string {
	if (audio.audioId) return `audio_id:${audio.audioId}`;
	return `sha256:${createHash('sha256')
		.update(audio.bytes ?? Buffer.alloc(0))
		.digest('hex')}`;
}
