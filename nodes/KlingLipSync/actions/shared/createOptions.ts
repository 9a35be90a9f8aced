import { randomUUID } from 'node:crypto';
import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import { workTaskId, type LipSyncWork } from '../../helpers/externalId';
import { checkHttpUrl, checkId, checkVolume } from '../../helpers/validation';
import type { AdoptionCheck, CreateLipSyncInput } from '../../transport/types';
import type { RunSettings } from '../node.type';
import { failOn, requireSupport } from '../params';
import { supportNote } from '../../transport/providers';

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

/** The Options every create takes (Lip Sync and Lip Sync Video), as the panel stores them. */
export interface CreateOptionValues {
	soundVolume?: number;
	originalAudioVolume?: number;
	watermark?: boolean;
	externalTaskId?: string;
	callbackUrl?: string;
	newTaskEveryRun?: boolean;
}

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

/** Checks the create options (before any call). */
export function readCreateOptions(
	this: IExecuteFunctions,
	itemIndex: number,
	options: CreateOptionValues,
	run: RunSettings,
): CreateOptions {
	const { api } = run;
	// Unset is 1; null (an expression's NaN or Infinity) is refused, never taken for unset.
	const soundVolume = options.soundVolume === undefined ? 1 : options.soundVolume;
	const originalAudioVolume =
		options.originalAudioVolume === undefined ? 1 : options.originalAudioVolume;
	failOn.call(this, itemIndex, checkVolume('Audio Volume', soundVolume));
	failOn.call(this, itemIndex, checkVolume('Original Audio Volume', originalAudioVolume));
	if (options.callbackUrl)
		failOn.call(this, itemIndex, checkHttpUrl('Callback URL', options.callbackUrl));
	// In Callback mode the node sets the callback URL itself: to this execution.
	if (options.callbackUrl && run.waitMode === 'callback') {
		failOn.call(
			this,
			itemIndex,
			'Callback URL must be empty in Callback wait mode: the node sets it to this execution',
		);
	}
	const ownId = options.externalTaskId !== undefined && options.externalTaskId !== '';
	if (ownId) {
		failOn.call(this, itemIndex, checkId('External Task ID', options.externalTaskId, 'yours'));
		requireSupport.call(this, itemIndex, api, 'externalTaskId');
	}
	return {
		soundVolume,
		originalAudioVolume,
		watermark: options.watermark ?? false,
		ownExternalTaskId: ownId ? (options.externalTaskId as string).trim() : undefined,
		derivedId: !api.supports.externalTaskId ? 'none' : options.newTaskEveryRun ? 'fresh' : 'work',
		callbackUrl: options.callbackUrl || undefined,
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
