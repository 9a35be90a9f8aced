import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';

import type { FaceChoice } from '../../helpers/faceFit';
import type { ItemParameters } from '../params';

/** The Face parameter and its fields: Lip Sync Video's, and each Dub Dialogue speaker's. */

const FACE_OPTIONS: Record<FaceChoice['by'], INodePropertyOptions> = {
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

const FACE_CHOICES: ReadonlyArray<FaceChoice['by']> = [
	'mostOverlap',
	'visibleAt',
	'index',
	'faceId',
];

const faceField: INodeProperties = {
	displayName: 'Face',
	name: 'faceChoice',
	type: 'options',
	options: [],
	default: '',
};

/** The Face parameter offering these choices (the first is the default), and the field each needs. */
export function faceChoiceFields(offered: Array<FaceChoice['by']>): INodeProperties[] {
	const when = (by: FaceChoice['by']) => ({ show: { faceChoice: [by] } });
	return [
		{ ...faceField, options: offered.map((by) => FACE_OPTIONS[by]), default: offered[0] },
		{
			displayName: 'Visible At (Ms)',
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

/** The Face parameter as checked data. */
export function readFaceChoice(item: ItemParameters, fallback: FaceChoice['by']): FaceChoice {
	const by = item.choice('faceChoice', 'Face', FACE_CHOICES, fallback);
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
	if (by === 'visibleAt') return { by, atMs: item.ms('visibleAtMs', 'Visible At (ms)') };
	return { by };
}
