import type { INodeProperties, NodeHint } from 'n8n-workflow';

import * as audio from './audio';
import * as face from './face';
import { waitModeHints } from './common.descriptions';
import * as dialogueCost from './dubDialogue/cost';
import * as lipSync from './lipSync';

/** The node's panel: a resource, its operations, and each operation's parameters. */
export const properties: INodeProperties[] = [
	{
		displayName: 'Resource',
		name: 'resource',
		type: 'options',
		noDataExpression: true,
		options: [
			{ name: 'Audio', value: 'audio', description: 'Speech made from text, for lip-syncing' },
			{ name: 'Face', value: 'face', description: 'The faces of a video that can be lip-synced' },
			{ name: 'Lip Sync', value: 'lipSync', description: 'Lip-sync tasks and their videos' },
		],
		default: 'lipSync',
	},
	...face.description,
	...lipSync.description,
	...audio.description,
];

/** Hints the editor shows while an operation is set up. */
export const hints: NodeHint[] = [...dialogueCost.hints, ...waitModeHints];
