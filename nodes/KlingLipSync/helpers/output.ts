import type { IDataObject } from 'n8n-workflow';

import type { IdentifyFaceResult, LipSyncTask } from '../transport/types';

/** Seconds as whole milliseconds, the one unit of every duration the node outputs. */
const toMs = (seconds: number | undefined): number | null =>
	seconds === undefined ? null : Math.round(seconds * 1000);

/** An epoch-milliseconds time as an ISO 8601 string (UTC), as n8n's date fields read it. */
const toIso = (epochMs: number | undefined): string | null =>
	epochMs === undefined || !Number.isFinite(epochMs) ? null : new Date(epochMs).toISOString();

/**
 * The task as the node outputs it: Kling's field names, the first video lifted to the top; one
 * unit per field (durations in ms, units billed as a number, times as ISO 8601).
 */
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
		video_duration_ms: toMs(first?.durationSeconds),
		final_unit_deduction: task.units ?? null,
		created_at: toIso(task.createdAt),
		updated_at: toIso(task.updatedAt),
		videos: task.videos.map((video) => ({
			id: video.id,
			url: video.url,
			watermark_url: video.watermarkUrl ?? null,
			duration_ms: toMs(video.durationSeconds),
		})),
		...(task.parentVideo
			? {
					parent_video: {
						id: task.parentVideo.id ?? null,
						url: task.parentVideo.url ?? null,
						duration_ms: toMs(task.parentVideo.durationSeconds),
					},
				}
			: {}),
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
