import type { IDataObject, NodeHint } from 'n8n-workflow';

/** What a dialogue costs, said before it runs (the editor), on every item and after the run. */

/** Speakers a dialogue may have: each step re-encodes the video, so quality drops with every one. */
export const MAX_SPEAKERS = 10;

/**
 * The editor says what a dialogue costs before it runs: one hint per speaker count (a hint's text
 * is not an expression; its condition is).
 */
export const hints: NodeHint[] = Array.from({ length: MAX_SPEAKERS }, (_, index) => {
	const count = index + 1;
	return {
		message: `Each item (dialogue) costs ${count} lip-sync task${count > 1 ? 's' : ''} and ${count} Identify Face call${count > 1 ? 's' : ''}, made one after another; each step re-encodes the video.`,
		type: 'info',
		location: 'ndv',
		whenToDisplay: 'always',
		displayCondition: `={{ $parameter["operation"] === "dubDialogue" && (($parameter["speakers"] && $parameter["speakers"].speaker) || []).length === ${count} }}`,
	};
});

/** What a run of dialogues costs, for n8n's output pane once it ran. */
export function runCostHint(dialogues: number, speakers: number, reused: number): string {
	return `This run: ${dialogues} dialogue(s), ${speakers} lip-sync task(s)${reused ? ` (${reused} taken over from an earlier run, not paid again)` : ''} and ${speakers} Identify Face call(s).`;
}

/** What a dialogue costs: one task and one identify per speaker (a reused step costs its identify only). */
export function dialogueCost(speakers: number): IDataObject {
	return { lip_sync_tasks: speakers, identify_calls: speakers };
}
