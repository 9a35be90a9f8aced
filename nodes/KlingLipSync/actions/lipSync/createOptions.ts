import { randomUUID } from 'node:crypto';
import type { IExecuteFunctions } from 'n8n-workflow';

import { deriveExternalTaskId } from '../../helpers/externalId';
import { checkHttpUrl, checkId, checkVolume } from '../../helpers/validation';
import type { LipSyncApi } from '../../transport/types';
import { failOn, requireSupport } from './params';

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
