import type { INodeProperties } from 'n8n-workflow';

import { operationPicker } from '../operations';
import * as dubDialogue from '../dubDialogue/dubDialogue.operation';
import * as getTask from './getTask.operation';
import * as lipSync from './lipSync.operation';
import * as lipSyncVideo from './lipSyncVideo.operation';
import * as listTasks from './listTasks.operation';

export { getTask, lipSync, lipSyncVideo, listTasks };

/** Lip Sync: the tasks that make a face speak new audio, and reading them back. */
export const description: INodeProperties[] = [
	operationPicker('lipSync', 'lipSync'),
	...lipSync.description,
	...lipSyncVideo.description,
	...dubDialogue.description,
	...getTask.description,
	...listTasks.description,
];
