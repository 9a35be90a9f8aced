import type { IDataObject } from 'n8n-workflow';

import {
	asId,
	asNumber,
	asObject,
	officialCreateBody,
	parseOfficialIdentify,
	sendIdentify,
} from './officialParts';
import { awaitIdentifyJob, explainHttpStatus } from './reseller';
import type { IdentifyFaceResult, LipSyncTask, ProviderDialect, TaskStatus } from './types';
import { PROVIDERS } from './providers';

/**
 * vtrix "kirin": Kling's own fields plus `model` (kirin_identify_face, kirin_lipsync),
 * both asynchronous; a job with `status`, `output[].content[]`, `usage` and `error {code,
 * error_message}`. vtrix does not publish the endpoint paths, the job id's field or every status
 * name: the paths come from the credential (VTRIX_DEFAULT_CREATE_PATH and VTRIX_DEFAULT_STATUS_PATH where it names none) and parsing accepts usual spellings.
 */

const VTRIX_ERRORS: Record<string, string> = {
	'014002095': 'Internal generation error',
	'014002096': 'Result parsing exception',
	'014002097': 'HTTP error response',
	'014002099': 'Sync generation exception',
};

const HTTP_HELP: Record<number, [string, string]> = {
	400: ['Invalid request', 'vtrix names the problem above: correct that parameter.'],
	401: ['Invalid API key', 'Check the API key in the credential.'],
	402: ['Insufficient balance', 'Top up your vtrix account.'],
	404: ['Not found', 'Check the task id, and the create and status paths in the credential.'],
};

function statusOf(value: unknown): TaskStatus {
	const status = String(value ?? '').toLowerCase();
	if (['completed', 'succeeded', 'success', 'succeed'].includes(status)) return 'succeed';
	if (['failed', 'error', 'cancelled', 'canceled'].includes(status)) return 'failed';
	if (['processing', 'running', 'in_progress'].includes(status)) return 'processing';
	return 'submitted';
}

const jobIdOf = (raw: IDataObject): string => asId(raw.id ?? raw.task_id ?? raw.taskId);

const contentsOf = (raw: IDataObject): IDataObject[] =>
	(Array.isArray(raw.output) ? raw.output : []).flatMap((entry) => {
		const content = asObject(entry).content;
		return (Array.isArray(content) ? content : []).map(asObject);
	});

/** "014002095 (Internal generation error): <message>" from the job's error object. */
function errorTextOf(raw: IDataObject): string | undefined {
	const error = asObject(raw.error);
	const code = asId(error.code);
	const message = typeof error.error_message === 'string' ? error.error_message : '';
	if (!code && !message) return undefined;
	const meaning = VTRIX_ERRORS[code];
	return [code && (meaning ? `${code} (${meaning})` : code), message].filter(Boolean).join(': ');
}

/** A vtrix job -> the neutral task model. Throws only UnsafeIdError, for an id that lost digits. */
export function parseVtrixTask(data: unknown): LipSyncTask {
	const raw = asObject(data);
	const taskId = jobIdOf(raw);
	const usage = asObject(raw.usage);
	const videos = contentsOf(raw)
		.filter((content) => typeof content.url === 'string' && content.type !== 'image')
		.map((content, index) => ({
			id: asId(content.jobId) || `${taskId}-${index}`,
			url: content.url as string,
			durationSeconds: asNumber(content.duration),
		}));
	return {
		taskId,
		status: statusOf(raw.status),
		statusMessage: errorTextOf(raw),
		videos,
		units: asNumber(usage.cost),
		raw,
	};
}

/** identify-face's result is Kling's own JSON, as text in output[].content[]. */
export function parseVtrixIdentify(data: unknown): IdentifyFaceResult {
	const text = contentsOf(asObject(data)).find((content) => typeof content.text === 'string')?.text;
	let kling: IDataObject = {};
	try {
		kling = asObject(typeof text === 'string' ? JSON.parse(text) : {});
	} catch {
		kling = {};
	}
	// Kling's whole envelope, or just its data.
	return parseOfficialIdentify(kling.data ?? kling);
}

export function vtrixDialect(createPath: string, statusPath: string): ProviderDialect {
	return {
		name: 'vtrix',
		unwrap(httpStatus, body) {
			const raw = asObject(body);
			if (httpStatus >= 200 && httpStatus < 300) return { data: raw };
			return { failure: { httpStatus, message: errorTextOf(raw) } };
		},
		explain: explainHttpStatus(
			'vtrix',
			HTTP_HELP,
			'Try again later, or check the base URL and paths in the credential.',
		),
		api(send, wait) {
			const statusRequest = (id: string) => ({
				method: 'GET' as const,
				path: statusPath.replace('{id}', encodeURIComponent(id)),
			});
			const status = async (id: string): Promise<IDataObject> =>
				asObject(await send(statusRequest(id)));
			return {
				provider: 'vtrix',
				supports: PROVIDERS.vtrix.supports,
				async identifyFace(input) {
					const fields = input.videoId
						? { video_id: input.videoId }
						: { video_url: input.videoUrl };
					const sent = await sendIdentify(send, createPath, {
						model: 'kirin_identify_face',
						...fields,
					});
					const first = asObject(sent.data);
					const id = jobIdOf(first);
					const job = await awaitIdentifyJob({
						provider: 'vtrix',
						idLabel: `job ${id}`,
						first,
						query: async () => await status(id),
						statusOf: (current) => statusOf(current.status),
						reasonOf: errorTextOf,
						wait,
					});
					return { ...parseVtrixIdentify(job), uncertainResends: sent.uncertainResends };
				},
				async createLipSync(input) {
					return parseVtrixTask(
						await send({
							method: 'POST',
							path: createPath,
							body: { model: 'kirin_lipsync', ...officialCreateBody(input) },
						}),
					);
				},
				async getTask(id) {
					return parseVtrixTask(await status(id));
				},
				async findTask(id) {
					const data = await send({
						...statusRequest(id),
						absentWhen: (failure) => failure.httpStatus === 404,
					});
					return data === undefined ? undefined : parseVtrixTask(data);
				},
			};
		},
	};
}
