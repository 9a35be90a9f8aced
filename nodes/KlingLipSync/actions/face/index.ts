import type { INodeProperties } from 'n8n-workflow';

import { operationPicker } from '../operations';
import * as identifyFace from './identifyFace.operation';

export { identifyFace };

/** Face: find the faces of a video and when each can be lip-synced (step 1 of the two-step path). */
export const description: INodeProperties[] = [
	operationPicker('face', 'identifyFace'),
	...identifyFace.description,
];
