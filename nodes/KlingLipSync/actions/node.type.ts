import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import type { Batch } from './batch';

export type KlingOperation = 'identifyFace' | 'lipSync' | 'lipSyncVideo' | 'textToSpeech' | 'getTask' | 'listTasks';

/** One item's work, ready to run: everything checkable was checked when it was made. */
export type ItemRunner = (batch: Batch) => Promise<INodeExecutionData[]>;

export interface OperationModule {
	/**
	 * Reads and checks one item's parameters without any billed call, and returns its work.
	 * Throwing here stops the whole run before any item's work starts (unless Continue On Fail),
	 * which is why what the credential's provider cannot do is checked here too.
	 */
	prepare(this: IExecuteFunctions, itemIndex: number, batch: Batch): Promise<ItemRunner>;
	/** After every item ran without stopping the run: e.g. put the execution to wait for callbacks. Returns the output. */
	finish?(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[]>;
	/** How many items' work may run at once (default 1 would mean item after item: we never do that). */
	maxInFlight(this: IExecuteFunctions): number;
}
