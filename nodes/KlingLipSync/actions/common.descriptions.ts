import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import { notANumber } from '../helpers/validation';
import type { KlingOperation } from './node.type';
import { failOn } from './params';

/** Parameters shared by several operations, defined once (Airtable v2's pattern). */

const showFor = (operations: KlingOperation[], extra: Record<string, unknown[]> = {}) => ({
	show: { operation: operations, ...extra },
});

/** Off by default; Lip Sync turns it on (`{ ...waitForCompletionField('lipSync'), default: true }`). */
export function waitForCompletionField(operation: KlingOperation): INodeProperties {
	return {
		displayName: 'Wait for Completion',
		name: 'waitForCompletion',
		type: 'boolean',
		default: false,
		description:
			'Whether to wait until the task has succeeded or failed (lip-sync takes minutes). When off, the node returns the task at once; use Get Task later.',
		displayOptions: showFor([operation]),
	};
}

/** Kling's results are at most a minute of video; a download past this is stopped (an endless or wrong file). */
export const DEFAULT_MAX_DOWNLOAD_MB = 500;

/** The size limit of a video download (Lip Sync's wait options, the trigger). */
export const maxDownloadField: INodeProperties = {
	displayName: 'Max Download Size (MB)',
	name: 'maxDownloadMb',
	type: 'number',
	typeOptions: { minValue: 1, maxValue: 10_000 },
	default: DEFAULT_MAX_DOWNLOAD_MB,
	description:
		'A video larger than this is not stored: the download stops there and the item fails, naming the task. Kling\'s results are at most a minute of video, far below the default.',
};

/**
 * Download and polling settings, shown only while waiting (`always`: an operation that always
 * waits, with no Wait for Completion switch).
 */
export function waitFields(operation: KlingOperation, { always = false } = {}): INodeProperties[] {
	const waiting: Record<string, unknown[]> = always ? {} : { waitForCompletion: [true] };
	const whileWaiting = showFor([operation], waiting);
	return [
		{
			displayName: 'Download Video',
			name: 'downloadVideo',
			type: 'boolean',
			default: true,
			description: 'Whether to download the finished video into a binary field of the output item',
			displayOptions: whileWaiting,
		},
		{
			displayName: 'Put Video in Field',
			name: 'binaryPropertyName',
			type: 'string',
			default: 'data',
			hint: 'The name of the binary field the video is written to',
			displayOptions: showFor([operation], { ...waiting, downloadVideo: [true] }),
		},
		{
			displayName: 'Wait Options',
			name: 'waitOptions',
			type: 'collection',
			placeholder: 'Add Option',
			default: {},
			displayOptions: whileWaiting,
			options: [
				{
					displayName: 'Download Watermarked Video',
					name: 'watermarked',
					type: 'boolean',
					default: false,
					description:
						'Whether to download the watermarked variant instead of the clean video (Lip Sync must have asked for a watermark)',
				},
				maxDownloadField,
				{
					displayName: 'Max Wait (Minutes)',
					name: 'maxWaitMinutes',
					type: 'number',
					typeOptions: { minValue: 0.05, numberPrecision: 2 },
					default: 20,
					description:
						'How long to wait before giving up. The task keeps running at Kling; the error (or the item, with Continue On Fail) carries its task_id.',
				},
				{
					displayName: 'Poll Interval (Seconds)',
					name: 'pollIntervalSeconds',
					type: 'number',
					typeOptions: { minValue: 0.2, numberPrecision: 1 },
					default: 10,
					description: 'How often to ask Kling for the task status',
				},
			],
		},
	];
}

export function maxInFlightOption(): INodeProperties {
	return {
		displayName: 'Max Tasks in Flight',
		name: 'maxInFlight',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 100 },
		default: 5,
		description:
			'How many items are processed at once. Keep it at or below the parallel tasks your Kling resource pack allows (error 1303 otherwise).',
	};
}

export interface WaitSettings {
	pollIntervalMs: number;
	maxWaitMs: number;
	download: boolean;
	binaryPropertyName: string;
	watermarked: boolean;
	maxDownloadBytes: number;
}

/** The wait settings, or undefined when the run does not wait (`always`: it has no switch, it waits). */
export function readWaitSettings(this: IExecuteFunctions, itemIndex: number, always = false): WaitSettings | undefined {
	if (!always && !(this.getNodeParameter('waitForCompletion', itemIndex, false) as boolean)) return undefined;
	const options = this.getNodeParameter('waitOptions', itemIndex, {}) as Record<string, unknown>;
	for (const [name, label] of [
		['maxWaitMinutes', 'Max Wait (Minutes)'],
		['pollIntervalSeconds', 'Poll Interval (Seconds)'],
		['maxDownloadMb', 'Max Download Size (MB)'],
	] as const) {
		if (options[name] !== undefined) failOn.call(this, itemIndex, notANumber(label, options[name], 'a positive number'));
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
	Math.round((typeof megabytes === 'number' && Number.isFinite(megabytes) && megabytes > 0 ? megabytes : DEFAULT_MAX_DOWNLOAD_MB) * 1024 * 1024);
