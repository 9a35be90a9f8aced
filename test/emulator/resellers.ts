/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';

import { KlingError } from './envelope';
import { send, sendHttpFault, takeFault } from './faults';
import { readBody } from './media';
import { createTask, identifyFace } from './official';
import type { EmulatorState } from './state';
import type { RouteName, Task, TaskStatus } from './types';

/** Resellers' doors to the same work: apimodels.app (one endpoint, `model` picks the step) and vtrix "kirin". */

export const APIMODELS_PATH = '/api/v1/audio/generations';
const STATE_OF: Record<TaskStatus, string> = {
	submitted: 'pending',
	processing: 'processing',
	succeed: 'completed',
	failed: 'failed',
};

export function apimodelsJob(s: EmulatorState, id: string): Record<string, unknown> {
	const job = s.resellerJobs.get(id);
	if (!job) throw new KlingError(1203, 'Task not found');
	const base = { taskId: id, model: job.model };
	if (job.identify) {
		const identified = job.identify as {
			session_id: string;
			face_data: Array<{ face_id: string; face_image: string }>;
		};
		if (s.clock.now() - job.createdAt < s.config.apimodelsIdentifyMs)
			return { ...base, state: 'processing' };
		if (identified.face_data.length === 0)
			return { ...base, state: 'failed', failMsg: 'Face detection failed: no faces found' };
		return {
			...base,
			state: 'completed',
			faceData: {
				session_id: identified.session_id,
				face_list: identified.face_data.map((face) => ({
					face_id: face.face_id,
					face_reference: face.face_image,
				})),
			},
		};
	}
	const task = s.taskObject(s.tasks.get(job.taskId ?? '') as Task) as {
		task_status: TaskStatus;
		task_status_msg: string;
		task_result: { videos?: Array<{ url: string }> };
	};
	return {
		...base,
		state: STATE_OF[task.task_status],
		...(task.task_status === 'succeed'
			? { resultUrls: (task.task_result.videos ?? []).map((video) => video.url) }
			: {}),
		...(task.task_status === 'failed' ? { failMsg: task.task_status_msg } : {}),
	};
}

export const VTRIX_PATH = '/v1/generations';

export function vtrixJob(s: EmulatorState, id: string): Record<string, unknown> {
	const job = s.resellerJobs.get(id);
	if (!job) throw new KlingError(1203, 'Task not found');
	const base = { id, model: job.model };
	if (job.identify) {
		if (s.clock.now() - job.createdAt < s.config.apimodelsIdentifyMs)
			return { ...base, status: 'processing' };
		return {
			...base,
			status: 'completed',
			output: [{ content: [{ type: 'text', text: JSON.stringify(job.identify) }] }],
			usage: { cost: '0.001', discount: 0 },
		};
	}
	const task = s.taskObject(s.tasks.get(job.taskId ?? '') as Task) as {
		task_id: string;
		task_status: TaskStatus;
		task_status_msg: string;
		task_result: { videos?: Array<{ url: string; duration: string }> };
	};
	if (task.task_status === 'failed') {
		return {
			...base,
			status: 'failed',
			error: { code: '014002095', error_message: task.task_status_msg },
		};
	}
	if (task.task_status !== 'succeed')
		return { ...base, status: task.task_status === 'submitted' ? 'pending' : 'processing' };
	return {
		...base,
		status: 'completed',
		output: [
			{
				content: (task.task_result.videos ?? []).map((video) => ({
					type: 'video',
					url: video.url,
					duration: Number(video.duration),
					jobId: task.task_id,
				})),
			},
		],
		usage: { cost: '0.05', discount: 0 },
	};
}

/** What differs between resellers that wrap the same two steps in jobs of their own. */
interface ResellerSpec {
	identifyModel: string;
	lipSyncModel: string;
	idPrefix: string;
	/** Replies in the reseller's own shapes. */
	ok(s: EmulatorState, res: http.ServerResponse, data: unknown): void;
	fail(s: EmulatorState, res: http.ServerResponse, status: number, message: string): void;
	/** The job as the reseller's status query answers it. */
	view(s: EmulatorState, id: string): unknown;
	created(id: string, model: string): unknown;
}

/** One request to a reseller's endpoint: auth, accounting and faults as on the official routes. */
export async function handleReseller(
	s: EmulatorState,
	req: http.IncomingMessage,
	res: http.ServerResponse,
	spec: ResellerSpec,
	jobId: string | undefined,
): Promise<void> {
	const token = /^Bearer\s+(\S+)$/.exec((req.headers.authorization ?? '').trim())?.[1];
	if (token) s.seenTokens.add(token);
	let body: Record<string, unknown> = {};
	if (req.method === 'POST') {
		try {
			body = JSON.parse((await readBody(req, 12 * 1024 * 1024)).toString('utf8')) as Record<
				string,
				unknown
			>;
		} catch {
			spec.fail(s, res, 400, 'Request body must be JSON');
			return;
		}
	}
	const name: RouteName =
		req.method === 'GET' ? 'get' : body.model === spec.identifyModel ? 'identify' : 'create';
	s.stats.requests[name] = (s.stats.requests[name] ?? 0) + 1;
	if (!token || !s.config.apiKeys.includes(token)) {
		spec.fail(s, res, 401, 'Invalid API key');
		return;
	}
	const fault = takeFault(s, name);
	if (fault?.kind === 'reset') {
		req.socket.destroy();
		return;
	}
	if (fault?.kind === 'http') {
		sendHttpFault(s, res, fault);
		return;
	}
	try {
		s.tick();
		if (req.method === 'GET') {
			spec.ok(s, res, spec.view(s, jobId ?? ''));
			return;
		}
		const { model, ...kling } = body;
		const id = `${spec.idPrefix}${randomBytes(10).toString('hex')}`;
		if (model === spec.identifyModel) {
			s.resellerJobs.set(id, {
				model,
				createdAt: s.clock.now(),
				identify: await identifyFace(s, kling),
			});
		} else if (model === spec.lipSyncModel) {
			const created = (await createTask(s, kling)) as { task_id: string };
			s.resellerJobs.set(id, { model, createdAt: s.clock.now(), taskId: created.task_id });
		} else {
			spec.fail(s, res, 400, `model must be ${spec.identifyModel} or ${spec.lipSyncModel}`);
			return;
		}
		if (fault?.kind === 'lostReply') {
			req.socket.destroy();
			return;
		}
		spec.ok(s, res, spec.created(id, model));
	} catch (error) {
		const klingError =
			error instanceof KlingError ? error : new KlingError(5000, (error as Error).message);
		spec.fail(
			s,
			res,
			klingError.code === 1203 ? 404 : klingError.httpStatus >= 500 ? 500 : 400,
			klingError.message,
		);
	}
}

export const APIMODELS: ResellerSpec = {
	identifyModel: 'kling-identify-face',
	lipSyncModel: 'kling-advanced-lip-sync',
	idPrefix: 'cl',
	ok: (s, res, data) => send(s, res, 200, { code: 200, msg: 'success', data }),
	fail: (s, res, status, message) => send(s, res, status, { code: status, msg: message }),
	view: (s, id) => apimodelsJob(s, id),
	created: (taskId, model) => ({ taskId, state: 'pending', model }),
};

export const VTRIX: ResellerSpec = {
	identifyModel: 'kirin_identify_face',
	lipSyncModel: 'kirin_lipsync',
	idPrefix: 'vtx_',
	ok: (s, res, data) => send(s, res, 200, data),
	fail: (s, res, status, message) =>
		send(s, res, status, { error: { code: String(status), error_message: message } }),
	view: (s, id) => vtrixJob(s, id),
	created: (id, model) => ({ id, status: 'pending', model }),
};
