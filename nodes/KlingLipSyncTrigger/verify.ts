import type { IDataObject, IWebhookFunctions } from 'n8n-workflow';
import { NodeOperationError, sleep } from 'n8n-workflow';

import { KLING_CREDENTIAL_TYPE } from '../KlingLipSync/helpers/constants';
import { checkWebhookSignature } from '../KlingLipSync/helpers/webhookSignature';
import { createLipSyncApi } from '../KlingLipSync/transport';
import { isFinal, type LipSyncTask } from '../KlingLipSync/transport/types';
import { readerFor, type TaskRead } from './accountReader';
import { READ_TIMEOUT_MS, RETRY_AFTER_SECONDS, type DeliveryLedger } from './deliveryGuard';
import { messageOf } from '../KlingLipSync/helpers/errorText';

/** How a delivery is verified: its signature, or the task as the provider's API knows it. */

/** A verified task, or the answer the sender gets instead of a run. */
export type Verified =
	| { task: LipSyncTask; provider: string }
	| { status: number; body: IDataObject; retryAfterSeconds?: number };

export const deliveryKey = (task: LipSyncTask): string => `${task.taskId}:${task.status}`;

/** Why the delivery's Standard Webhooks signature fails, or undefined when it holds. */
export async function signatureProblem(ctx: IWebhookFunctions): Promise<string | undefined> {
	let secret: string;
	try {
		({ secret } = await ctx.getCredentials<{ secret: string }>('klingWebhookApi'));
	} catch (error) {
		throw new NodeOperationError(
			ctx.getNode(),
			'Verify Callbacks By is Signature, but the trigger has no Kling Webhook Secret credential',
			{
				description: `Select one on the trigger, or verify by reading the task from the API. (${messageOf(error)})`,
			},
		);
	}
	const headers = ctx.getHeaderData();
	const header = (name: string) =>
		typeof headers[name] === 'string' ? (headers[name] as string) : undefined;
	const rawBody =
		(ctx.getRequestObject() as unknown as { rawBody?: Buffer }).rawBody ??
		Buffer.from(JSON.stringify(ctx.getBodyData()));
	return checkWebhookSignature(
		secret,
		{
			id: header('webhook-id'),
			timestamp: header('webhook-timestamp'),
			signature: header('webhook-signature'),
			rawBody,
		},
		Math.floor(Date.now() / 1000),
	);
}

/** What one verification read found; deliveries of the same task that arrive meanwhile share it. */
type ReadOutcome =
	| { task: LipSyncTask; provider: string }
	| { unknown: string }
	| { error: string };

const retryLater = (status: number, reason: string): Verified => ({
	status,
	body: { received: false, reason },
	retryAfterSeconds: RETRY_AFTER_SECONDS,
});

/**
 * The task as the provider's API knows it, for at most one read per task at a time and within the
 * account's read budget for the trigger. Unknown: 200 "ignored", so that a sender stops resending
 * a task no retry will make known, remembered for a while (no read for it meanwhile); a final
 * task is remembered too, so its repeats read nothing. Over the budget, unreadable, rate-limited
 * or slow: 429/503 with Retry-After, so a real sender tries again; nothing is retried inside the
 * request.
 */
export async function readFromApi(
	ctx: IWebhookFunctions,
	ledger: DeliveryLedger,
	claimed: LipSyncTask,
	answerBy: number,
): Promise<Verified> {
	const { taskId } = claimed;
	const now = Date.now();
	const known = ledger.finalRead(taskId, now);
	if (known) return known;
	if (ledger.isUnknown(taskId, now)) {
		return {
			status: 200,
			body: { received: true, ignored: `unknown task: ${taskId} was not found moments ago` },
		};
	}
	if (isFinal(claimed) && ledger.wasNotFinal(taskId, now)) {
		return retryLater(
			503,
			`Task ${taskId} was not final when it was read moments ago; try again later`,
		);
	}
	let outcome = ledger.readUnderWay<ReadOutcome>(taskId);
	if (!outcome) {
		const account = ctx.getNode().credentials?.[KLING_CREDENTIAL_TYPE]?.id ?? ctx.getNode().id;
		const read = readerFor(account, now).read(
			taskId,
			async () =>
				await createLipSyncApi(ctx, 0, { singleAttempt: true, timeoutMs: READ_TIMEOUT_MS }),
		);
		if (!read) return retryLater(429, 'Too many callbacks to verify right now; try again later');
		const claimedFinal = isFinal(claimed);
		outcome = ledger.share(taskId, async () =>
			outcomeOf(ctx, ledger, taskId, claimedFinal, await read),
		);
	}
	// A read still under way at the deadline goes on (its final task is remembered) while this
	// request ends: the sender is told to come back, and its next try starts the run with no read.
	const late = await Promise.race([
		outcome.then(() => false),
		sleep(Math.max(0, answerBy - Date.now())).then(() => true),
	]);
	if (late) return retryLater(503, 'Verifying the callback takes longer; try again later');
	const read = await outcome;
	if ('task' in read) return read;
	if ('unknown' in read) {
		return {
			status: 200,
			body: {
				received: true,
				ignored: `unknown task: ${read.unknown} has no task ${taskId} for this credential`,
			},
		};
	}
	// The reason stays in n8n's log: the sender may be anyone.
	return retryLater(
		503,
		'Could not read the task from the API to verify the callback; try again later',
	);
}

/** What a read found, remembered: a task the API did not know, a claimed end it does not show yet. */
function outcomeOf(
	ctx: IWebhookFunctions,
	ledger: DeliveryLedger,
	taskId: string,
	claimedFinal: boolean,
	read: TaskRead,
): ReadOutcome {
	if ('task' in read) {
		// A claimed end the API does not show yet is not read again for a moment.
		if (claimedFinal && !isFinal(read.task)) ledger.rememberNotFinal(taskId, Date.now());
		if (isFinal(read.task)) ledger.rememberFinal(read, Date.now());
		return read;
	}
	if ('unknown' in read) {
		ledger.rememberUnknown(taskId, Date.now());
		ctx.logger.warn(
			`Kling Lip Sync Trigger "${ctx.getNode().name}": a callback named task ${taskId}, which ${read.unknown} does not know with this credential; nothing started`,
		);
		return read;
	}
	const reason = read.error.message;
	ctx.logger.warn(
		`Kling Lip Sync Trigger "${ctx.getNode().name}": could not read task ${taskId} to verify its callback: ${reason}`,
	);
	return { error: reason };
}
