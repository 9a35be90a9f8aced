import type { IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { Slots } from '../../helpers/pool';
import { createLipSyncApi } from '../../transport';
import { readWaitSettings } from '../common.descriptions';
import { notANumber } from '../../helpers/validation';
import { failOn, requireSupport } from '../params';
import type { KlingOperation, RunSettings, WaitMode } from '../node.type';

/**
 * Every operation, with the items it runs at once where it has no Max Tasks in Flight option (list
 * pages are large, so fewer).
 */
const DEFAULT_IN_FLIGHT: Record<KlingOperation, number> = {
	identifyFace: 5,
	lipSync: 5,
	lipSyncVideo: 5,
	dubDialogue: 5,
	textToSpeech: 5,
	getTask: 5,
	listTasks: 2,
};

/** Audio n8n holds (binary, base64) read at once while planning: reading it side by side gains nothing. */
const LOCAL_AUDIO_READS_AT_ONCE = 2;

/** Operations whose wait can be a Callback-mode wait: they create the tasks they wait for. */
const CALLBACK_OPERATIONS: readonly KlingOperation[] = ['lipSync', 'lipSyncVideo', 'dubDialogue'];

/** Operations that always wait (a dialogue's next step needs the last one's video). */
const ALWAYS_WAITS: readonly KlingOperation[] = ['dubDialogue'];

/**
 * The run's settings, read once from the node's parameters (the first item's values where an
 * expression could differ per item: the run waits once, at one pace, through one connection).
 */
export async function readRunSettings(ctx: IExecuteFunctions): Promise<RunSettings> {
	const operation = ctx.getNodeParameter('operation', 0) as KlingOperation;
	if (!Object.hasOwn(DEFAULT_IN_FLIGHT, operation)) {
		throw new NodeOperationError(ctx.getNode(), `The operation "${String(operation)}" is not supported`);
	}
	const api = await createLipSyncApi(ctx, 0);
	const wait = readWaitSettings.call(ctx, 0, ALWAYS_WAITS.includes(operation));
	const waitMode: WaitMode =
		wait && CALLBACK_OPERATIONS.includes(operation) && ctx.getNodeParameter('waitMode', 0, 'poll') === 'callback' ? 'callback' : 'poll';
	// Tasks report back by external_task_id: the resume URL names them so.
	if (waitMode === 'callback') requireSupport.call(ctx, 0, api, 'externalTaskId');
	const chosen = ctx.getNodeParameter('options.maxInFlight', 0, 0) as unknown;
	failOn.call(ctx, 0, notANumber('Max Tasks in Flight', chosen, 'a whole number from 1 to 100'));
	return {
		operation,
		api,
		continueOnFail: ctx.continueOnFail(),
		maxInFlight: (chosen as number) >= 1 ? (chosen as number) : DEFAULT_IN_FLIGHT[operation],
		wait,
		waitMode,
		audioReads: new Slots(LOCAL_AUDIO_READS_AT_ONCE),
	};
}
