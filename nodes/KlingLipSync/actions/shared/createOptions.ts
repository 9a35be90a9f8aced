import { randomUUID } from 'node:crypto';
import type { INodeProperties } from 'n8n-workflow';

import { workTaskId, type LipSyncWork } from '../../helpers/externalId';
import { supportNote } from '../../transport/providers';
import { checkHttpUrl, checkVolume } from '../../helpers/validation';
import type { AdoptionCheck, CreateLipSyncInput } from '../../transport/types';
import type { RunSettings } from '../node.type';
import type { ItemParameters } from '../params';

/** The panel fields of the create options, for the Options collections of Lip Sync and Lip Sync Video. */
export const createOptionFields = {
	soundVolume: {
		displayName: 'Audio Volume',
		name: 'soundVolume',
		type: 'number',
		typeOptions: { minValue: 0, maxValue: 2, numberPrecision: 2 },
		default: 1,
		description: 'Volume of the new audio, 0 to 2 (1 = unchanged)',
	},
	externalTaskId: {
		displayName: 'External Task ID',
		name: 'externalTaskId',
		type: 'string',
		default: '',
		placeholder: 'e.g. dub-episode-12-fr',
		description: `Your own unique ID for the task; Get Task can find the task by it (${supportNote('externalTaskId')})`,
	},
	originalAudioVolume: {
		displayName: 'Original Audio Volume',
		name: 'originalAudioVolume',
		type: 'number',
		typeOptions: { minValue: 0, maxValue: 2, numberPrecision: 2 },
		default: 1,
		description: "Volume of the video's own sound, 0 to 2 (no effect on a silent video)",
	},
	watermark: {
		displayName: 'Watermark',
		name: 'watermark',
		type: 'boolean',
		default: false,
		description: 'Whether Kling also produces a watermarked variant of the result',
	},
	newTaskEveryRun: {
		displayName: 'New Task Every Run',
		name: 'newTaskEveryRun',
		type: 'boolean',
		default: false,
		description: `Whether to pay for a new task even when the same work (session, face, audio, timings, volumes, watermark) was lip-synced before. Off: a retry or re-run finds the task already paid for and returns its result (${supportNote('externalTaskId')}).`,
	},
} satisfies Record<string, INodeProperties>;

export interface CreateOptions {
	soundVolume: number;
	originalAudioVolume: number;
	watermark: boolean;
	/** The user's own external_task_id: a task that has it already is never adopted. */
	ownExternalTaskId?: string;
	/**
	 * The id of a task the user named none for: derived from the work (a retry finds the task
	 * already paid for), new every run, or none where the provider takes no external ids.
	 */
	derivedId: 'work' | 'fresh' | 'none';
	callbackUrl?: string;
}

/** Reads and checks the Options every create takes (before any call). */
export function readCreateOptions(item: ItemParameters, run: RunSettings): CreateOptions {
	const { api } = run;
	// Unset is 1; null (an expression's NaN or Infinity) is refused, never taken for unset.
	const soundVolume = item.raw('options.soundVolume', 1);
	const originalAudioVolume = item.raw('options.originalAudioVolume', 1);
	item.check(checkVolume('Audio Volume', soundVolume));
	item.check(checkVolume('Original Audio Volume', originalAudioVolume));
	const callbackUrl = item.raw('options.callbackUrl', '');
	if (callbackUrl) item.check(checkHttpUrl('Callback URL', callbackUrl));
	// In Callback mode the node sets the callback URL itself: to this execution.
	if (callbackUrl && run.waitMode === 'callback') {
		item.fail(
			'Callback URL must be empty in Callback wait mode: the node sets it to this execution',
		);
	}
	const ownId = item.raw('options.externalTaskId', '');
	const ownExternalTaskId =
		ownId === undefined || ownId === ''
			? undefined
			: item.id('options.externalTaskId', 'External Task ID', 'yours');
	if (ownExternalTaskId) item.requireSupport(api, 'externalTaskId');
	return {
		soundVolume: Number(soundVolume),
		originalAudioVolume: Number(originalAudioVolume),
		watermark: item.flag('options.watermark'),
		ownExternalTaskId,
		derivedId: !api.supports.externalTaskId
			? 'none'
			: item.flag('options.newTaskEveryRun')
				? 'fresh'
				: 'work',
		callbackUrl: callbackUrl ? String(callbackUrl) : undefined,
	};
}

/** The work of one task beyond its create options: what it lip-syncs, with what, where. */
export type TaskWork = Omit<LipSyncWork, 'soundVolume' | 'originalAudioVolume' | 'watermark'>;

/**
 * The create fields of one task: its options, its external_task_id, and whether a task that has
 * that id already is adopted (a work-derived id: the same work, paid for by an earlier run).
 * Every create carries an id where the provider takes one, so a lost reply never leads to a
 * second task (the transport looks the task up by it before resubmitting).
 */
export function taskCreateFields(
	create: CreateOptions,
	work: TaskWork,
	video?: AdoptionCheck['video'],
): Pick<
	CreateLipSyncInput,
	'soundVolume' | 'originalAudioVolume' | 'watermark' | 'externalTaskId' | 'callbackUrl' | 'reuse'
> {
	const { soundVolume, originalAudioVolume, watermark, callbackUrl } = create;
	const fields = { soundVolume, originalAudioVolume, watermark, callbackUrl };
	if (create.ownExternalTaskId) return { ...fields, externalTaskId: create.ownExternalTaskId };
	if (create.derivedId === 'none') return fields;
	const full: LipSyncWork = { ...work, soundVolume, originalAudioVolume, watermark };
	if (create.derivedId === 'fresh')
		return { ...fields, externalTaskId: workTaskId(full, randomUUID()) };
	const externalTaskId = workTaskId(full);
	return { ...fields, externalTaskId, reuse: { externalTaskId, watermark, video } };
}
