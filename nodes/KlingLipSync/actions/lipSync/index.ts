import type { INodeProperties } from 'n8n-workflow';

import * as getTask from './getTask.operation';
import * as identifyFace from './identifyFace.operation';
import * as lipSync from './lipSync.operation';
import * as listTasks from './listTasks.operation';

export { getTask, identifyFace, lipSync, listTasks };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		options: [
			{
				name: 'Get Task',
				value: 'getTask',
				action: 'Get a lip sync task',
				description: "Get a task's status and, once it succeeded, its video",
			},
			{
				name: 'Identify Face',
				value: 'identifyFace',
				action: 'Identify faces in a video',
				description: 'Find the faces in a video and when each can be lip-synced (step 1)',
			},
			{
				name: 'Lip Sync',
				value: 'lipSync',
				action: 'Lip sync a face to new audio',
				description: 'Make a face speak new audio and wait for the video (step 2)',
			},
			{
				name: 'List Tasks',
				value: 'listTasks',
				action: 'List lip sync tasks',
				description: 'List your lip-sync tasks, newest first (Kling and Kling-compatible proxies only)',
			},
		],
		default: 'identifyFace',
	},
	...identifyFace.description,
	...lipSync.description,
	...getTask.description,
	...listTasks.description,
];
