import type { IDataObject } from 'n8n-workflow';

import type {
	CreateLipSyncInput,
	DetectedFace,
	IdentifyFaceResult,
	LipSyncTask,
	ResultVideo,
	SendRequest,
	SpeechResult,
	TaskStatus,
} from './types';

/**
 * The parts of Kling's API that pass-through proxies and resellers reuse: its JSON shapes read into
 * the neutral model, its create body, and the identify request.
 */

export const asObject = (value: unknown): IDataObject =>
	value && typeof value === 'object' && !Array.isArray(value) ? (value as IDataObject) : {};

/**
 * An id as a string. Replies are parsed keeping big integers as digits (helpers/json.ts); a bare
 * number that still arrives beyond a double's exact range (or with a fraction) has already lost
 * digits somewhere, and using it would name another task: that is an error, never a guess.
 */
export function asId(value: unknown): string {
	if (value === undefined || value === null) return '';
	if (typeof value === 'number' && !Number.isSafeInteger(value)) {
		throw new UnsafeIdError(value);
	}
	return String(value);
}

export class UnsafeIdError extends Error {
	constructor(value: number) {
		super(
			`An id arrived as the bare JSON number ${value}, which cannot be kept exactly (it has lost digits): the node stopped rather than use a wrong id`,
		);
		this.name = 'UnsafeIdError';
	}
}

export const asNumber = (value: unknown): number | undefined => {
	const number = typeof value === 'string' ? Number(value) : value;
	return typeof number === 'number' && Number.isFinite(number) ? number : undefined;
};

const STATUSES: readonly TaskStatus[] = ['submitted', 'processing', 'succeed', 'failed'];

const parentVideoOf = (video: IDataObject): LipSyncTask['parentVideo'] => ({
	id: asId(video.id) || undefined,
	url: typeof video.url === 'string' && video.url ? video.url : undefined,
	durationSeconds: asNumber(video.duration),
});

/** Kling's task object (GET, list, callbacks) -> the neutral task model. Throws only for an id that lost digits. */
export function parseOfficialTask(data: unknown): LipSyncTask {
	const raw = asObject(data);
	const info = asObject(raw.task_info);
	const result = asObject(raw.task_result);
	const videos: ResultVideo[] = (Array.isArray(result.videos) ? result.videos : []).map((entry) => {
		const video = asObject(entry);
		return {
			id: asId(video.id),
			url: typeof video.url === 'string' ? video.url : '',
			watermarkUrl:
				typeof video.watermark_url === 'string' && video.watermark_url
					? video.watermark_url
					: undefined,
			durationSeconds: asNumber(video.duration),
		};
	});
	const status = STATUSES.find((s) => s === raw.task_status) ?? 'processing';
	const externalTaskId = asId(info.external_task_id ?? raw.external_task_id);
	return {
		taskId: asId(raw.task_id),
		externalTaskId: externalTaskId || undefined,
		status,
		statusMessage:
			typeof raw.task_status_msg === 'string' && raw.task_status_msg
				? raw.task_status_msg
				: undefined,
		videos,
		units: asNumber(raw.final_unit_deduction),
		createdAt: asNumber(raw.created_at),
		updatedAt: asNumber(raw.updated_at),
		parentVideo: info.parent_video ? parentVideoOf(asObject(info.parent_video)) : undefined,
		raw,
	};
}

/** The task a callback body carries (Kling POSTs the task object; some proxies wrap it in `data`). */
export function taskFromCallback(body: IDataObject): LipSyncTask {
	const wrapped =
		body.data &&
		typeof body.data === 'object' &&
		!Array.isArray(body.data) &&
		'task_id' in body.data;
	return parseOfficialTask(wrapped ? body.data : body);
}

export function parseOfficialIdentify(data: unknown): IdentifyFaceResult {
	const raw = asObject(data);
	const faces: DetectedFace[] = (Array.isArray(raw.face_data) ? raw.face_data : []).map((entry) => {
		const face = asObject(entry);
		return {
			faceId: asId(face.face_id),
			imageUrl: typeof face.face_image === 'string' ? face.face_image : undefined,
			startMs: asNumber(face.start_time) ?? 0,
			endMs: asNumber(face.end_time) ?? 0,
		};
	});
	return {
		sessionId: asId(raw.session_id),
		faces,
		units: asNumber(raw.final_unit_deduction),
	};
}

/** Kling's text-to-speech reply -> its audios (each id is an audio_id for Lip Sync). Throws only UnsafeIdError, for an id that lost digits. */
export function parseSpeech(data: unknown): SpeechResult {
	const raw = asObject(data);
	const result = asObject(raw.task_result);
	const audios = (Array.isArray(result.audios) ? result.audios : []).map((entry) => {
		const audio = asObject(entry);
		const seconds = asNumber(audio.duration);
		return {
			id: asId(audio.id),
			url: typeof audio.url === 'string' ? audio.url : '',
			durationMs: seconds === undefined ? undefined : Math.round(seconds * 1000),
		};
	});
	return {
		taskId: asId(raw.task_id),
		status: STATUSES.find((s) => s === raw.task_status) ?? 'processing',
		statusMessage:
			typeof raw.task_status_msg === 'string' && raw.task_status_msg
				? raw.task_status_msg
				: undefined,
		audios,
		raw,
	};
}

export function officialCreateBody(input: CreateLipSyncInput): IDataObject {
	const face: IDataObject = {
		face_id: input.faceId,
		sound_start_time: input.cropStartMs,
		sound_end_time: input.cropEndMs,
		sound_insert_time: input.insertMs,
		sound_volume: input.soundVolume,
		original_audio_volume: input.originalAudioVolume,
	};
	// Exactly one audio source: the other key is omitted, as Kling requires.
	if (input.audioId) face.audio_id = input.audioId;
	else face.sound_file = input.soundFile;
	const body: IDataObject = {
		session_id: input.sessionId,
		face_choose: [face],
		watermark_info: { enabled: input.watermark },
	};
	if (input.externalTaskId) body.external_task_id = input.externalTaskId;
	if (input.callbackUrl) body.callback_url = input.callbackUrl;
	return body;
}

/**
 * Sends an Identify Face request (every provider's). It creates no task, so after a failure that
 * may have been carried out it is sent again; each such resend may bill one more identify, and is
 * counted for the output.
 */
export async function sendIdentify(
	send: SendRequest,
	path: string,
	body: IDataObject,
): Promise<{ data: unknown; uncertainResends: number }> {
	let uncertainResends = 0;
	const data = await send({
		method: 'POST',
		path,
		body,
		onUncertainResend: () => uncertainResends++,
	});
	return { data, uncertainResends };
}
