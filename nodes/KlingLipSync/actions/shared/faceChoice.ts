import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';

import type { FaceChoice } from '../../helpers/faceFit';
import type { ItemParameters } from '../params';

/** The Face parameter and its fields: Lip Sync Video's, and each Dub Dialogue speaker's. */

const FACE_OPTIONS: Record<FaceChoice['by'], INodePropertyOptions> = {
	nextFree: {
		name: 'Next Free Face',
		value: 'nextFree',
		description:
			"The first face Kling finds (in its order) that no other speaker has: a new speaker never repeats another's face",
	},
	mostOverlap: {
		name: 'Best Overlap With the Audio',
		value: 'mostOverlap',
		description: 'The face whose lip-sync window holds most of the audio',
	},
	visibleAt: {
		name: 'Visible at Time',
		value: 'visibleAt',
		description: 'The face Kling finds on screen at a moment of the video',
	},
	index: { name: 'By Index', value: 'index', description: 'The n-th face Kling finds (0 = first)' },
	faceId: {
		name: 'By Face ID',
		value: 'faceId',
		description: 'A face_id from an Identify Face of the same video',
	},
};

const faceField: INodeProperties = {
	displayName: 'Face',
	name: 'faceChoice',
	type: 'options',
	options: [],
	default: '',
};

/** The Face parameter offering these choices (the first is the default), and the field each needs. */
export function faceChoiceFields(offered: ReadonlyArray<FaceChoice['by']>): INodeProperties[] {
	const when = (by: FaceChoice['by']) => ({ show: { faceChoice: [by] } });
	return [
		{ ...faceField, options: offered.map((by) => FACE_OPTIONS[by]), default: offered[0] },
		{
			displayName: 'Visible At (Milliseconds)',
			name: 'visibleAtMs',
			type: 'number',
			typeOptions: { minValue: 0 },
			default: 0,
			description: 'A moment of the video (from its start) at which only this face is in view',
			displayOptions: when('visibleAt'),
		},
		{
			displayName: 'Face Index',
			name: 'faceIndex',
			type: 'number',
			typeOptions: { minValue: 0 },
			default: 0,
			description: 'Which face, in the order Kling finds them: 0 = the first',
			displayOptions: when('index'),
		},
		{
			displayName: 'Face ID',
			name: 'chosenFaceId',
			type: 'string',
			default: '',
			placeholder: 'e.g. 0',
			required: true,
			displayOptions: when('faceId'),
		},
	];
}

/** The Face parameter as checked data: one of the choices offered (the first is the default). */
export function readFaceChoice(
	item: ItemParameters,
	offered: ReadonlyArray<FaceChoice['by']>,
): FaceChoice {
	const by = item.choice('faceChoice', 'Face', offered, offered[0]);
	if (by === 'index') {
		const index = item.number('faceIndex', 'Face Index', 'a whole number from 0', 0);
		if (!Number.isInteger(index) || index < 0)
			item.fail('Face Index must be a whole number from 0');
		return { by, index };
	}
	if (by === 'faceId') {
		const faceId = item.text('chosenFaceId').trim();
		if (!faceId) item.fail('Face ID is required when choosing the face by ID');
		return { by, faceId };
	}
	if (by === 'visibleAt') return { by, atMs: item.ms('visibleAtMs', 'Visible At (Milliseconds)') };
	return { by };
}
