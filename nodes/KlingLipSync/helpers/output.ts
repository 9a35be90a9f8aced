import type { IDataObject } from 'n8n-workflow';

import type { IdentifyFaceResult, LipSyncTask } from '../transport/types';

/** The task as the node outputs it: Kling's field names, the first video lifted to the top. */
export function taskToJson(task: LipSyncTask): IDataObject {
	const [first] = task.videos;
	return {
		task_id: task.taskId,
		external_task_id: task.externalTaskId ?? null,
		task_status: task.status,
		task_status_msg: task.statusMessage ?? null,
		video_url: first?.url ?? null,
		watermark_url: first?.watermarkUrl ?? null,
		video_id: first?.id ?? null,
		video_duration: first?.durationSeconds ?? null,
		final_unit_deduction: task.units ?? null,
		created_at: task.createdAt ?? null,
		updated_at: task.updatedAt ?? null,
		videos: task.videos.map((video) => ({
			id: video.id,
			url: video.url,
			watermark_url: video.watermarkUrl ?? null,
			duration: video.durationSeconds ?? null,
		})),
		...(task.parentVideo ? { parent_video: task.parentVideo } : {}),
		...(task.reused ? { reused_existing_task: true } : {}),
	};
}

export function faceToJson(face: IdentifyFaceResult['faces'][number]): IDataObject {
	return {
		face_id: face.faceId,
		face_image: face.imageUrl ?? null,
		start_time: face.startMs ?? null,
		end_time: face.endMs ?? null,
		window_ms:
			face.startMs === undefined || face.endMs === undefined
				? null
				: Math.max(0, face.endMs - face.startMs),
	};
}

/** The file name a task's video gets as n8n binary data. */
export function videoFileName(taskId: string, watermarked = false): string {
	return `kling-lipsync-${taskId}${watermarked ? '-watermarked' : ''}.mp4`;
}
