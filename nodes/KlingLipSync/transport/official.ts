import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { adoptionProblem, WorkMismatchError } from '../helpers/adoption';
import { describeKlingCode } from '../helpers/errorCodes';
import { MAX_RETRY_GENERATIONS, retryGeneration } from '../helpers/externalId';
import type { CreateLipSyncInput, LipSyncTask, ProviderDialect, WhenBusy } from './types';
import { PROVIDERS } from './providers';

import {
	asObject,
	officialCreateBody,
	parseOfficialIdentify,
	parseOfficialTask,
	parseSpeech,
	sendIdentify,
} from './officialParts';

/** Kling's own API, and pass-through resellers that serve it under a path prefix. */
export const klingDialect: ProviderDialect = {
	name: 'Kling',
	unwrap(httpStatus, body) {
		const envelope = asObject(body);
		const code = typeof envelope.code === 'number' ? envelope.code : undefined;
		if (httpStatus >= 200 && httpStatus < 300 && code === 0) return { data: envelope.data };
		return {
			failure: {
				httpStatus,
				klingCode: code,
				message: typeof envelope.message === 'string' ? envelope.message : undefined,
				requestId: typeof envelope.request_id === 'string' ? envelope.request_id : undefined,
			},
		};
	},
	explain(failure) {
		if (failure.klingCode === undefined) {
			return {
				title: `Kling answered HTTP ${failure.httpStatus}`,
				remedy: 'The service may be down or the base URL wrong: check the credential.',
			};
		}
		const info = describeKlingCode(failure.klingCode);
		return { title: `Kling error ${failure.klingCode}: ${info.title}`, remedy: info.remedy };
	},
	api(send) {
		const base = '/v1/videos/advanced-lip-sync';
		/**
		 * One create. The task with its id: one an attempt of this call may have created, or (a
		 * work-derived id) one an earlier run of the same work paid for, checked before use;
		 * 'failedEarlier' when that earlier task failed at Kling (the work is still to be done).
		 */
		const createOnce = async (
			input: CreateLipSyncInput,
			whenBusy?: WhenBusy,
		): Promise<LipSyncTask | 'failedEarlier'> => {
			const externalId = input.externalTaskId;
			let reused = false;
			let failedEarlier = false;
			const recover = externalId
				? async (origin: 'thisCall' | 'earlierRun') => {
						const data = await send({
							method: 'GET',
							path: `${base}/${encodeURIComponent(externalId)}`,
							absentWhen: (failure) => failure.klingCode === 1203,
						});
						if (data === undefined || !input.reuse) return data;
						const found = parseOfficialTask(data);
						const problem = adoptionProblem(found, input.reuse);
						if (problem) throw new WorkMismatchError(externalId, problem);
						failedEarlier = origin === 'earlierRun' && found.status === 'failed';
						reused = origin === 'earlierRun';
						return data;
					}
				: undefined;
			let data: unknown;
			try {
				data = await send({
					method: 'POST',
					path: base,
					body: officialCreateBody(input),
					recover,
					adoptDuplicate: input.reuse !== undefined,
					whenBusy,
				});
			} catch (error) {
				throw withExternalId(error, externalId);
			}
			if (failedEarlier) return 'failedEarlier';
			return { ...parseOfficialTask(data), ...(reused ? { reused } : {}) };
		};
		return {
			provider: 'Kling',
			supports: PROVIDERS.kling.supports,
			async identifyFace(input) {
				const body = input.videoId ? { video_id: input.videoId } : { video_url: input.videoUrl };
				const { data, uncertainResends } = await sendIdentify(
					send,
					'/v1/videos/identify-face',
					body,
				);
				return { ...parseOfficialIdentify(data), uncertainResends };
			},
			async createLipSync(input, whenBusy) {
				// Work whose task failed at Kling is made anew under the next derived id (`-r1`, ...),
				// so a retry never adopts a failed task as the work, and a later retry adopts the new one.
				for (let generation = 0; ; generation++) {
					const attempt =
						input.reuse && generation > 0 ? retryGeneration(input, input.reuse, generation) : input;
					const made = await createOnce(attempt, whenBusy);
					if (made !== 'failedEarlier') return made;
					if (generation >= MAX_RETRY_GENERATIONS) {
						throw new Error(
							`Kling failed this work ${generation + 1} times (external_task_id ${attempt.externalTaskId}); turn on New Task Every Run to start over`,
						);
					}
				}
			},
			async getTask(id) {
				return parseOfficialTask(
					await send({ method: 'GET', path: `${base}/${encodeURIComponent(id)}` }),
				);
			},
			async findTask(id) {
				const data = await send({
					method: 'GET',
					path: `${base}/${encodeURIComponent(id)}`,
					absentWhen: (failure) => failure.klingCode === 1203,
				});
				return data === undefined ? undefined : parseOfficialTask(data);
			},
			async listTasks(pageNum, pageSize) {
				const data = await send({ method: 'GET', path: base, qs: { pageNum, pageSize } });
				return (Array.isArray(data) ? data : []).map(parseOfficialTask);
			},
			async textToSpeech(input) {
				const body = {
					text: input.text,
					voice_id: input.voiceId,
					voice_language: input.language,
					voice_speed: input.speed,
				};
				return parseSpeech(await send({ method: 'POST', path: '/v1/audio/tts', body }));
			},
		};
	},
};

/**
 * Names on a failed create the external_task_id it carried: a create whose answer was lost or
 * unreadable may still have made (and billed) the task, and Get Task finds it by that id.
 */
function withExternalId(error: unknown, externalId: string | undefined): unknown {
	if (!externalId || !(error instanceof NodeApiError || error instanceof NodeOperationError))
		return error;
	if (error.context.external_task_id !== undefined) return error;
	error.context.external_task_id = externalId;
	const note = `The create carried external_task_id ${externalId}: if Kling made the task, Get Task finds it by that id.`;
	error.description = error.description ? `${error.description} ${note}` : note;
	return error;
}
