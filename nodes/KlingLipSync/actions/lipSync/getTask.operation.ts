import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { checkId } from '../../helpers/validation';
import { maxInFlightOption, waitFields, waitForCompletionField } from '../common.descriptions';
import type { RunSettings } from '../node.type';
import { taskOutput } from '../pipeline/output';
import { waitForTask } from '../pipeline/poll';
import { failOn, requireSupport } from './params';

const properties: INodeProperties[] = [
	{
		displayName: 'Find Task By',
		name: 'taskIdType',
		type: 'options',
		options: [
			{ name: 'Task ID', value: 'taskId', description: "Kling's task_id" },
			{ name: 'External Task ID', value: 'externalTaskId', description: 'The ID you gave the task in Lip Sync (Kling and Kling-compatible proxies only)' },
		],
		default: 'taskId',
	},
	{
		displayName: 'Task ID',
		name: 'taskId',
		type: 'string',
		default: '={{ $json.task_id }}',
		required: true,
		displayOptions: { show: { taskIdType: ['taskId'] } },
	},
	{
		displayName: 'External Task ID',
		name: 'externalTaskId',
		type: 'string',
		default: '={{ $json.external_task_id }}',
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
		options: [maxInFlightOption()],
	},
];

export const description = updateDisplayOptions({ show: { operation: ['getTask'] } }, properties);

export interface GetTaskPlan {
	itemIndex: number;
	id: string;
}

export async function plan(this: IExecuteFunctions, itemIndex: number, run: RunSettings): Promise<GetTaskPlan> {
	const idType = this.getNodeParameter('taskIdType', itemIndex) as 'taskId' | 'externalTaskId';
	const id = this.getNodeParameter(idType, itemIndex) as unknown;
	failOn.call(this, itemIndex, idType === 'taskId' ? checkId('Task ID', id) : checkId('External Task ID', id, 'yours'));
	if (idType === 'externalTaskId') requireSupport.call(this, itemIndex, run.api, 'externalTaskId');
	return { itemIndex, id: (id as string).trim() };
}

/** The task as it is, or (Wait for Completion) once it is final, mapped as a created task is. */
export async function execute(this: IExecuteFunctions, planned: GetTaskPlan, run: RunSettings): Promise<INodeExecutionData[]> {
	const { itemIndex } = planned;
	const found = await run.api.getTask(planned.id);
	const task = run.wait ? await waitForTask(this, run.api, found, run.wait, itemIndex) : found;
	return [await taskOutput(this, { itemIndex, task }, run.wait)];
}
