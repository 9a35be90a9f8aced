import type { IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { Slots } from '../../helpers/pool';
import { createLipSyncApi } from '../../transport';
import { DEFAULT_MAX_DOWNLOAD_MB } from '../common.descriptions';
import { notANumber } from '../../helpers/validation';
import { failOn, requireSupport } from '../params';
import type { RunSettings, WaitMode, WaitSettings } from '../node.type';
import { isOperation, OPERATIONS } from '../operations';

/** Audio n8n holds (binary, base64) read at once while planning: reading it side by side gains nothing. */
const LOCAL_AUDIO_READS_AT_ONCE = 2;

/**
 * The run's settings, read once from the node's parameters (the first item's values where an
 * expression could differ per item: the run waits once, at one pace, through one connection).
 */
export async function readRunSettings(ctx: IExecuteFunctions): Promise<RunSettings> {
	const operation = ctx.getNodeParameter('operation', 0);
	if (!isOperation(operation)) {
		throw new NodeOperationError(
			ctx.getNode(),
			`The operation "${String(operation)}" is not supported`,
		);
	}
	const facts = OPERATIONS[operation];
	const api = await createLipSyncApi(ctx, 0);
	const wait = readWaitSettings.call(ctx, 0, facts.alwaysWaits);
	const waitMode: WaitMode =
		wait && facts.canWaitByCallback && ctx.getNodeParameter('waitMode', 0, 'poll') === 'callback'
			? 'callback'
			: 'poll';
	// Tasks report back by external_task_id: the resume URL names them so.
	if (waitMode === 'callback') requireSupport.call(ctx, 0, api, 'externalTaskId');
	const chosen = ctx.getNodeParameter('options.maxInFlight', 0, 0) as unknown;
	failOn.call(ctx, 0, notANumber('Max Tasks in Flight', chosen, 'a whole number from 1 to 100'));
	return {
		operation,
		api,
		continueOnFail: ctx.continueOnFail(),
		maxInFlight: (chosen as number) >= 1 ? (chosen as number) : facts.defaultInFlight,
		wait,
		waitMode,
		audioReads: new Slots(LOCAL_AUDIO_READS_AT_ONCE),
	};
}

/** The wait settings, or undefined when the run does not wait (`always`: it has no switch, it waits). */
export function readWaitSettings(
	this: IExecuteFunctions,
	itemIndex: number,
	always = false,
): WaitSettings | undefined {
	if (!always && !(this.getNodeParameter('waitForCompletion', itemIndex, false) as boolean))
		return undefined;
	const options = this.getNodeParameter('waitOptions', itemIndex, {}) as Record<string, unknown>;
	for (const [name, label] of [
		['maxWaitMinutes', 'Max Wait (Minutes)'],
		['pollIntervalSeconds', 'Poll Interval (Seconds)'],
		['maxDownloadMb', 'Max Download Size (MB)'],
	] as const) {
		if (options[name] !== undefined)
			failOn.call(this, itemIndex, notANumber(label, options[name], 'a positive number'));
	}
	return waitSettingsFrom((name, fallback) => this.getNodeParameter(name, itemIndex, fallback));
}

/**
 * The wait settings from the node's parameters, however they are read: per item in an
 * execution, or once in the webhook call that resumes a Callback-mode wait.
 */
export function waitSettingsFrom(read: (name: string, fallback: unknown) => unknown): WaitSettings {
	const options = read('waitOptions', {}) as {
		pollIntervalSeconds?: number;
		maxWaitMinutes?: number;
		watermarked?: boolean;
		maxDownloadMb?: number;
	};
	const download = read('downloadVideo', false) as boolean;
	return {
		pollIntervalMs: Math.max(200, (options.pollIntervalSeconds ?? 10) * 1000),
		maxWaitMs: Math.max(1000, (options.maxWaitMinutes ?? 20) * 60_000),
		download,
		binaryPropertyName: download ? (read('binaryPropertyName', 'data') as string) : 'data',
		watermarked: options.watermarked ?? false,
		maxDownloadBytes: downloadLimitBytes(options.maxDownloadMb),
	};
}

/** A size limit in bytes from a number of MB (the default where unset or not a positive number). */
export const downloadLimitBytes = (megabytes: unknown): number =>
	Math.round(
		(typeof megabytes === 'number' && Number.isFinite(megabytes) && megabytes > 0
			? megabytes
			: DEFAULT_MAX_DOWNLOAD_MB) *
			1024 *
			1024,
	);
