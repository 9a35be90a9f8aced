import type { AdoptionCheck, LipSyncTask } from '../transport/types';

/**
 * Why a task found by external_task_id is not this item's work, or undefined when everything the
 * task object shows agrees (its id, its watermark setting, the video it lip-syncs). Kling's task
 * object does not show the session, face or audio: those are in the id itself (a digest of the work).
 */
export function adoptionProblem(task: LipSyncTask, expected: AdoptionCheck): string | undefined {
	if (task.externalTaskId !== undefined && task.externalTaskId !== expected.externalTaskId) {
		return `its external_task_id is "${task.externalTaskId}", not "${expected.externalTaskId}"`;
	}
	const watermark = (task.raw.watermark_info as { enabled?: unknown } | undefined)?.enabled;
	if (typeof watermark === 'boolean' && watermark !== expected.watermark) {
		return `it was made with Watermark ${watermark ? 'on' : 'off'}, this item asks for it ${expected.watermark ? 'on' : 'off'}`;
	}
	const parent = task.parentVideo ?? {};
	if (expected.video?.id && parent.id && parent.id !== expected.video.id) {
		return `it lip-syncs video ${parent.id}, this item's session is of video ${expected.video.id}`;
	}
	if (expected.video?.url && parent.url && parent.url !== expected.video.url) {
		return `it lip-syncs the video at ${parent.url}, this item's session is of ${expected.video.url}`;
	}
	return undefined;
}

/** A task found by a work-derived external_task_id that was made for other work: never adopted. */
export class WorkMismatchError extends Error {
	readonly description: string;

	constructor(externalTaskId: string, problem: string) {
		super(
			`A task with external_task_id ${externalTaskId} exists at Kling for other work (${problem}); it was not adopted`,
		);
		this.name = 'WorkMismatchError';
		this.description =
			'No task was created for this item. The id is a digest of the work, so this is another n8n, a reused id or a planted one. Turn on "New Task Every Run" to make a task with a fresh id.';
	}
}
