import type { INodeProperties } from 'n8n-workflow';

import * as identifyFace from './identifyFace.operation';

export { identifyFace };

/** Face: find the faces of a video and when each can be lip-synced (step 1 of the two-step path). */
export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['face'] } },
		options: [
			{
				name: 'Identify Face',
				value: 'identifyFace',
				action: 'Identify faces in video',
				description: 'Find the faces in a video and when each can be lip-synced (step 1)',
			},
		],
		default: 'identifyFace',
	},
	...identifyFace.description,
];
