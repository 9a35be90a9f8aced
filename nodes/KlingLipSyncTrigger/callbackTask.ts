import type { IDataObject, IWebhookDescription } from 'n8n-workflow';

import { parseApimodelsTask } from '../KlingLipSync/transport/apimodels';
import { asObject, taskFromCallback } from '../KlingLipSync/transport/officialParts';
import type { LipSyncTask } from '../KlingLipSync/transport/types';

/**
 * The trigger's endpoint. Kling has no API to register webhooks: the URL is given per task as
 * callback_url, so there is no webhook lifecycle (checkExists/create/delete) to implement.
 */
export const TRIGGER_WEBHOOKS: IWebhookDescription[] = [
	{ name: 'default', httpMethod: 'POST', responseMode: 'onReceived', path: 'kling-lipsync' },
];

/**
 * The task a callback body claims, in either sender's shape: Kling's task object (also wrapped
 * in `data` by some proxies) or apimodels.app's `{code, msg, data: {taskId, state, ...}}`.
 * Undefined when the body is neither.
 */
export function readTaskCallback(
	body: IDataObject,
): { task: LipSyncTask; provider: string } | undefined {
	const data = asObject(body.data);
	if (data.taskId !== undefined && data.taskId !== null && data.taskId !== '') {
		return { task: parseApimodelsTask(data), provider: 'apimodels.app' };
	}
	const task = taskFromCallback(body);
	if (!task.taskId || task.raw.task_status === undefined) return undefined;
	return { task, provider: 'Kling' };
}
