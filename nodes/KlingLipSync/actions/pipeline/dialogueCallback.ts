import type { IDataObject, IExecuteFunctions, INodeExecutionData, IWebhookFunctions, IWebhookResponseData, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { BATCH_QUERY_PARAM, decodeBatch, encodeBatch, withQueryParam, type ExpectedTask } from '../../helpers/callbackBatch';
import { DIALOGUE_QUERY_PARAM, decodeDialogue, encodeDialogue, type DialogueWire } from '../../helpers/dialogueWire';
import { SIGNATURE_QUERY_PARAM } from '../../helpers/urlSignature';
import { ExpiringSet } from '../../helpers/expiringSet';
import { chainStepOf } from '../../helpers/externalId';
import { taskToJson } from '../../helpers/output';
import { createLipSyncApi, credentialKey, type RunContext } from '../../transport';
import { taskFromCallback } from '../../transport/official';
import { sleepUnlessCancelled } from '../../transport/sleep';
import { isFinal, type LipSyncApi, type LipSyncTask, type WhenBusy } from '../../transport/types';
import { waitSettingsFrom, type WaitSettings } from '../common.descriptions';
import { firstRequest, type CastDialogue } from '../lipSync/dubDialogue.operation';
import type { RunSettings } from '../node.type';
import { putToWait } from './callback';
import { readTasksById, scanTaskList } from './taskList';
import {
	advanceChain,
	chainError,
	chainOutput,
	lastGoodVideoId,
	startChain,
	stepFailed,
	stepJson,
	stepLabel,
	type ChainDialogue,
	type ChainRun,
	type CreateStep,
} from './chain';
import { isTransient } from './poll';
import type { TaskExecutor } from './executor';
import { errorItem, isOutputItem } from './output';
import { runStage } from './stage';

/**
 * Callback wait mode for Dub Dialogue: the execution waits without a worker between steps. Each
 * step's task calls back to the execution's resume URL; the webhook reads the task from the API,
 * makes the dialogue's next step (identify the video it made, find the face, create) and keeps
 * waiting; once every dialogue of the run has ended, it resumes the execution with all of them.
 * The URL carries what the next steps need (signed; see dialogueWire) and names the run's
 * dialogues; their steps are found in the account's task list by their external_task_ids.
 */

/** A dialogue of the run and how far its chain has gone. */
interface DialogueInFlight {
	chain: ChainRun;
	callbackUrl: string;
	ended: 'running' | 'done' | 'cancelled';
}

const isInFlight = (entry: unknown): entry is DialogueInFlight => typeof entry === 'object' && entry !== null && 'chain' in entry;

/** A dialogue in the form its callback URL carries it: the first speaker's audio is never needed there. */
function wireOf(dialogue: CastDialogue, resumeUrl: string): DialogueWire {
	const { plan, cast, key } = dialogue;
	return {
		key,
		itemIndex: plan.itemIndex,
		resumeUrl,
		soundVolume: plan.create.soundVolume,
		originalAudioVolume: plan.create.originalAudioVolume,
		watermark: plan.create.watermark,
		fresh: plan.create.derivedId === 'fresh',
		speakers: cast.map(({ face, timing }, position) => {
			const { audio } = plan.speakers[position];
			const later = position > 0;
			return {
				window: [face.startMs ?? 0, face.endMs ?? Number.MAX_SAFE_INTEGER],
				faceId: face.faceId,
				timing,
				audio: !later ? undefined : audio.audioId ? { audioId: audio.audioId } : audio.sound && 'url' in audio.sound ? { url: audio.sound.url } : undefined,
				fingerprint: later ? audio.fingerprint : '',
				durationMs: audio.durationMs ?? 0,
			};
		}),
	};
}

/** A dialogue as the webhook knows it from the URL: enough to make its later steps. */
function dialogueOf(wire: DialogueWire): ChainDialogue {
	return {
		key: wire.key,
		plan: {
			itemIndex: wire.itemIndex,
			speakers: wire.speakers.map((speaker) => ({
				audio: {
					...(speaker.audio && 'audioId' in speaker.audio ? { audioId: speaker.audio.audioId } : {}),
					...(speaker.audio && 'url' in speaker.audio ? { sound: { url: speaker.audio.url } } : {}),
					durationMs: speaker.durationMs,
					fingerprint: speaker.fingerprint,
				},
			})),
			create: {
				soundVolume: wire.soundVolume,
				originalAudioVolume: wire.originalAudioVolume,
				watermark: wire.watermark,
				derivedId: wire.fresh ? 'fresh' : 'work',
			},
		},
		cast: wire.speakers.map((speaker) => ({
			face: { faceId: speaker.faceId, startMs: speaker.window[0], endMs: speaker.window[1] },
			timing: speaker.timing,
		})),
	};
}

/** The callback URL of a dialogue's tasks: the resume URL, the run's dialogues, this one's plan, the signature. */
function dialogueCallbackUrl(resumeUrl: string, batch: string, dialogue: string, signature: string): string {
	return withQueryParam(withQueryParam(withQueryParam(resumeUrl, BATCH_QUERY_PARAM, batch), DIALOGUE_QUERY_PARAM, dialogue), SIGNATURE_QUERY_PARAM, signature);
}

/**
 * Callback mode, in the execution: every dialogue's first step is created with its callback URL
 * (a step an earlier run paid for is taken over and the chain goes on at once). Before waiting,
 * the run's current tasks are read: a step that ended meanwhile (its callback came too early)
 * leads to the next here. Dialogues that all ended are output at once; otherwise the execution
 * waits for the callbacks.
 */
export async function startDialogues(
	ctx: IExecuteFunctions,
	run: RunSettings,
	entries: Array<CastDialogue | INodeExecutionData>,
	executor: TaskExecutor,
): Promise<INodeExecutionData[]> {
	const dialogues = entries.filter((entry): entry is CastDialogue => !isOutputItem(entry));
	const batch = encodeBatch(dialogues.map((dialogue) => ({ itemIndex: dialogue.plan.itemIndex, key: dialogue.key })));
	const resumeUrl = String(ctx.evaluateExpression('{{ $execution.resumeUrl }}', 0));
	const signingKey = await credentialKey(ctx);
	const createIn =
		(callbackUrl: string): CreateStep =>
		async (request) =>
			(await executor.execute(request, callbackUrl)).task;
	const advance = async (inFlight: DialogueInFlight): Promise<DialogueInFlight> => ({
		...inFlight,
		ended: await advanceChain(ctx, run.api, inFlight.chain, createIn(inFlight.callbackUrl), () => executor.cancelled),
	});

	let stage = await runStage(ctx, run, entries, run.maxInFlight, async (dialogue: CastDialogue) => {
		const { dialogue: encoded, signature } = encodeDialogue(wireOf(dialogue, resumeUrl), batch, signingKey, ctx.getExecutionId());
		return await advance({ chain: startChain(dialogue, firstRequest(dialogue)), callbackUrl: dialogueCallbackUrl(resumeUrl, batch, encoded, signature), ended: 'running' });
	}, false);
	for (;;) {
		if (executor.cancelled) throw executor.cancelledError();
		if (stage.error) throw executor.withCreatedTasks(stage.error);
		const running = stage.entries.filter((entry): entry is DialogueInFlight => isInFlight(entry) && entry.ended === 'running');
		if (running.length === 0) break;
		const currentIds = new Set(running.map(({ chain }) => chain.tasks[chain.tasks.length - 1].taskId));
		const current = await readTasksById(run.api, currentIds);
		const ended = (inFlight: DialogueInFlight): LipSyncTask | undefined => {
			const { tasks } = inFlight.chain;
			const task = current.get(tasks[tasks.length - 1].taskId);
			return task && isFinal(task) ? task : undefined;
		};
		if (!running.some(ended)) break;
		stage = await runStage(ctx, run, stage.entries, run.maxInFlight, async (inFlight: DialogueInFlight) => {
			const task = inFlight.ended === 'running' ? ended(inFlight) : undefined;
			if (!task) return inFlight;
			const { tasks, steps } = inFlight.chain;
			tasks[tasks.length - 1] = task;
			steps[steps.length - 1] = { ...steps[steps.length - 1], ...stepJson(inFlight.chain.stepsBefore + tasks.length, task) };
			return await advance(inFlight);
		}, false);
	}

	const waiting = stage.entries.filter((entry): entry is DialogueInFlight => isInFlight(entry) && entry.ended === 'running');
	if (waiting.length === 0) {
		const output = await runStage(ctx, run, stage.entries, run.maxInFlight, async (inFlight: DialogueInFlight) =>
			await chainOutput(ctx, inFlight.chain.dialogue.plan.itemIndex, inFlight.chain, run.wait), false);
		if (output.error) throw executor.withCreatedTasks(output.error);
		return output.entries;
	}
	const wait = run.wait as WaitSettings;
	const mostSteps = Math.max(...dialogues.map((dialogue) => dialogue.plan.speakers.length));
	await putToWait(ctx, waiting.map(({ chain }) => chain.tasks[chain.tasks.length - 1].taskId), wait.maxWaitMs * mostSteps);
	// What the run shows while it waits; the resume replaces it with every dialogue's result.
	return stage.entries.map((entry) =>
		isInFlight(entry)
			? {
					json: { ...taskToJson(entry.chain.tasks[entry.chain.tasks.length - 1]), speakers: entry.chain.steps, task_ids: entry.chain.tasks.map((task) => task.taskId), wait_mode: 'callback' },
					pairedItem: { item: entry.chain.dialogue.plan.itemIndex },
				}
			: (entry as INodeExecutionData),
	);
}

/** A dialogue as the account's task list shows it: its steps' tasks, in step order. */
interface ListedDialogue extends ExpectedTask {
	tasks: LipSyncTask[];
	/** Its last step has succeeded, or a step failed: it goes no further. */
	ended: boolean;
	/**
	 * A step succeeded long ago and no next step exists: its callback never reached n8n (or the
	 * next step could not be made), so nothing will move it on.
	 */
	stalled: boolean;
}

/**
 * How long after a step ended its next step may still be on its way (the webhook identifies and
 * creates within seconds; Kling retries a callback n8n did not take): longer than any clock skew.
 */
const STALLED_AFTER_MS = 15 * 60_000;

/** Every dialogue of the run from the task list (newest pages first, until each one's first step was seen). */
async function readDialogues(api: LipSyncApi, expected: ExpectedTask[]): Promise<ListedDialogue[]> {
	const byKey = new Map(expected.map((dialogue) => [dialogue.key, new Map<number, LipSyncTask>()]));
	const firstSteps = new Set<string>();
	await scanTaskList(
		api,
		(task) => {
			const step = chainStepOf(task.externalTaskId);
			const steps = step && byKey.get(step.key);
			if (!step || !steps) return false;
			// Newest first: a step's newest task is its current one.
			if (!steps.has(step.step)) steps.set(step.step, task);
			if (step.step === 1) firstSteps.add(step.key);
			return true;
		},
		() => firstSteps.size >= byKey.size,
	);
	return expected.map((dialogue) => {
		const steps = byKey.get(dialogue.key) as Map<number, LipSyncTask>;
		const tasks = [...steps.entries()].sort(([a], [b]) => a - b).map(([, task]) => task);
		const last = tasks[tasks.length - 1];
		const ended = tasks.some((task) => task.status === 'failed') || (last !== undefined && last.status === 'succeed' && chainStepOf(last.externalTaskId)?.last === true);
		const stalled = !ended && last?.status === 'succeed' && last.updatedAt !== undefined && Date.now() - last.updatedAt > STALLED_AFTER_MS;
		return { ...dialogue, tasks, ended, stalled };
	});
}

/** A resumed dialogue that did not end well, as an item that says why (the run is never lost). */
function failureItem(ctx: RunContext, dialogue: ListedDialogue, error: Error): INodeExecutionData {
	const stopped = chainError(ctx, dialogue.itemIndex, error, dialogue);
	const last = dialogue.tasks[dialogue.tasks.length - 1];
	const { json } = errorItem(stopped, dialogue.itemIndex);
	return { json: { ...(last ? taskToJson(last) : {}), speakers: dialogue.tasks.map((task, index) => stepJson(index + 1, task)), ...json }, pairedItem: { item: dialogue.itemIndex } };
}

/** Every dialogue of the run as its resumed item; `stopped` is the one this call could not take on. */
async function resumedItems(
	ctx: IWebhookFunctions,
	dialogues: ListedDialogue[],
	wait: WaitSettings,
	stopped?: { key: string; error: Error },
): Promise<INodeExecutionData[]> {
	const items: INodeExecutionData[] = [];
	const stoppedItem = stopped && dialogues.find((dialogue) => dialogue.key === stopped.key)?.itemIndex;
	// One video at a time, as the resumed run downloads them.
	for (const dialogue of dialogues) {
		const { itemIndex, tasks } = dialogue;
		const failed = tasks.find((task) => task.status === 'failed');
		const fail = (message: string): Error => new NodeOperationError(ctx.getNode(), message, { itemIndex });
		if (stopped?.key === dialogue.key) {
			items.push(failureItem(ctx, dialogue, stopped.error));
		} else if (tasks.length === 0) {
			items.push(failureItem(ctx, dialogue, fail('No task of this dialogue was found among your newest 5,000 tasks: its first step was not created')));
		} else if (failed) {
			items.push(failureItem(ctx, dialogue, stepFailed(ctx, itemIndex, tasks.indexOf(failed) + 1, failed, undefined)));
		} else if (dialogue.ended) {
			try {
				items.push(await chainOutput(ctx, itemIndex, { tasks, steps: tasks.map((task, index) => stepJson(index + 1, task)) }, wait));
			} catch (error) {
				items.push(failureItem(ctx, dialogue, error as Error));
			}
		} else if (dialogue.stalled) {
			items.push(
				failureItem(
					ctx,
					dialogue,
					fail(`${stepLabel(tasks.length + 1, undefined)}: the step was never made: the callback of speaker ${tasks.length}'s task did not reach n8n, or the step could not be made then`),
				),
			);
		} else {
			const current = tasks[tasks.length - 1];
			const why = stoppedItem !== undefined ? `the dialogue of item ${stoppedItem} could not go on` : 'the other dialogues had ended and this one did not move on';
			items.push(failureItem(ctx, dialogue, fail(`${stepLabel(tasks.length, undefined)}: the run stopped waiting here (task_id ${current.taskId}, ${current.status}): ${why}`)));
		}
	}
	return items;
}

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
		await sleepUnlessCancelled(Math.min(15_000, 2000 * 2 ** round++), undefined);
	};
}

/**
 * Whether a next step that could not be made may work later (a network error, a retriable
 * refusal: Kling calls back again), or never will (the face is not in the new video, a refusal).
 */
const mayWorkLater = (error: unknown): NodeApiError | undefined => (error instanceof NodeApiError && isTransient(error) ? error : undefined);

/**
 * A callback to a waiting Dub Dialogue execution. The URL must carry this credential's signature.
 * A final status is read from the API (the callback is only a hint); a succeeded step that is not
 * the dialogue's last leads to the next, and Kling is answered once it exists (an error answer when
 * it may work later, so that Kling calls again). Once the dialogue has ended, the run's dialogues
 * are read from the task list and the execution resumes when all have ended (or stalled). A next
 * step that can never be made ends the wait for all (every dialogue reports its tasks).
 */
export async function resumeDialogueOnCallback(this: IWebhookFunctions): Promise<IWebhookResponseData> {
	const query = this.getQueryData() as IDataObject;
	const response = this.getResponseObject();
	const wire = decodeDialogue(query[BATCH_QUERY_PARAM], query[DIALOGUE_QUERY_PARAM], query[SIGNATURE_QUERY_PARAM], await credentialKey(this), this.getExecutionId());
	const expected = decodeBatch(query[BATCH_QUERY_PARAM]);
	if (!wire || !expected) {
		response.status(401).json({ received: false, reason: "the callback URL does not carry this node's signature" });
		return { noWebhookResponse: true };
	}
	const reported = taskFromCallback(this.getBodyData());
	if (!isFinal(reported)) return { webhookResponse: { received: true, waiting: true } };
	const step = chainStepOf(reported.externalTaskId);
	if (!step || step.key !== wire.key) return { webhookResponse: { received: true, ignored: 'not a task of this dialogue' } };

	const api = await createLipSyncApi(this, 0);
	let task: LipSyncTask;
	try {
		task = await api.getTask(reported.taskId);
	} catch (error) {
		throw new NodeOperationError(this.getNode(), error as Error, { description: 'The task could not be read; Kling will call again, or the wait times out.' });
	}
	// The API's word counts, not the callback's.
	if (task.externalTaskId !== reported.externalTaskId || !isFinal(task)) return { webhookResponse: { received: true, waiting: true } };

	let stopped: { key: string; error: Error } | undefined;
	if (task.status === 'succeed' && !step.last) {
		// The same step's callback again (Kling resends; anyone holding the URL may replay it): its
		// next step is made once. In this process that costs nothing; from another process one list
		// read finds the next step (no identify, no create).
		const now = Date.now();
		if (advancedSteps.has(task.taskId, now)) return { webhookResponse: { received: true, ignored: 'repeat' } };
		advancedSteps.add(task.taskId, now);
		let listed: ListedDialogue;
		try {
			[listed] = await readDialogues(api, [{ key: wire.key, itemIndex: wire.itemIndex }]);
		} catch (error) {
			advancedSteps.delete(task.taskId);
			throw new NodeOperationError(this.getNode(), error as Error, { description: 'The dialogue could not be read; Kling will call again, or the wait times out.' });
		}
		if (listed.tasks.some((made) => chainStepOf(made.externalTaskId)?.step === step.step + 1)) {
			return { webhookResponse: { received: true, ignored: 'repeat' } };
		}
		const chain: ChainRun = { dialogue: dialogueOf(wire), tasks: [task], steps: [], stepsBefore: step.step - 1 };
		const callbackUrl = dialogueCallbackUrl(wire.resumeUrl, String(query[BATCH_QUERY_PARAM]), String(query[DIALOGUE_QUERY_PARAM]), String(query[SIGNATURE_QUERY_PARAM]));
		const createStep: CreateStep = async (request) => {
			const sound = request.audio.sound;
			return await api.createLipSync({ ...request.create, soundFile: sound && 'url' in sound ? sound.url : undefined, callbackUrl }, busyWait(this));
		};
		// Kling is answered once the next step exists: if it cannot be made now, an error answer
		// makes Kling call again (a retry finds a step made meanwhile by its external_task_id).
		try {
			if ((await advanceChain(this, api, chain, createStep)) === 'running') return { webhookResponse: { received: true, nextStep: step.step + 1 } };
		} catch (error) {
			const later = mayWorkLater(error);
			if (later) {
				// Kling calls again, and that call must be able to make the step.
				advancedSteps.delete(task.taskId);
				throw later;
			}
			stopped = { key: wire.key, error: error as Error };
			this.logger.warn(`Kling Lip Sync "${this.getNode().name}": a dialogue could not go on after speaker ${step.step}: ${(error as Error).message}`, {
				taskIds: chain.tasks.map((made) => made.taskId),
				lastGoodVideoId: lastGoodVideoId(chain),
			});
		}
	}
	const dialogues = await readDialogues(api, expected);
	if (!stopped && !dialogues.every((dialogue) => dialogue.ended || dialogue.stalled)) {
		return { webhookResponse: { received: true, waiting: true } };
	}
	// Answer Kling now: downloading the videos may take longer than it waits for a reply.
	response.status(200).json({ received: true, resumed: true });
	const wait = waitSettingsFrom((name, fallback) => this.getNodeParameter(name, fallback));
	return { noWebhookResponse: true, workflowData: [await resumedItems(this, dialogues, wait, stopped)] };
}

/** Steps whose next step this process has made or is making: a day, at most 10,000 (about 1 MB). */
const advancedSteps = new ExpiringSet(10_000, 24 * 60 * 60_000);

/** Whether a callback is a Dub Dialogue's (its URL carries a dialogue). */
export const isDialogueCallback = (ctx: IWebhookFunctions): boolean => DIALOGUE_QUERY_PARAM in (ctx.getQueryData() as IDataObject);
