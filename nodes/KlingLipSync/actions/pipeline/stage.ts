import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { runPool } from '../../helpers/pool';
import type { RunSettings } from '../node.type';
import { asNodeError, errorItem, isOutputItem } from './output';

/** A stage's entries, one per input item (in item order), and the first error that stops the run. */
export interface StageResult<Out> {
	entries: Array<Out | INodeExecutionData>;
	error?: Error;
}

/**
 * One stage of a run, for every item's entry, at most `limit` at once. An entry that is an output
 * item already (an earlier stage's error item) passes through. A step that throws makes its item's
 * error item under Continue On Fail; otherwise it is the run's error, and with `stopOnError` the
 * entries not yet started are skipped (nothing more is billed).
 */
export async function runStage<In, Out>(
	ctx: IExecuteFunctions,
	run: RunSettings,
	entries: Array<In | INodeExecutionData>,
	limit: number,
	step: (entry: In, itemIndex: number) => Promise<Out>,
	stopOnError: boolean,
): Promise<StageResult<Out>> {
	const errors = new Map<number, Error>();
	// What a failed or skipped item leaves in its place: the run ends with an error anyway.
	const nothing = (itemIndex: number): INodeExecutionData => ({
		json: {},
		pairedItem: { item: itemIndex },
	});
	const done = await runPool(
		entries.length,
		limit,
		async (itemIndex): Promise<Out | INodeExecutionData> => {
			const entry = entries[itemIndex];
			if (isOutputItem(entry)) return entry;
			if (errors.size > 0 && stopOnError) return nothing(itemIndex);
			try {
				return await step(entry as In, itemIndex);
			} catch (caught) {
				if (run.continueOnFail) return errorItem(caught, itemIndex);
				errors.set(itemIndex, asNodeError(ctx, caught, itemIndex));
				return nothing(itemIndex);
			}
		},
	);
	// The first failed item's error, as n8n would report an item-by-item run.
	const first = Math.min(...errors.keys());
	return { entries: done, error: errors.get(first) };
}

/** Items planned at once: enough that audio URLs download side by side, few enough that memory stays flat. */
const PLAN_IN_PARALLEL = 20;

/**
 * Plans every item, side by side (nothing billed). A bad item stops the planning of those not yet
 * started and the run (its error names the item); with Continue On Fail it becomes its error item.
 */
export async function planAll<Plan>(
	ctx: IExecuteFunctions,
	run: RunSettings,
	plan: (this: IExecuteFunctions, itemIndex: number, run: RunSettings) => Promise<Plan>,
): Promise<Array<Plan | INodeExecutionData>> {
	const indexes = ctx.getInputData().map((_item, itemIndex) => itemIndex);
	const planned = await runStage(
		ctx,
		run,
		indexes,
		PLAN_IN_PARALLEL,
		async (itemIndex) => await plan.call(ctx, itemIndex, run),
		true,
	);
	if (planned.error) throw planned.error;
	return planned.entries;
}
