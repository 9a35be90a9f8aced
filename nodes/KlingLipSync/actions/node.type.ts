import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import type { Slots } from '../helpers/pool';
import type { CreateLipSyncInput, LipSyncApi } from '../transport/types';
import type { KlingOperation } from './operations';
import type { ResolvedAudio } from './shared/audioSource';

export type { KlingOperation };

export type WaitMode = 'poll' | 'callback';

/** How a run waits for its tasks (Wait for Completion on). */
export interface WaitSettings {
	pollIntervalMs: number;
	maxWaitMs: number;
	download: boolean;
	binaryPropertyName: string;
	watermarked: boolean;
	maxDownloadBytes: number;
}

/** What a node run reads once, for all its items. */
export interface RunSettings {
	operation: KlingOperation;
	/** One connection for the whole run: its request rate and clock correction are shared. */
	api: LipSyncApi;
	continueOnFail: boolean;
	/** How many items' work runs at once. */
	maxInFlight: number;
	/** Wait for Completion: how to wait; undefined when the run does not wait. */
	wait?: WaitSettings;
	waitMode: WaitMode;
	/** Turns for reading audio n8n holds (binary, base64) while items are planned: a few at a time. */
	audioReads: Slots;
}

/**
 * An operation that answers item by item (no task to wait for across items): its `plan` reads and
 * checks one item's parameters with no billed call; `execute` does the item's work.
 */
export interface ItemOperation<Plan> {
	plan(this: IExecuteFunctions, itemIndex: number, run: RunSettings): Promise<Plan>;
	execute(this: IExecuteFunctions, plan: Plan, run: RunSettings): Promise<INodeExecutionData[]>;
}

/** One lip-sync task to create: plain data, every check done. */
export interface TaskRequest {
	itemIndex: number;
	/** The create, without its sound file (read at create) and its callback URL (the run's, in Callback mode). */
	create: Omit<CreateLipSyncInput, 'soundFile'>;
	/** Where the audio is: sent as a URL, or read from the item when the task is created. */
	audio: ResolvedAudio;
	/** What the operation adds to the item's output (Lip Sync Video: the face and the fit). */
	details?: IDataObject;
}

/**
 * An operation that creates lip-sync tasks. `plan` reads and checks one item with no billed call;
 * `request` turns a plan into the task to create (Lip Sync Video identifies the face here).
 */
export interface TaskOperation<Plan> {
	plan(this: IExecuteFunctions, itemIndex: number, run: RunSettings): Promise<Plan>;
	request(this: IExecuteFunctions, plan: Plan, run: RunSettings): Promise<TaskRequest>;
}
