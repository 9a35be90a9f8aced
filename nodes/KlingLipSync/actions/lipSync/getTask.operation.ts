import type {
	IExecuteFunctions,
	ILoadOptionsFunctions,
	INodeExecutionData,
	INodeListSearchResult,
	INodeProperties,
} from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';

import { KLING_LIMITS } from '../../helpers/constants';
import { checkId } from '../../helpers/validation';
import { createLipSyncApi } from '../../transport';
import { maxInFlightOption, waitFields, waitForCompletionField } from '../common.descriptions';
import type { RunSettings } from '../node.type';
import { taskOutput } from '../pipeline/output';
import { waitForTask } from '../pipeline/poll';
import { ItemParameters } from '../params';
import { supportNote } from '../../transport/providers';

const taskIdField: INodeProperties = {
	displayName: 'Task ID',
	name: 'taskId',
	type: 'resourceLocator',
	default: { mode: 'list', value: '' },
	required: true,
	modes: [
		{
			displayName: 'From List',
			name: 'list',
			type: 'list',
			typeOptions: { searchListMethod: 'searchTasks', searchable: true },
		},
		{ displayName: 'By ID', name: 'id', type: 'string', placeholder: 'e.g. 800000001000007932' },
	],
};

const properties: INodeProperties[] = [
	{
		displayName: 'Find Task By',
		name: 'taskIdType',
		type: 'options',
		options: [
			{ name: 'Task ID', value: 'taskId', description: "Kling's task_id" },
			{
				name: 'External Task ID',
				value: 'externalTaskId',
				description: `The ID you gave the task in Lip Sync (${supportNote('externalTaskId')})`,
			},
		],
		default: 'taskId',
	},
	// From 1.2 Task ID starts empty in From List: a default expression greys the mode out in the
	// editor. Nodes saved at 1 and 1.1 keep the expression they were saved with.
	{
		...taskIdField,
		default: { mode: 'id', value: '={{ $json.task_id }}' },
		displayOptions: { show: { taskIdType: ['taskId'], '@version': [1, 1.1] } },
	},
	{
		...taskIdField,
		hint: 'Pick a task, or choose By ID and drag task_id from the input (e.g. from Lip Sync)',
		displayOptions: { show: { taskIdType: ['taskId'], '@version': [{ _cnd: { gte: 1.2 } }] } },
	},
	{
		displayName: 'External Task ID',
		name: 'externalTaskId',
		type: 'string',
		default: '={{ $json.external_task_id }}',
		placeholder: 'e.g. dub-episode-12-fr',
		required: true,
		displayOptions: { show: { taskIdType: ['externalTaskId'] } },
	},
	waitForCompletionField('getTask'),
	...waitFields('getTask'),
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			maxInFlightOption(
				'How many tasks are read (and, while waiting, watched and downloaded) at once',
			),
		],
	},
];

export const description = updateDisplayOptions({ show: { operation: ['getTask'] } }, properties);

export interface GetTaskPlan {
	itemIndex: number;
	id: string;
}

export async function plan(
	this: IExecuteFunctions,
	itemIndex: number,
	run: RunSettings,
): Promise<GetTaskPlan> {
	const item = new ItemParameters(this, itemIndex);
	const idType = item.choice('taskIdType', 'Find Task By', ['taskId', 'externalTaskId'], 'taskId');
	const id = this.getNodeParameter(idType, itemIndex, '', { extractValue: true });
	item.check(
		idType === 'taskId' ? checkId('Task ID', id) : checkId('External Task ID', id, 'yours'),
	);
	if (idType === 'externalTaskId') item.requireSupport(run.api, 'externalTaskId');
	return { itemIndex, id: String(id).trim() };
}

/** The task as it is, or (Wait for Completion) once it is final, mapped as a created task is. */
export async function execute(
	this: IExecuteFunctions,
	planned: GetTaskPlan,
	run: RunSettings,
): Promise<INodeExecutionData[]> {
	const { itemIndex } = planned;
	const found = await run.api.getTask(planned.id);
	const task = run.wait ? await waitForTask(this, run.api, found, run.wait, itemIndex) : found;
	return [await taskOutput(this, { itemIndex, task }, run.wait)];
}

/** Tasks shown per page of the Task ID list. */
const SEARCH_PAGE_SIZE = 50;

/** Task ID's From List mode: your tasks, newest first, each with its status and when it was made. */
export async function searchTasks(
	this: ILoadOptionsFunctions,
	filter?: string,
	paginationToken?: string,
): Promise<INodeListSearchResult> {
	const api = await createLipSyncApi(this, 0);
	if (!api.listTasks) {
		throw new NodeOperationError(
			this.getNode(),
			`${api.provider} does not support listing tasks: choose By ID and enter the task ID`,
		);
	}
	const page = Number(paginationToken) || 1;
	const tasks = await api.listTasks(page, SEARCH_PAGE_SIZE);
	const wanted = filter?.trim().toLowerCase();
	const shown = wanted
		? tasks.filter(
				(task) =>
					task.taskId.toLowerCase().includes(wanted) ||
					(task.externalTaskId ?? '').toLowerCase().includes(wanted),
			)
		: tasks;
	return {
		results: shown.map((task) => ({
			name: `${task.taskId} (${task.status}${task.createdAt ? `, ${new Date(task.createdAt).toISOString().slice(0, 16).replace('T', ' ')} UTC` : ''})`,
			value: task.taskId,
		})),
		paginationToken:
			tasks.length === SEARCH_PAGE_SIZE && page < KLING_LIMITS.listPageNumMax
				? String(page + 1)
				: undefined,
	};
}
