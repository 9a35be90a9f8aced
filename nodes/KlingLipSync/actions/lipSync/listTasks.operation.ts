import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { KLING_LIMITS } from '../../helpers/constants';
import { taskToJson } from '../pipeline/output';
import type { RunSettings } from '../node.type';
import { ItemParameters } from '../params';
import { providersWithout, supportNote } from '../../transport/providers';

const properties: INodeProperties[] = [
	{
		displayName: `Listing tasks works with ${supportNote('listTasks').replace(/ only$/, '')}; ${providersWithout('listTasks')} have no task list`,
		name: 'listTasksNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Return All',
		name: 'returnAll',
		type: 'boolean',
		default: false,
		description: 'Whether to return all results or only up to a given limit',
	},
	{
		displayName: 'Limit',
		name: 'limit',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 50,
		description: 'Max number of results to return',
		displayOptions: { show: { returnAll: [false] } },
	},
];

export const description = updateDisplayOptions({ show: { operation: ['listTasks'] } }, properties);

export interface ListTasksPlan {
	itemIndex: number;
	/** Infinity: Return All. */
	limit: number;
}

export async function plan(
	this: IExecuteFunctions,
	itemIndex: number,
	run: RunSettings,
): Promise<ListTasksPlan> {
	const item = new ItemParameters(this, itemIndex);
	const returnAll = item.flag('returnAll');
	const limit = returnAll
		? Number.POSITIVE_INFINITY
		: item.number('limit', 'Limit', 'a whole number of at least 1');
	if (!returnAll && (!Number.isInteger(limit) || limit < 1)) {
		item.fail(`Limit must be a whole number of at least 1 (got ${limit})`);
	}
	item.requireSupport(run.api, 'listTasks');
	return { itemIndex, limit };
}

/** Pages through pageNum/pageSize (newest first) until enough tasks, or a short page, or page 1000. */
export async function execute(
	this: IExecuteFunctions,
	{ itemIndex, limit }: ListTasksPlan,
	run: RunSettings,
): Promise<INodeExecutionData[]> {
	if (!run.api.listTasks)
		throw new ItemParameters(this, itemIndex).unsupported(run.api, 'listTasks');
	const pageSize = Math.min(KLING_LIMITS.listPageSizeMax, limit);
	const tasks = [];
	for (let pageNum = 1; pageNum <= KLING_LIMITS.listPageNumMax && tasks.length < limit; pageNum++) {
		const page = await run.api.listTasks(pageNum, pageSize);
		tasks.push(...page);
		if (page.length < pageSize) break;
	}
	return tasks.slice(0, limit).map((task) => ({ json: taskToJson(task) }));
}
