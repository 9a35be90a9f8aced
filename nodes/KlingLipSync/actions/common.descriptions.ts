import type { INodeProperties, NodeHint } from 'n8n-workflow';

import { OPERATIONS, type KlingOperation } from './operations';
import { supportNote } from '../transport/providers';

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
		"A video larger than this is not stored: the download stops there and the item fails, naming the task. Kling's results are at most a minute of video, far below the default.",
};

/**
 * Download and polling settings, shown only while waiting (always, for an operation with no Wait
 * for Completion switch).
 */
export function waitFields(operation: KlingOperation): INodeProperties[] {
	const waiting: Record<string, unknown[]> = OPERATIONS[operation].alwaysWaits
		? {}
		: { waitForCompletion: [true] };
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
					description:
						'How often to ask Kling for the task status. Callback wait mode asks only while the execution still runs, e.g. when a batch larger than Max Tasks in Flight polls instead of waiting.',
				},
			],
		},
	];
}

/**
 * Max Tasks in Flight: for the operations that create tasks it is bounded by the account's
 * parallel tasks; an operation where it means something else says what.
 */
export function maxInFlightOption(
	description = 'How many items are processed at once. Keep it at or below the parallel tasks your Kling resource pack allows (error 1303 otherwise).',
): INodeProperties {
	return {
		displayName: 'Max Tasks in Flight',
		name: 'maxInFlight',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 100 },
		default: 5,
		description,
	};
}

/** The Wait Mode parameter (the operations that create lip-sync tasks). */
export const waitModeField: INodeProperties = {
	displayName: 'Wait Mode',
	name: 'waitMode',
	type: 'options',
	options: [
		{
			name: 'Poll',
			value: 'poll',
			description:
				'Ask Kling for the status every Poll Interval; the execution runs (holds a worker) until the tasks end',
		},
		{
			name: 'Callback',
			value: 'callback',
			description: `Kling calls this execution back when the tasks end; meanwhile the execution waits without holding a worker and survives an n8n restart (${supportNote('externalTaskId')}; n8n must be reachable from the internet)`,
		},
	],
	default: 'poll',
	displayOptions: { show: { waitForCompletion: [true] } },
};

/** A hint for one operation in one wait mode (the editor evaluates its condition on the panel). */
const waitHint = (
	operation: KlingOperation,
	mode: 'poll' | 'callback',
	message: string,
): NodeHint => ({
	message,
	type: 'info',
	location: 'ndv',
	whenToDisplay: 'always',
	displayCondition: `={{ $parameter["operation"] === "${operation}" && ${
		OPERATIONS[operation].alwaysWaits ? '' : '$parameter["waitForCompletion"] === true && '
	}$parameter["waitMode"] === "${mode}" }}`,
});

const REACHABLE =
	"Kling must reach this n8n from the internet: n8n's WEBHOOK_URL must be a public address.";

/** What each wait mode does for each operation that can wait by callback: shown only there. */
export const waitModeHints: NodeHint[] = [
	waitHint(
		'lipSync',
		'poll',
		"The execution holds an n8n worker until its tasks end. To free it during a batch of hundreds, turn off Wait for Completion, set Options > Callback URL to a Kling Lip Sync Trigger's Production URL and take the results from the trigger.",
	),
	waitHint(
		'lipSync',
		'callback',
		`The execution waits without a worker only when every item fits in Max Tasks in Flight; a larger batch polls instead (as fast: n8n can create the later tasks only while the execution runs). For batches of hundreds, turn off Wait for Completion and take the results from a Kling Lip Sync Trigger. ${REACHABLE}`,
	),
	waitHint(
		'lipSyncVideo',
		'callback',
		`The execution waits without a worker only when every item fits in Max Tasks in Flight; a larger batch polls instead (as fast). ${REACHABLE}`,
	),
	waitHint(
		'dubDialogue',
		'callback',
		`Between steps the execution waits without a worker, and n8n's webhook makes each next step: every speaker after the first needs an audio URL or a Kling Audio ID. ${REACHABLE}`,
	),
];
