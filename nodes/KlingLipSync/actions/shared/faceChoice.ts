import type { IExecuteFunctions, INodeProperties, INodePropertyOptions } from 'n8n-workflow';

import type { FaceChoice } from '../../helpers/faceFit';
import { checkMilliseconds, notANumber } from '../../helpers/validation';
import { failOn } from '../params';

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

/**
 * The Face parameter as checked data. `at` is where the fields are (the node's own, or a speaker's
 * `speakers.speaker[1].`); `label` starts the messages when that is not plain from the field names.
 */
export function readFaceChoice(
	this: IExecuteFunctions,
	itemIndex: number,
	fallback: FaceChoice['by'],
	at = '',
	label = '',
): FaceChoice {
	const fail = (violation: string | undefined): void =>
		failOn.call(this, itemIndex, violation && `${label}${violation}`);
	const by = this.getNodeParameter(`${at}faceChoice`, itemIndex, fallback) as FaceChoice['by'];
	if (!Object.hasOwn(FACE_OPTIONS, by))
		fail(
			`Face must be one of ${Object.keys(FACE_OPTIONS).join(', ')} (got "${String(by).slice(0, 40)}")`,
		);
	if (by === 'index') {
		const index = this.getNodeParameter(`${at}faceIndex`, itemIndex, 0) as unknown;
		fail(
			notANumber('Face Index', index, 'a whole number from 0') ??
				(Number.isInteger(index) && (index as number) >= 0
					? undefined
					: 'Face Index must be a whole number from 0'),
		);
		return { by, index: index as number };
	}
	if (by === 'faceId') {
		const faceId = this.getNodeParameter(`${at}chosenFaceId`, itemIndex, '') as unknown;
		fail(
			typeof faceId === 'string' && faceId.trim()
				? undefined
				: 'Face ID is required when choosing the face by ID',
		);
		return { by, faceId: (faceId as string).trim() };
	}
	if (by === 'visibleAt') {
		const atMs = this.getNodeParameter(`${at}visibleAtMs`, itemIndex, 0) as unknown;
		fail(checkMilliseconds('Visible At (ms)', atMs));
		return { by, atMs: atMs as number };
	}
	return { by: 'mostOverlap' };
}
