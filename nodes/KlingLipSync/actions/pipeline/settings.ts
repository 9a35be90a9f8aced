import type { IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { isDataObject, isKeyOf } from '../../helpers/json';
import { Slots } from '../../helpers/pool';
import { createLipSyncApi } from '../../transport';
import { DEFAULT_MAX_DOWNLOAD_MB } from '../common.descriptions';
import { notANumber } from '../../helpers/validation';
import { ItemParameters } from '../params';
import type { RunSettings, WaitMode, WaitSettings } from '../node.type';
import { OPERATIONS } from '../operations';

/** Audio n8n holds (binary, base64) read at once while planning: reading it side by side gains nothing. */
const LOCAL_AUDIO_READS_AT_ONCE = 2;

/**
 * The run's settings, read once from the node's parameters (the first item's values where an
 * expression could differ per item: the run waits once, at one pace, through one connection).
 */
export async function readRunSettings(ctx: IExecuteFunctions): Promise<RunSettings> {
	const operation = ctx.getNodeParameter('operation', 0);
	if (!isKeyOf(OPERATIONS, operation)) {
		throw new NodeOperationError(
			ctx.getNode(),
			`The operation "${String(operation)}" is not supported`,
		);
	}
	const facts = OPERATIONS[operation];
	const settings = new ItemParameters(ctx, 0);
	const api = await createLipSyncApi(ctx, 0);
	const wait = readWaitSettings(settings, facts.alwaysWaits);
	const waitMode: WaitMode =
		wait && facts.canWaitByCallback && settings.raw('waitMode', 'poll') === 'callback'
			? 'callback'
			: 'poll';
	// Tasks report back by external_task_id: the resume URL names them so.
	if (waitMode === 'callback') settings.requireSupport(api, 'externalTaskId');
	const chosen = settings.number(
		'options.maxInFlight',
		'Max Tasks in Flight',
		'a whole number from 1 to 100',
		0,
	);
	return {
		operation,
		api,
		continueOnFail: ctx.continueOnFail(),
		maxInFlight: chosen >= 1 ? chosen : facts.defaultInFlight,
		wait,
		waitMode,
		audioReads: new Slots(LOCAL_AUDIO_READS_AT_ONCE),
	};
}

/** The wait settings, or undefined when the run does not wait (`always`: it has no switch, it waits). */
export function readWaitSettings(item: ItemParameters, always = false): WaitSettings | undefined {
	if (!always && !item.flag('waitForCompletion')) return undefined;
	const options = item.collection('waitOptions');
	for (const [name, label] of [
		['maxWaitMinutes', 'Max Wait (Minutes)'],
		['pollIntervalSeconds', 'Poll Interval (Seconds)'],
		['maxDownloadMb', 'Max Download Size (MB)'],
	] as const) {
		if (options[name] !== undefined)
			item.check(notANumber(label, options[name], 'a positive number'));
	}
	return waitSettingsFrom((name, fallback) => item.raw(name, fallback));
}

const finiteOr = (value: unknown, fallback: number): number =>
	typeof value === 'number' && Number.isFinite(value) ? value : fallback;

/**
 * The wait settings from the node's parameters, however they are read: per item in an
 * execution, or once in the webhook call that resumes a Callback-mode wait.
 */
export function waitSettingsFrom(read: (name: string, fallback: unknown) => unknown): WaitSettings {
	const collection = read('waitOptions', {});
	const options = isDataObject(collection) ? collection : {};
	const download = Boolean(read('downloadVideo', false));
	return {
		pollIntervalMs: Math.max(200, finiteOr(options.pollIntervalSeconds, 10) * 1000),
		maxWaitMs: Math.max(1000, finiteOr(options.maxWaitMinutes, 20) * 60_000),
		download,
		binaryPropertyName: download ? String(read('binaryPropertyName', 'data')) : 'data',
		watermarked: Boolean(options.watermarked),
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
