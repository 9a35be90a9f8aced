import type { INodeProperties } from 'n8n-workflow';

import * as dubDialogue from './dubDialogue.operation';
import * as getTask from './getTask.operation';
import * as lipSync from './lipSync.operation';
import * as lipSyncVideo from './lipSyncVideo.operation';
import * as listTasks from './listTasks.operation';

export { dubDialogue, getTask, lipSync, lipSyncVideo, listTasks };

/** Lip Sync: the tasks that make a face speak new audio, and reading them back. */
export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['lipSync'] } },
		options: [
			{
				name: 'Dub Dialogue',
				value: 'dubDialogue',
				action: 'Dub a dialogue with several speakers',
				description: 'Video + one audio track per speaker -> one video where every speaker is lip-synced, one speaker after another',
			},
			{
				name: 'Get Task',
				value: 'getTask',
				action: 'Get lip sync task',
				description: "Get a task's status and, once it succeeded, its video",
			},
			{
				name: 'Lip Sync',
				value: 'lipSync',
				action: 'Lip sync face to new audio',
				description: 'Make a face speak new audio and wait for the video (step 2)',
			},
			{
				name: 'Lip Sync Video',
				value: 'lipSyncVideo',
				action: 'Lip sync video to new audio in one step',
				description: 'Video + audio -> the talking video: identifies the face, fits the audio, syncs and waits',
			},
			{
				name: 'List Tasks',
				value: 'listTasks',
				action: 'List lip sync tasks',
				description: 'List your lip-sync tasks, newest first (Kling and Kling-compatible proxies only)',
			},
		],
		default: 'lipSync',
	},
	...lipSync.description,
	...lipSyncVideo.description,
	...dubDialogue.description,
	...getTask.description,
	...listTasks.description,
];
