import { inspectAudio } from '../../nodes/KlingLipSync/helpers/audio';
import { KlingError, invalidParameter } from './envelope';
import { download, silentWav } from './media';
import {
	MAX_AUDIO_BYTES,
	MAX_AUDIO_MS,
	MIN_AUDIO_MS,
	checkTiming,
	checkVideoScene,
	optionalVolume,
	present,
	requireInteger,
	requireString,
} from './rules';
import { resultScene, sceneFromQuery, type Scene } from './scene';
import type { EmulatorState } from './state';
import { AUDIO_MAX_DAYS_MS, klingId, type RouteName, type Session, type Task } from './types';

/** Kling's documented API: identify faces, create, get and list lip-sync tasks, text to speech. */

export function route(
	method: string,
	fullPath: string,
): { name: RouteName; id?: string } | undefined {
	// Pass-through resellers (kkiai, chainhub) serve the same API under a /kling prefix.
	const pathname = fullPath.startsWith('/kling/') ? fullPath.slice('/kling'.length) : fullPath;
	if (pathname === '/v1/videos/identify-face' && method === 'POST') return { name: 'identify' };
	if (pathname === '/v1/videos/advanced-lip-sync' && method === 'POST') return { name: 'create' };
	if (pathname === '/v1/videos/advanced-lip-sync' && method === 'GET') return { name: 'list' };
	const match = /^\/v1\/videos\/advanced-lip-sync\/([^/]+)$/.exec(pathname);
	if (match && method === 'GET') return { name: 'get', id: decodeURIComponent(match[1]) };
	if (pathname === '/v1/audio/tts' && method === 'POST') return { name: 'tts' };
	return undefined;
}

export async function resolveScene(
	s: EmulatorState,
	body: Record<string, unknown>,
): Promise<{ scene: Scene; video: Session['video'] }> {
	const hasId = present(body.video_id);
	const hasUrl = present(body.video_url);
	if (hasId === hasUrl)
		throw invalidParameter('Exactly one of video_id and video_url must be provided');
	if (hasId) {
		const id = requireString(body, 'video_id');
		// A video Kling made: a registered one, or a lip-sync result (its id is the task's id + "1"),
		// which shows the faces of the video it was made from.
		const resultOf = id.endsWith('1') ? s.tasks.get(id.slice(0, -1)) : undefined;
		const scene =
			s.config.videos[id] ??
			(resultOf?.status === 'succeed' ? resultScene(resultOf.session.scene) : undefined);
		if (!scene) throw invalidParameter('video_id does not exist or is older than 30 days');
		checkVideoScene(scene, 'video_id');
		return { scene, video: { id, url: '' } };
	}
	const raw = requireString(body, 'video_url');
	let url: URL;
	try {
		url = new URL(raw);
	} catch {
		throw invalidParameter('video_url must be a valid http(s) URL');
	}
	if (!/^https?:$/.test(url.protocol))
		throw invalidParameter('video_url must be a valid http(s) URL');
	if (!/\.(mp4|mov)$/i.test(url.pathname))
		throw invalidParameter('video_url must point to an .mp4 or .mov file');
	const scene = sceneFromQuery(url.searchParams);
	checkVideoScene(scene, 'video_url');
	return { scene, video: { id: '', url: raw } };
}

export async function identifyFace(
	s: EmulatorState,
	body: Record<string, unknown>,
): Promise<unknown> {
	const { scene, video } = await resolveScene(s, body);
	if (scene.faces.length === 0 && s.config.noFace === 'error') {
		throw invalidParameter('No face detected in the video');
	}
	const session: Session = { id: klingId(), createdAt: s.clock.now(), scene, video };
	s.sessions.set(session.id, session);
	s.stats.billed.identify++;
	return {
		session_id: session.id,
		final_unit_deduction: '0.05',
		face_data: scene.faces.map((face, index) => ({
			face_id: String(index),
			face_image: `${s.baseUrl}/media/faces/${session.id}/${index}.png`,
			start_time: face.startMs,
			end_time: face.endMs,
		})),
	};
}

/** Length in ms of the chosen audio: a TTS audio_id, or a sound_file (base64 or URL). */
export async function audioLength(
	s: EmulatorState,
	choice: Record<string, unknown>,
): Promise<number> {
	const hasAudioId = present(choice.audio_id);
	const hasSoundFile = present(choice.sound_file);
	if (hasAudioId === hasSoundFile) {
		throw invalidParameter(
			'face_choose[0]: exactly one of audio_id and sound_file must be provided',
		);
	}
	if (hasAudioId) {
		const id = requireString(choice, 'audio_id', 'face_choose[0].audio_id');
		const audio = s.audios.get(id);
		if (!audio || s.clock.now() - audio.createdAt > AUDIO_MAX_DAYS_MS) {
			throw invalidParameter('face_choose[0].audio_id does not exist or is older than 30 days');
		}
		return audio.durationMs;
	}
	const soundFile = requireString(choice, 'sound_file', 'face_choose[0].sound_file');
	let bytes: Buffer;
	if (/^https?:\/\//i.test(soundFile)) {
		try {
			bytes = await download(soundFile, MAX_AUDIO_BYTES);
		} catch (error) {
			const reason = (error as Error).message;
			throw invalidParameter(
				reason === 'too large'
					? 'face_choose[0].sound_file must be at most 5 MB'
					: `face_choose[0].sound_file URL could not be downloaded (${reason})`,
			);
		}
	} else {
		if (soundFile.startsWith('data:')) {
			throw invalidParameter('face_choose[0].sound_file: base64 must not carry a data: prefix');
		}
		if (!/^[A-Za-z0-9+/]+={0,2}$/.test(soundFile) || soundFile.length % 4 !== 0) {
			throw invalidParameter(
				'face_choose[0].sound_file must be base64-encoded audio or an http(s) URL',
			);
		}
		bytes = Buffer.from(soundFile, 'base64');
	}
	if (bytes.length > MAX_AUDIO_BYTES)
		throw invalidParameter('face_choose[0].sound_file must be at most 5 MB');
	const info = inspectAudio(bytes);
	if ('error' in info) throw invalidParameter(`face_choose[0].sound_file ${info.error}`);
	if (info.durationMs < MIN_AUDIO_MS || info.durationMs > MAX_AUDIO_MS) {
		throw invalidParameter(
			`face_choose[0].sound_file must be 2-60 s long (got ${info.durationMs} ms)`,
		);
	}
	return info.durationMs;
}

export async function createTask(
	s: EmulatorState,
	body: Record<string, unknown>,
): Promise<unknown> {
	const sessionId = requireString(body, 'session_id');
	const session = s.sessions.get(sessionId);
	if (!session || s.clock.now() - session.createdAt > s.config.sessionTtlMs) {
		throw invalidParameter('session_id does not exist or has expired (sessions last 24 hours)');
	}
	const faceChoose = body.face_choose;
	if (!Array.isArray(faceChoose) || faceChoose.length === 0) {
		throw invalidParameter('face_choose must be a non-empty array');
	}
	if (faceChoose.length > 1) throw invalidParameter('face_choose supports only one face');
	const choice = faceChoose[0] as Record<string, unknown>;
	if (!choice || typeof choice !== 'object')
		throw invalidParameter('face_choose[0] must be an object');
	const faceId = requireString(choice, 'face_id', 'face_choose[0].face_id');
	const face = session.scene.faces[Number(faceId)];
	if (!/^\d+$/.test(faceId) || !face) {
		throw invalidParameter(`face_choose[0].face_id "${faceId}" is not a face of this session`);
	}
	const timing = {
		startMs: requireInteger(choice, 'sound_start_time', 'face_choose[0].sound_start_time'),
		endMs: requireInteger(choice, 'sound_end_time', 'face_choose[0].sound_end_time'),
		insertMs: requireInteger(choice, 'sound_insert_time', 'face_choose[0].sound_insert_time'),
	};
	optionalVolume(choice, 'sound_volume', 'face_choose[0].sound_volume');
	optionalVolume(choice, 'original_audio_volume', 'face_choose[0].original_audio_volume');
	const watermark = body.watermark_info;
	if (
		watermark !== undefined &&
		(typeof watermark !== 'object' ||
			watermark === null ||
			typeof (watermark as { enabled?: unknown }).enabled !== 'boolean')
	) {
		throw invalidParameter('watermark_info must be {"enabled": boolean}');
	}
	const callbackUrl = body.callback_url;
	if (
		present(callbackUrl) &&
		(typeof callbackUrl !== 'string' || !/^https?:\/\/\S+$/.test(callbackUrl))
	) {
		throw invalidParameter('callback_url must be an http(s) URL');
	}
	const externalId = body.external_task_id;
	if (present(externalId) && typeof externalId !== 'string')
		throw invalidParameter('external_task_id must be a string');
	const audioMs = await audioLength(s, choice);
	checkTiming(timing, audioMs, session.scene.durationMs, face);
	// Checked after the last await, as Kling's unique key is: concurrent creates never both pass.
	if (present(externalId) && s.tasksByExternalId.has(externalId as string)) {
		s.stats.repeatedExternalTaskIds++;
		throw invalidParameter(`external_task_id "${externalId as string}" already exists`);
	}

	if (s.running() >= s.config.concurrencyLimit) throw new KlingError(1303);
	const now = s.clock.now();
	const task: Task = {
		task_id: klingId(),
		external_task_id: present(externalId) ? (externalId as string) : undefined,
		status: 'submitted',
		statusMsg: '',
		createdAt: now,
		updatedAt: now,
		session,
		watermark: (watermark as { enabled?: boolean } | undefined)?.enabled === true,
		callbackUrl: present(callbackUrl) ? (callbackUrl as string) : undefined,
		units: String(Math.ceil((timing.endMs - timing.startMs) / 5000)),
		resultMs: session.scene.durationMs,
		taskTimeMs: s.config.taskTimeMs + Math.round(Math.random() * s.config.taskTimeSpreadMs),
		failMessage: s.passingFailure(session.scene),
	};
	s.tasks.set(task.task_id, task);
	if (task.external_task_id) s.tasksByExternalId.set(task.external_task_id, task);
	s.stats.billed.create++;
	s.stats.tasksCreated++;
	s.stats.highestConcurrency = Math.max(s.stats.highestConcurrency, s.running());
	return {
		task_id: task.task_id,
		task_info: { external_task_id: task.external_task_id ?? '' },
		task_status: task.status,
		created_at: task.createdAt,
		updated_at: task.updatedAt,
	};
}

export function getTask(s: EmulatorState, id: string): unknown {
	const task = s.tasks.get(id) ?? s.tasksByExternalId.get(id);
	if (!task) throw new KlingError(1203, `Task ${id} does not exist`);
	if ((task.status === 'succeed' || task.status === 'failed') && task.noticedAt === undefined) {
		task.noticedAt = s.clock.now();
		s.stats.noticeDelaysMs.push(task.noticedAt - task.updatedAt);
	}
	return s.taskObject(task);
}

export function listTasks(s: EmulatorState, query: URLSearchParams): unknown {
	const page = (name: string, fallback: number, max: number): number => {
		const raw = query.get(name);
		if (raw === null) return fallback;
		const value = Number(raw);
		if (!/^\d+$/.test(raw) || value < 1 || value > max)
			throw invalidParameter(`${name} must be an integer from 1 to ${max}`);
		return value;
	};
	const pageNum = page('pageNum', 1, 1000);
	const pageSize = page('pageSize', 30, 500);
	const newestFirst = [...s.tasks.values()].sort(
		(a, b) => b.createdAt - a.createdAt || (a.task_id < b.task_id ? 1 : -1),
	);
	return newestFirst.slice((pageNum - 1) * pageSize, pageNum * pageSize).map(s.taskObject);
}

export function textToSpeech(s: EmulatorState, body: Record<string, unknown>): unknown {
	const text = requireString(body, 'text');
	if (text.length > 1000) throw invalidParameter('text must be at most 1000 characters');
	requireString(body, 'voice_id');
	const language = body.voice_language ?? 'en';
	if (language !== 'zh' && language !== 'en')
		throw invalidParameter('voice_language must be "zh" or "en"');
	const speed = body.voice_speed ?? 1;
	if (typeof speed !== 'number' || speed < 0.8 || speed > 2)
		throw invalidParameter('voice_speed must be a number from 0.8 to 2.0');
	const durationMs = Math.min(
		MAX_AUDIO_MS,
		Math.max(MIN_AUDIO_MS, Math.round((text.length * 60) / speed / 10) * 10),
	);
	const id = klingId();
	s.audios.set(id, { durationMs, createdAt: s.clock.now(), wav: silentWav(durationMs) });
	s.stats.billed.tts++;
	const now = s.clock.now();
	return {
		task_id: klingId(),
		task_status: 'succeed',
		task_status_msg: '',
		created_at: now,
		updated_at: now,
		task_result: {
			audios: [
				{ id, url: `${s.baseUrl}/media/audio/${id}.wav`, duration: (durationMs / 1000).toFixed(3) },
			],
		},
	};
}
