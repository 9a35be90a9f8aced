import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';

import { faceToJson } from '../pipeline/output';
import type { IdentifyFaceInput } from '../../transport/types';
import type { RunSettings } from '../node.type';
import { ItemParameters } from '../params';
import { readVideo, videoSourceFields } from '../shared/videoSource';

const properties: INodeProperties[] = [
	...videoSourceFields,
	{
		displayName: 'Output',
		name: 'output',
		type: 'options',
		options: [
			{
				name: 'One Item per Face',
				value: 'perFace',
				description:
					'Each face becomes an item with session_id, face_id and its window: feed it straight into Lip Sync',
			},
			{
				name: 'One Item per Video',
				value: 'perVideo',
				description: 'One item with session_id and a list of faces',
			},
		],
		default: 'perFace',
	},
	{
		displayName: 'Fail When No Face Is Found',
		name: 'failWhenNoFace',
		type: 'boolean',
		default: true,
		description:
			'Whether a video without a usable face is an error; when off, it outputs an item with an empty face list',
	},
];

export const description = updateDisplayOptions(
	{ show: { operation: ['identifyFace'] } },
	properties,
);

export interface IdentifyFacePlan {
	itemIndex: number;
	video: IdentifyFaceInput;
	output: 'perFace' | 'perVideo';
	failWhenNoFace: boolean;
}

export async function plan(
	this: IExecuteFunctions,
	itemIndex: number,
	run: RunSettings,
): Promise<IdentifyFacePlan> {
	const item = new ItemParameters(this, itemIndex);
	return {
		itemIndex,
		video: readVideo(item, run.api),
		output: item.choice('output', 'Output', ['perFace', 'perVideo'], 'perFace'),
		failWhenNoFace: item.flag('failWhenNoFace'),
	};
}

export async function execute(
	this: IExecuteFunctions,
	planned: IdentifyFacePlan,
	run: RunSettings,
): Promise<INodeExecutionData[]> {
	const { itemIndex, video } = planned;
	const result = await run.api.identifyFace(video);
	if (result.faces.length === 0 && planned.failWhenNoFace) {
		throw new NodeOperationError(this.getNode(), 'Kling found no face to lip-sync in the video', {
			itemIndex,
			description: `Use a video where one face is visible and facing the camera for at least 2 s (session_id ${result.sessionId}). Turn off "Fail When No Face Is Found" to continue instead.`,
		});
	}
	const session = {
		session_id: result.sessionId,
		face_count: result.faces.length,
		final_unit_deduction: result.units ?? null,
		// The session's video: Lip Sync checks a task it finds by external_task_id against it.
		video_url: video.videoUrl ?? null,
		video_id: video.videoId ?? null,
		// Each resend after a failure that may have reached the API may have billed one more identify.
		identify_resends: result.uncertainResends ?? 0,
	};
	if (planned.output === 'perVideo' || result.faces.length === 0) {
		return [{ json: { ...session, faces: result.faces.map(faceToJson) } }];
	}
	return result.faces.map((face, index) => ({
		json: { ...session, face_index: index, ...faceToJson(face) },
	}));
}
