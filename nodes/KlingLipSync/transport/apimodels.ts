import type { IDataObject } from 'n8n-workflow';

import { asId, asNumber, asObject, officialCreateBody, sendIdentify } from './officialParts';
import { awaitIdentifyJob, explainHttpStatus } from './reseller';
import type { DetectedFace, LipSyncTask, ProviderDialect, TaskStatus } from './types';
import { PROVIDERS } from './providers';

/**
 * apimodels.app: one generations endpoint for both steps, picked by `model`; its own
 * envelope `{code: 200, msg, data}` and task states; identify-face is asynchronous there.
 */
const PATH = '/api/v1/audio/generations';

const STATES: Record<string, TaskStatus> = {
	pending: 'submitted',
	processing: 'processing',
	completed: 'succeed',
	failed: 'failed',
};

const HTTP_HELP: Record<number, [string, string]> = {
	400: ['Invalid request', 'apimodels.app names the problem above: correct that parameter.'],
	401: ['Invalid API key', 'Check the API key in the credential.'],
	402: ['Insufficient balance', 'Top up your apimodels.app credits.'],
	404: ['Task not found', 'Check the task id: apimodels.app ids look like "clxxx...".'],
	500: ['Internal error', 'Try again later.'],
};

const statusOf = (job: IDataObject): TaskStatus => STATES[String(job.state)] ?? 'processing';

/** resultJson arrives as a JSON string (callbacks); resultUrls as an array (queries). */
function resultOf(raw: IDataObject): { urls: string[]; durationSeconds?: number } {
	let result: IDataObject = raw;
	if (typeof raw.resultJson === 'string') {
		try {
			result = asObject(JSON.parse(raw.resultJson));
		} catch {
			result = {};
		}
	}
	const urls = (Array.isArray(result.resultUrls) ? result.resultUrls : []).filter(
		(url): url is string => typeof url === 'string',
	);
	return { urls, durationSeconds: asNumber(result.videoDuration) };
}

/** An apimodels.app task (query reply or callback data) -> the neutral task model. Throws only UnsafeIdError, for an id that lost digits. */
export function parseApimodelsTask(data: unknown): LipSyncTask {
	const raw = asObject(data);
	const taskId = asId(raw.taskId);
	const { urls, durationSeconds } = resultOf(raw);
	return {
		taskId,
		status: statusOf(raw),
		statusMessage: typeof raw.failMsg === 'string' && raw.failMsg ? raw.failMsg : undefined,
		videos: urls.map((url, index) => ({ id: `${taskId}-${index}`, url, durationSeconds })),
		createdAt: asNumber(raw.createTime),
		updatedAt: asNumber(raw.completeTime),
		raw,
	};
}

export function parseApimodelsFaces(data: unknown): { sessionId: string; faces: DetectedFace[] } {
	const faceData = asObject(asObject(data).faceData);
	const faces = (Array.isArray(faceData.face_list) ? faceData.face_list : []).map((entry) => {
		const face = asObject(entry);
		return {
			faceId: asId(face.face_id),
			imageUrl: typeof face.face_reference === 'string' ? face.face_reference : undefined,
		};
	});
	return { sessionId: asId(faceData.session_id), faces };
}

export const apimodelsDialect: ProviderDialect = {
	name: 'apimodels.app',
	unwrap(httpStatus, body) {
		const envelope = asObject(body);
		if (httpStatus >= 200 && httpStatus < 300 && envelope.code === 200)
			return { data: envelope.data };
		return {
			failure: { httpStatus, message: typeof envelope.msg === 'string' ? envelope.msg : undefined },
		};
	},
	explain: explainHttpStatus(
		'apimodels.app',
		HTTP_HELP,
		'The service may be down or the base URL wrong: check the credential.',
	),
	api(send, wait) {
		const queryRequest = (taskId: string) => ({
			method: 'GET' as const,
			path: PATH,
			qs: { task_id: taskId },
		});
		const query = async (taskId: string): Promise<IDataObject> =>
			asObject(await send(queryRequest(taskId)));
		return {
			provider: 'apimodels.app',
			supports: PROVIDERS.apimodels.supports,
			async identifyFace(input) {
				const sent = await sendIdentify(send, PATH, {
					model: 'kling-identify-face',
					video_url: input.videoUrl,
				});
				const first = asObject(sent.data);
				const taskId = asId(first.taskId);
				const job = await awaitIdentifyJob({
					provider: 'apimodels.app',
					idLabel: `taskId ${taskId}`,
					first,
					query: async () => await query(taskId),
					statusOf,
					reasonOf: (done) =>
						typeof done.failMsg === 'string' && done.failMsg ? done.failMsg : undefined,
					wait,
				});
				return { ...parseApimodelsFaces(job), uncertainResends: sent.uncertainResends };
			},
			async createLipSync(input) {
				const body = { model: 'kling-advanced-lip-sync', ...officialCreateBody(input) };
				return parseApimodelsTask(await send({ method: 'POST', path: PATH, body }));
			},
			async getTask(taskId) {
				return parseApimodelsTask(await query(taskId));
			},
			async findTask(taskId) {
				const data = await send({
					...queryRequest(taskId),
					absentWhen: (failure) => failure.httpStatus === 404,
				});
				return data === undefined ? undefined : parseApimodelsTask(data);
			},
		};
	},
};
