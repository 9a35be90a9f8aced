/**
 * The external_task_id the node gives a task the user named none for. It is the same for every
 * attempt of one item in one node run (so a resubmission after a lost reply finds the first
 * task instead of paying for a second) and differs between executions, runs and items.
 */
export function deriveExternalTaskId(parts: { executionId: string; nodeId: string; runIndex: number; itemIndex: number }): string {
	const execution = parts.executionId.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 40);
	const node = parts.nodeId.replace(/[^A-Za-z0-9]/g, '').slice(0, 8);
	return `n8n-${execution}-${node}-r${parts.runIndex}-i${parts.itemIndex}`;
}
