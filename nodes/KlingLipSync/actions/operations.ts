import type { INodeProperties } from 'n8n-workflow';
import { supportNote } from '../transport/providers';

/** How an operation's items run: each on its own, as lip-sync tasks, or as chains of tasks. */
export type RunShape = 'items' | 'tasks' | 'chains';

export type KlingResource = 'face' | 'lipSync' | 'audio';

interface OperationFacts {
	resource: KlingResource;
	/** The name the panel and the subtitle show. */
	name: string;
	/** The action the nodes panel lists. */
	action: string;
	description: string;
	runs: RunShape;
	/** It creates the tasks it waits for, so Kling can call its execution back. */
	canWaitByCallback: boolean;
	/** It has no Wait for Completion switch: it waits (a dialogue's next step needs the last one's video). */
	alwaysWaits: boolean;
	/** Items that run at once where the operation has no Max Tasks in Flight option (list pages are large). */
	defaultInFlight: number;
}

/** Every operation of the node, once: the panel's pickers, the subtitle, the dispatch and the run settings derive from it. */
export const OPERATIONS = {
	identifyFace: {
		resource: 'face',
		name: 'Identify Face',
		action: 'Identify faces in video',
		description: 'Find the faces in a video and when each can be lip-synced (step 1)',
		runs: 'items',
		canWaitByCallback: false,
		alwaysWaits: false,
		defaultInFlight: 5,
	},
	lipSync: {
		resource: 'lipSync',
		name: 'Lip Sync',
		action: 'Lip sync face to new audio',
		description: 'Make a face speak new audio and wait for the video (step 2)',
		runs: 'tasks',
		canWaitByCallback: true,
		alwaysWaits: false,
		defaultInFlight: 5,
	},
	lipSyncVideo: {
		resource: 'lipSync',
		name: 'Lip Sync Video',
		action: 'Lip sync video to new audio in one step',
		description:
			'Video + audio -> the talking video: identifies the face, fits the audio, syncs and waits',
		runs: 'tasks',
		canWaitByCallback: true,
		alwaysWaits: false,
		defaultInFlight: 5,
	},
	dubDialogue: {
		resource: 'lipSync',
		name: 'Dub Dialogue',
		action: 'Dub a dialogue with several speakers',
		description:
			'Video + one audio track per speaker -> one video where every speaker is lip-synced, one speaker after another',
		runs: 'chains',
		canWaitByCallback: true,
		alwaysWaits: true,
		defaultInFlight: 5,
	},
	getTask: {
		resource: 'lipSync',
		name: 'Get Task',
		action: 'Get lip sync task',
		description: "Get a task's status and, once it succeeded, its video",
		runs: 'items',
		canWaitByCallback: false,
		alwaysWaits: false,
		defaultInFlight: 5,
	},
	listTasks: {
		resource: 'lipSync',
		name: 'List Tasks',
		action: 'List lip sync tasks',
		description: `List your lip-sync tasks, newest first (${supportNote('listTasks')})`,
		runs: 'items',
		canWaitByCallback: false,
		alwaysWaits: false,
		defaultInFlight: 2,
	},
	textToSpeech: {
		resource: 'audio',
		name: 'Text to Speech',
		action: 'Convert text to speech',
		description: `Kling text to speech: an audio_id (and URL) that Lip Sync and Lip Sync Video take directly (${supportNote('textToSpeech')})`,
		runs: 'items',
		canWaitByCallback: false,
		alwaysWaits: false,
		defaultInFlight: 5,
	},
} as const satisfies Record<string, OperationFacts>;

export type KlingOperation = keyof typeof OPERATIONS;

/** The operations that run the given way. */
export type OperationsRunning<Shape extends RunShape> = {
	[Operation in KlingOperation]: (typeof OPERATIONS)[Operation]['runs'] extends Shape
		? Operation
		: never;
}[KlingOperation];

const operationsOf = (resource: KlingResource): KlingOperation[] =>
	(Object.keys(OPERATIONS) as KlingOperation[]).filter(
		(operation) => OPERATIONS[operation].resource === resource,
	);

/** A resource's Operation picker, its operations in name order as n8n lists them. */
export function operationPicker(
	resource: KlingResource,
	defaultOperation: KlingOperation,
): INodeProperties {
	return {
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: [resource] } },
		options: operationsOf(resource)
			.map((operation) => {
				const { name, action, description } = OPERATIONS[operation];
				return { name, value: operation, action, description };
			})
			.sort((a, b) => a.name.localeCompare(b.name)),
		default: defaultOperation,
	};
}

/** The node's subtitle: the operation's name. */
export const OPERATION_SUBTITLE = `={{ ${JSON.stringify(
	Object.fromEntries(
		(Object.keys(OPERATIONS) as KlingOperation[]).map((operation) => [
			operation,
			OPERATIONS[operation].name,
		]),
	),
)}[$parameter["operation"]] }}`;
