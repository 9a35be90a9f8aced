import { randomUUID } from 'node:crypto';
import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import { deriveExternalTaskId } from '../../helpers/externalId';
import { checkHttpUrl, checkId, checkVolume } from '../../helpers/validation';
import type { LipSyncApi } from '../../transport/types';
import { failOn, requireSupport } from './params';

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
		description: 'Your own unique ID for the task; Get Task can find the task by it (Kling and Kling-compatible proxies only)',
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
} satisfies Record<string, INodeProperties>;

/** The Options every create takes (Lip Sync and Lip Sync Video), as the panel stores them. */
export interface CreateOptionValues {
	soundVolume?: number;
	originalAudioVolume?: number;
	watermark?: boolean;
	externalTaskId?: string;
	callbackUrl?: string;
}

export interface CreateOptions {
	soundVolume: number;
	originalAudioVolume: number;
	watermark: boolean;
	/** The user's, or one derived from execution, run and item where the provider takes one. */
	externalTaskId?: string;
	callbackUrl?: string;
}

/** Checks the create options (before any call) and settles the task's external_task_id. */
export function readCreateOptions(this: IExecuteFunctions, itemIndex: number, options: CreateOptionValues, api: LipSyncApi): CreateOptions {
	const soundVolume = options.soundVolume ?? 1;
	const originalAudioVolume = options.originalAudioVolume ?? 1;
	failOn.call(this, itemIndex, checkVolume('Audio Volume', soundVolume));
	failOn.call(this, itemIndex, checkVolume('Original Audio Volume', originalAudioVolume));
	if (options.callbackUrl) failOn.call(this, itemIndex, checkHttpUrl('Callback URL', options.callbackUrl));
	const ownId = options.externalTaskId !== undefined && options.externalTaskId !== '';
	if (ownId) {
		failOn.call(this, itemIndex, checkId('External Task ID', options.externalTaskId, 'yours'));
		requireSupport.call(this, itemIndex, api, 'externalTaskId');
	}
	// Every create carries an external_task_id where the provider takes one, so a lost reply
	// never leads to a second task (the transport looks the task up by it before resubmitting).
	const externalTaskId = ownId
		? (options.externalTaskId as string).trim()
		: api.supports.externalTaskId
			? deriveExternalTaskId({
					executionId: this.getExecutionId() || randomUUID(),
					nodeId: this.getNode().id ?? '',
					runIndex: Number(this.getWorkflowDataProxy(itemIndex).$runIndex ?? 0),
					itemIndex,
				})
			: undefined;
	return {
		soundVolume,
		originalAudioVolume,
		watermark: options.watermark ?? false,
		externalTaskId,
		callbackUrl: options.callbackUrl || undefined,
	};
}
