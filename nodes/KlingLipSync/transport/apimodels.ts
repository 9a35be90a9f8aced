import type { IDataObject } from 'n8n-workflow';

import { asId, asNumber, asObject, officialCreateBody } from './official';
import type { DetectedFace, LipSyncTask, ProviderDialect, TaskStatus } from './types';

/**
 * apimodels.app (seed 004): one generations endpoint for both steps, picked by `model`; its own
 * envelope `{code: 200, msg, data}` and task states; identify-face is asynchronous there.
 */
const PATH = '/api/v1/audio/generations';
const IDENTIFY_POLL_MS = 500;
const IDENTIFY_MAX_MS = 5 * 60_000;

const STATES: Record<string, TaskStatus> = {
	pending: 'submitted',
	processing: 'processing',
	completed: 'succeed',
	failed: 'failed',
};

const HTTP_HELP: Record<number, { title: string; remedy: string }> = {
	400: { title: 'Invalid request', remedy: 'apimodels.app names the problem above: correct that parameter.' },
	401: { title: 'Invalid API key', remedy: 'Check the API key in the credential.' },
	402: { title: 'Insufficient balance', remedy: 'Top up your apimodels.app credits.' },
	404: { title: 'Task not found', remedy: 'Check the task id: apimodels.app ids look like "clxxx...".' },
	500: { title: 'Internal error', remedy: 'Try again later.' },
};

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
	const urls = (Array.isArray(result.resultUrls) ? result.resultUrls : []).filter((url): url is string => typeof url === 'string');
	return { urls, durationSeconds: asNumber(result.videoDuration) };
}

/** An apimodels.app task (query reply or callback data) -> the neutral task model. Never throws. */
export function parseApimodelsTask(data: unknown): LipSyncTask {
	const raw = asObject(data);
	const taskId = asId(raw.taskId);
	const { urls, durationSeconds } = resultOf(raw);
	return {
		taskId,
		status: STATES[String(raw.state)] ?? 'processing',
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
		return { faceId: asId(face.face_id), imageUrl: typeof face.face_reference === 'string' ? face.face_reference : undefined };
	});
	return { sessionId: asId(faceData.session_id), faces };
}

export const apimodelsDialect: ProviderDialect = {
	name: 'apimodels.app',
	unwrap(httpStatus, body) {
		const envelope = asObject(body);
		if (httpStatus >= 200 && httpStatus < 300 && envelope.code === 200) return { data: envelope.data };
		return { failure: { httpStatus, message: typeof envelope.msg === 'string' ? envelope.msg : undefined } };
	},
	explain(failure) {
		const help = HTTP_HELP[failure.httpStatus] ?? {
			title: `HTTP ${failure.httpStatus}`,
			remedy: 'The service may be down or the base URL wrong: check the credential.',
		};
		return { title: `apimodels.app error ${failure.httpStatus}: ${help.title}`, remedy: help.remedy };
	},
	api(send, wait) {
		const query = async (taskId: string): Promise<IDataObject> => asObject(await send({ method: 'GET', path: PATH, qs: { task_id: taskId } }));
		return {
			provider: 'apimodels.app',
			supports: { videoId: false, audioId: false, externalTaskId: false, listTasks: false },
			async identifyFace(input) {
				let job = asObject(await send({ method: 'POST', path: PATH, body: { model: 'kling-identify-face', video_url: input.videoUrl } }));
				const taskId = asId(job.taskId);
				// Asynchronous here: the action still returns faces, so wait for the job.
				for (let waited = 0; job.state !== 'completed' && job.state !== 'failed'; waited += IDENTIFY_POLL_MS) {
					if (waited >= IDENTIFY_MAX_MS) throw new Error(`apimodels.app did not finish identifying faces (taskId ${taskId})`);
					await wait(IDENTIFY_POLL_MS);
					job = await query(taskId);
				}
				if (job.state === 'failed') {
					throw new Error(`apimodels.app could not identify faces: ${String(job.failMsg ?? 'no reason given')} (taskId ${taskId})`);
				}
				return parseApimodelsFaces(job);
			},
			async createLipSync(input) {
				const body = { model: 'kling-advanced-lip-sync', ...officialCreateBody(input) };
				return parseApimodelsTask(await send({ method: 'POST', path: PATH, body }));
			},
			async getTask(taskId) {
				return parseApimodelsTask(await query(taskId));
			},
			async listTasks() {
				throw new Error('apimodels.app has no task list');
			},
		};
	},
};
