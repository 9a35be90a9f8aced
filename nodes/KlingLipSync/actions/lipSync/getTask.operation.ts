import type { IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { checkId } from '../../helpers/validation';
import { createLipSyncApi } from '../../transport';
import { maxInFlightOption, readMaxInFlight, readWaitSettings, waitFields, waitForCompletionField } from '../common.descriptions';
import type { ItemRunner } from '../node.type';
import { failOn, requireSupport } from './params';
import { waitAndFinish } from './wait';

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

export async function prepare(this: IExecuteFunctions, itemIndex: number): Promise<ItemRunner> {
	const idType = this.getNodeParameter('taskIdType', itemIndex) as 'taskId' | 'externalTaskId';
	const id = this.getNodeParameter(idType, itemIndex) as unknown;
	failOn.call(this, itemIndex, idType === 'taskId' ? checkId('Task ID', id) : checkId('External Task ID', id, 'yours'));
	const wait = readWaitSettings.call(this, itemIndex);
	const api = await createLipSyncApi(this, itemIndex);
	if (idType === 'externalTaskId') requireSupport.call(this, itemIndex, api, 'externalTaskId');

	return async (batch) => {
		const task = await api.getTask((id as string).trim());
		return await waitAndFinish(this, api, task, wait, itemIndex, batch);
	};
}

export { readMaxInFlight as maxInFlight };
