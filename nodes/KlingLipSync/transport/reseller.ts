import type { IDataObject } from 'n8n-workflow';

import type { FailureExplanation, ProviderFailure, TaskStatus } from './types';

/** Pieces shared by the resellers whose APIs wrap Kling's steps in jobs of their own. */

const IDENTIFY_POLL_MS = 500;
const IDENTIFY_MAX_MS = 5 * 60_000;

export interface IdentifyJob {
	provider: string;
	/** How the provider names the job's id in messages, e.g. "taskId cl123". */
	idLabel: string;
	first: IDataObject;
	query(): Promise<IDataObject>;
	statusOf(job: IDataObject): TaskStatus;
	reasonOf(job: IDataObject): string | undefined;
	wait(ms: number): Promise<void>;
}

/**
 * Identify-face is asynchronous at these resellers; the node's Identify Face still returns faces,
 * so it waits here (cancellable) and throws with the job's id when the job fails or never ends.
 */
export async function awaitIdentifyJob(job: IdentifyJob): Promise<IDataObject> {
	let current = job.first;
	for (
		let waited = 0;
		!['succeed', 'failed'].includes(job.statusOf(current));
		waited += IDENTIFY_POLL_MS
	) {
		if (waited >= IDENTIFY_MAX_MS)
			throw new Error(`${job.provider} did not finish identifying faces (${job.idLabel})`);
		await job.wait(IDENTIFY_POLL_MS);
		current = await job.query();
	}
	if (job.statusOf(current) === 'failed') {
		throw new Error(
			`${job.provider} could not identify faces: ${job.reasonOf(current) ?? 'no reason given'} (${job.idLabel})`,
		);
	}
	return current;
}

/** A reseller's HTTP errors, explained from its table of [title, remedy] by status. */
export function explainHttpStatus(
	provider: string,
	help: Record<number, [title: string, remedy: string]>,
	fallbackRemedy: string,
): (failure: ProviderFailure) => FailureExplanation {
	return (failure) => {
		const [title, remedy] = help[failure.httpStatus] ?? [
			`HTTP ${failure.httpStatus}`,
			fallbackRemedy,
		];
		return { title: `${provider} error ${failure.httpStatus}: ${title}`, remedy };
	};
}
