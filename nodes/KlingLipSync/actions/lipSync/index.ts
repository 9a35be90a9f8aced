import type { INodeProperties } from 'n8n-workflow';

import * as getTask from './getTask.operation';
import * as identifyFace from './identifyFace.operation';
import * as lipSync from './lipSync.operation';
import * as lipSyncVideo from './lipSyncVideo.operation';
import * as listTasks from './listTasks.operation';
import * as textToSpeech from './textToSpeech.operation';

export { getTask, identifyFace, lipSync, lipSyncVideo, listTasks, textToSpeech };

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
				name: 'Lip Sync Video',
				value: 'lipSyncVideo',
				action: 'Lip sync a video to new audio in one step',
				description: 'Video + audio -> the talking video: identifies the face, fits the audio, syncs and waits',
			},
			{
				name: 'List Tasks',
				value: 'listTasks',
				action: 'List lip sync tasks',
				description: 'List your lip-sync tasks, newest first (Kling and Kling-compatible proxies only)',
			},
			{
				name: 'Text to Speech',
				value: 'textToSpeech',
				action: 'Turn text into speech',
				description: 'Kling text to speech: an audio_id (and URL) that Lip Sync and Lip Sync Video take directly (Kling and proxies)',
			},
		],
		default: 'identifyFace',
	},
	...identifyFace.description,
	...lipSync.description,
	...lipSyncVideo.description,
	...textToSpeech.description,
	...getTask.description,
	...listTasks.description,
];
