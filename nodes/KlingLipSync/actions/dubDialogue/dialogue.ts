import type { IDataObject } from 'n8n-workflow';

import type { FaceChoice, FaceWindow } from '../../helpers/faceFit';
import type { IdentifyFaceInput, IdentifyFaceResult, LipSyncTask } from '../../transport/types';
import type { TaskRequest } from '../node.type';
import type { ResolvedAudio } from '../shared/audioSource';
import type { CreateOptions } from '../shared/createOptions';

/**
 * Dub Dialogue's plain data: a dialogue planned (every speaker read and checked), cast on its
 * first session (every face and timing known) and chained (each step lip-syncs one speaker on
 * the video the step before made).
 */

/** Where a speaker's audio lies on the video. */
export type SpeakerPlacement =
	/** As long as the video (silence where others speak): the part inside the face's window is used. */
	| { kind: 'fullLength' }
	/** A clip that starts at Insert At on the video: its part from Crop Start to Crop End. */
	| { kind: 'clip'; insertMs: number; cropStartMs: number; cropEndMs: number };

export interface AudioTiming {
	cropStartMs: number;
	cropEndMs: number;
	insertMs: number;
}

/** A speaker as the first session sees them: their face (its window) and where their audio goes. */
export interface CastSpeaker {
	faceIndex: number;
	face: FaceWindow;
	timing: AudioTiming;
}

/** A speaker, checked (the audio measured; nothing billed). */
export interface SpeakerPlan {
	face: FaceChoice;
	audio: ResolvedAudio;
	audioMs: number;
	placement: SpeakerPlacement;
}

/** One dialogue (item), checked: the video and its speakers, in the order they are synced. */
export interface DialoguePlan {
	itemIndex: number;
	video: IdentifyFaceInput;
	speakers: SpeakerPlan[];
	create: CreateOptions;
}

/**
 * What a dialogue's later steps need, and all a Callback-mode webhook has of it: each speaker's
 * audio, face window and timing from the first session, the create options, the dialogue's key.
 */
export interface ChainDialogue {
	plan: { itemIndex: number; speakers: Array<{ audio: ResolvedAudio }>; create: CreateOptions };
	cast: Array<Pick<CastSpeaker, 'face' | 'timing'>>;
	/** Names the dialogue in its steps' external_task_ids: a digest of all its work. */
	key: string;
}

/** The video a step lip-syncs: the item's own for the first, then the one the step before made. */
export const subjectOf = (video: IdentifyFaceInput): string =>
	video.videoId ? `video_id:${video.videoId}` : `video_url:${video.videoUrl ?? ''}`;

/** A dialogue after its first Identify Face: every speaker's face and timing known, nothing created. */
export interface CastDialogue extends ChainDialogue {
	plan: DialoguePlan;
	first: IdentifyFaceResult;
	cast: CastSpeaker[];
}

/** A dialogue's chain as far as it went: every step's task (paid for), in step order. */
export interface ChainRun {
	dialogue: ChainDialogue;
	tasks: LipSyncTask[];
	/** Each step as the output lists it (what the run knows of it). */
	steps: IDataObject[];
	/** The first step's request, made from the first session (a chain known from its tasks has none). */
	start?: TaskRequest;
	/** Steps made before the first of `tasks` (a webhook goes on from the step that called back). */
	stepsBefore: number;
}
