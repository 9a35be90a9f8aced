import type {
	IDataObject,
	IWebhookFunctions,
	IWebhookResponseData,
	JsonObject,
} from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { BATCH_QUERY_PARAM, decodeBatch } from '../../helpers/callbackBatch';
import { ExpiringSet } from '../../helpers/expiringSet';
import { chainStepOf } from '../../helpers/externalId';
import { busyWaitMs } from '../../helpers/retry';
import { SIGNATURE_QUERY_PARAM } from '../../helpers/urlSignature';
import { createLipSyncApi, credentialKey } from '../../transport';
import { taskFromCallback } from '../../transport/officialParts';
import { sleepUnlessCancelled } from '../../transport/context';
import { isFinal, type LipSyncTask, type WhenBusy } from '../../transport/types';
import { waitSettingsFrom } from '../pipeline/settings';
import { isTransient } from '../pipeline/poll';
import { advanceChain, type CreateStep } from './chain';
import type { ChainRun } from './dialogue';
import { lastGoodVideoId } from './outcome';
import { readDialogues, resumedItems, type ListedDialogue } from './resume';
import { DIALOGUE_QUERY_PARAM, decodeDialogue, dialogueCallbackUrl, dialogueOf } from './wire';

/**
 * How long the webhook keeps trying a next step while the account is at its concurrency limit
 * (1303) before it answers Kling with an error, so that Kling calls again later.
 */
const BUSY_BUDGET_MS = 60_000;

/** The webhook's queue while Kling answers 1303: a growing wait, up to a budget; then a retriable error. */
function busyWait(ctx: IWebhookFunctions): WhenBusy {
	const deadline = Date.now() + BUSY_BUDGET_MS;
	let round = 0;
	return async () => {
		if (Date.now() >= deadline) {
			const error = new NodeApiError(ctx.getNode(), { code: 1303 } as JsonObject, {
				message: "Kling stayed at your account's concurrency limit (error 1303) for a minute",
				httpCode: '429',
			});
			error.context.klingCode = 1303;
			throw error;
		}
		await sleepUnlessCancelled(busyWaitMs(round++), undefined);
	};
}

/**
 * Whether a next step that could not be made may work later (a network error, a retriable
 * refusal: Kling calls back again), or never will (the face is not in the new video, a refusal).
 */
const mayWorkLater = (error: unknown): NodeApiError | undefined =>
	error instanceof NodeApiError && isTransient(error) ? error : undefined;

/**
 * A callback to a waiting Dub Dialogue execution. The URL must carry this credential's signature.
 * A final status is read from the API (the callback is only a hint); a succeeded step that is not
 * the dialogue's last leads to the next, and Kling is answered once it exists (an error answer when
 * it may work later, so that Kling calls again). Once the dialogue has ended, the run's dialogues
 * are read from the task list and the execution resumes when all have ended (or stalled). A next
 * step that can never be made ends the wait for all (every dialogue reports its tasks).
 */
export async function resumeDialogueOnCallback(
	this: IWebhookFunctions,
): Promise<IWebhookResponseData> {
	const query = this.getQueryData() as IDataObject;
	const response = this.getResponseObject();
	const wire = decodeDialogue(
		query[BATCH_QUERY_PARAM],
		query[DIALOGUE_QUERY_PARAM],
		query[SIGNATURE_QUERY_PARAM],
		await credentialKey(this),
		this.getExecutionId(),
	);
	const expected = decodeBatch(query[BATCH_QUERY_PARAM]);
	if (!wire || !expected) {
		response
			.status(401)
			.json({ received: false, reason: "the callback URL does not carry this node's signature" });
		return { noWebhookResponse: true };
	}
	const reported = taskFromCallback(this.getBodyData());
	if (!isFinal(reported)) return { webhookResponse: { received: true, waiting: true } };
	const step = chainStepOf(reported.externalTaskId);
	if (!step || step.key !== wire.key)
		return { webhookResponse: { received: true, ignored: 'not a task of this dialogue' } };

	const api = await createLipSyncApi(this, 0);
	let task: LipSyncTask;
	try {
		task = await api.getTask(reported.taskId);
	} catch (error) {
		throw new NodeOperationError(this.getNode(), error as Error, {
			description: 'The task could not be read; Kling will call again, or the wait times out.',
		});
	}
	// The API's word counts, not the callback's.
	if (task.externalTaskId !== reported.externalTaskId || !isFinal(task))
		return { webhookResponse: { received: true, waiting: true } };

	let stopped: { key: string; error: Error } | undefined;
	if (task.status === 'succeed' && !step.last) {
		// The same step's callback again (Kling resends; anyone holding the URL may replay it): its
		// next step is made once. In this process that costs nothing; from another process one list
		// read finds the next step (no identify, no create).
		const now = Date.now();
		if (advancedSteps.has(task.taskId, now))
			return { webhookResponse: { received: true, ignored: 'repeat' } };
		advancedSteps.add(task.taskId, now);
		let listed: ListedDialogue;
		try {
			[listed] = await readDialogues(api, [{ key: wire.key, itemIndex: wire.itemIndex }]);
		} catch (error) {
			advancedSteps.delete(task.taskId);
			throw new NodeOperationError(this.getNode(), error as Error, {
				description:
					'The dialogue could not be read; Kling will call again, or the wait times out.',
			});
		}
		if (listed.tasks.some((made) => chainStepOf(made.externalTaskId)?.step === step.step + 1)) {
			return { webhookResponse: { received: true, ignored: 'repeat' } };
		}
		const chain: ChainRun = {
			dialogue: dialogueOf(wire),
			tasks: [task],
			steps: [],
			stepsBefore: step.step - 1,
		};
		const callbackUrl = dialogueCallbackUrl(
			wire.resumeUrl,
			String(query[BATCH_QUERY_PARAM]),
			String(query[DIALOGUE_QUERY_PARAM]),
			String(query[SIGNATURE_QUERY_PARAM]),
		);
		const createStep: CreateStep = async (request) => {
			const sound = request.audio.sound;
			return await api.createLipSync(
				{
					...request.create,
					soundFile: sound && 'url' in sound ? sound.url : undefined,
					callbackUrl,
				},
				busyWait(this),
			);
		};
		// Kling is answered once the next step exists: if it cannot be made now, an error answer
		// makes Kling call again (a retry finds a step made meanwhile by its external_task_id).
		try {
			if ((await advanceChain(this, api, chain, createStep)) === 'running')
				return { webhookResponse: { received: true, nextStep: step.step + 1 } };
		} catch (error) {
			const later = mayWorkLater(error);
			if (later) {
				// Kling calls again, and that call must be able to make the step.
				advancedSteps.delete(task.taskId);
				throw later;
			}
			stopped = { key: wire.key, error: error as Error };
			this.logger.warn(
				`Kling Lip Sync "${this.getNode().name}": a dialogue could not go on after speaker ${step.step}: ${(error as Error).message}`,
				{
					taskIds: chain.tasks.map((made) => made.taskId),
					lastGoodVideoId: lastGoodVideoId(chain),
				},
			);
		}
	}
	const dialogues = await readDialogues(api, expected);
	if (!stopped && !dialogues.every((dialogue) => dialogue.ended || dialogue.stalled)) {
		return { webhookResponse: { received: true, waiting: true } };
	}
	// Answer Kling now: downloading the videos may take longer than it waits for a reply.
	response.status(200).json({ received: true, resumed: true });
	const wait = waitSettingsFrom((name, fallback) => this.getNodeParameter(name, fallback));
	return {
		noWebhookResponse: true,
		workflowData: [await resumedItems(this, dialogues, wait, stopped)],
	};
}

/** Steps whose next step this process has made or is making: a day, at most 10,000 (about 1 MB). */
const advancedSteps = new ExpiringSet(10_000, 24 * 60 * 60_000);

/** Whether a callback is a Dub Dialogue's (its URL carries a dialogue). */
export const isDialogueCallback = (ctx: IWebhookFunctions): boolean =>
	DIALOGUE_QUERY_PARAM in (ctx.getQueryData() as IDataObject);
