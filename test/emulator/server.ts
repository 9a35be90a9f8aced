/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
import { randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

import { inspectAudio } from '../../nodes/KlingLipSync/helpers/audio';
import { authenticate } from './auth';
import { systemClock, type Clock } from './clock';
import { HTTP_STATUS_BY_CODE, KlingError, invalidParameter } from './envelope';
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
import { failureOf, resultScene, sceneFromQuery, type Scene } from './scene';
import { signWebhook } from './webhook';

export const FIXTURES_DIR = path.join(__dirname, '..', 'fixtures');
const RESULT_MP4 = readFileSync(path.join(FIXTURES_DIR, 'tiny.mp4'));
const FACE_PNG = readFileSync(path.join(FIXTURES_DIR, 'face.png'));

export type RouteName = 'identify' | 'create' | 'get' | 'list' | 'tts' | 'media';
export type TaskStatus = 'submitted' | 'processing' | 'succeed' | 'failed';

/** A fault injected on the next `times` requests of a route (all API routes with '*'). */
export type Fault = { route: RouteName | '*'; times?: number } & (
	| { kind: 'error'; code: number; message?: string }
	/** HTTP status without a business code (a gateway's 502/503/504 page). */
	| { kind: 'http'; status: number; json?: unknown; text?: string }
	| { kind: 'reset' }
	| { kind: 'delay'; ms: number }
	/** The request is carried out (a create is billed) but the reply never arrives. */
	| { kind: 'lostReply' }
	/** A hostile or broken provider: the request is carried out (a create is billed), the answer is this text. */
	| { kind: 'junkReply'; status: number; contentType: string; text: string }
	/** A hostile provider's refusal that echoes the request's Authorization header in its message. */
	| { kind: 'echoAuthorization'; code: number }
);

export interface EmulatorOptions {
	/** 0 (default) picks a free port. The server binds 127.0.0.1 only. */
	port?: number;
	apiKeys?: string[];
	/** Access Key -> Secret Key, for HS256 JWT auth. */
	accessKeys?: Record<string, string>;
	clock?: Clock;
	/** Time from creation to the final status. */
	taskTimeMs?: number;
	/** Each task takes taskTimeMs plus up to this much more, at random: finishes spread out. */
	taskTimeSpreadMs?: number;
	/** How long each /media/ file takes to start (a slow audio host). */
	mediaDelayMs?: number;
	/** Time a task stays `submitted` before `processing`. */
	submittedMs?: number;
	sessionTtlMs?: number;
	/** Tasks that may be submitted/processing at once; more answer 429 / 1303. */
	concurrencyLimit?: number;
	/** How a video without faces is answered: empty face_data, or 400 / 1201. */
	noFace?: 'empty' | 'error';
	/** Standard Webhooks secret (whsec_...): callbacks are signed when set. */
	webhookSecret?: string;
	callbackRetryDelaysMs?: number[];
	/** Size of each result video; above the fixture's size it is padded and streamed. */
	resultBytes?: number;
	/** Known Kling video ids and what they show. */
	videos?: Record<string, Scene>;
	/** How often task states are advanced on a real clock. */
	tickMs?: number;
	/** apimodels.app's identify-face is asynchronous: how long a job takes. */
	apimodelsIdentifyMs?: number;
	/** API requests the account may make per second (a sliding second); more answer 429 / 1302. */
	requestsPerSecond?: number;
	/** Ids (task, session, video) sent as bare JSON numbers, as some clients saw: 18 digits a JS number rounds. */
	bareNumericIds?: boolean;
	/** A hostile provider: every succeeded task's result video (and watermark) URL is this one. */
	resultVideoUrl?: string;
	/** Faults at random on this share of API requests (0-1), drawn from `kinds` (soak tests). */
	randomFaults?: { rate: number; kinds: Fault[]; random?: () => number };
}

interface Session {
	id: string;
	createdAt: number;
	scene: Scene;
	video: { id: string; url: string };
}

interface Task {
	task_id: string;
	external_task_id?: string;
	status: TaskStatus;
	statusMsg: string;
	createdAt: number;
	updatedAt: number;
	session: Session;
	watermark: boolean;
	callbackUrl?: string;
	units: string;
	resultMs: number;
	/** The task time in force when it was created (changing `taskTimeMs` later leaves it as is). */
	taskTimeMs: number;
	/** When a client first read the task final (GET). */
	noticedAt?: number;
	failMessage?: string;
}

export interface CallbackDelivery {
	url: string;
	taskId: string;
	status: TaskStatus;
	attempts: number;
	delivered: boolean;
	headers: Record<string, string>;
	body: string;
}

export interface EmulatorStats {
	requests: Record<string, number>;
	billed: { identify: number; create: number; tts: number };
	tasksCreated: number;
	highestConcurrency: number;
	repeatedExternalTaskIds: number;
	rejected: Record<number, number>;
	/** Faults served, by kind (e.g. "error 1303", "http 502", "lostReply"). */
	faults: Record<string, number>;
	/** Per task: how long after it became final a GET first read it final (ms). */
	noticeDelaysMs: number[];
	/** Bytes of /media/large/<bytes>.mp3 sent before the reader stopped (flow-controlled). */
	largeBytesSent: number;
	/** Task reads (GET by id) per id asked for, answered or not. */
	taskReads: Record<string, number>;
	/** Result video downloads per task id. */
	videoDownloads: Record<string, number>;
}

export interface Emulator {
	baseUrl: string;
	stats: EmulatorStats;
	callbacks: CallbackDelivery[];
	/** Every API key and signed token requests carried (for secret scans). */
	seenTokens(): string[];
	configure(options: Partial<EmulatorOptions>): void;
	injectFault(fault: Fault): void;
	clearFaults(): void;
	registerVideo(id: string, scene: Scene): void;
	/** The task as GET would answer it (for assertions). */
	task(id: string): Record<string, unknown> | undefined;
	/** Advances task states now (on a manual clock, after `clock.advance`). */
	tick(): void;
	runningTasks(): number;
	resetStats(): void;
	stop(): Promise<void>;
}

const DEFAULTS: Required<
	Omit<
		EmulatorOptions,
		'webhookSecret' | 'clock' | 'resultBytes' | 'randomFaults' | 'resultVideoUrl'
	>
> = {
	port: 0,
	apiKeys: ['test-api-key'],
	accessKeys: { 'test-access-key': 'test-secret-key' },
	taskTimeMs: 2000,
	taskTimeSpreadMs: 0,
	mediaDelayMs: 0,
	submittedMs: 300,
	sessionTtlMs: 24 * 3600 * 1000,
	concurrencyLimit: Number.POSITIVE_INFINITY,
	noFace: 'empty',
	callbackRetryDelaysMs: [100, 300, 900],
	videos: {
		'kling-video-8s': {
			durationMs: 8000,
			width: 1280,
			height: 720,
			sizeMb: 3,
			faces: [{ startMs: 0, endMs: 8000 }],
			step: 1,
			lostFaces: [],
		},
		'kling-video-90s': {
			durationMs: 90000,
			width: 1280,
			height: 720,
			sizeMb: 30,
			faces: [{ startMs: 0, endMs: 90000 }],
			step: 1,
			lostFaces: [],
		},
	},
	tickMs: 20,
	apimodelsIdentifyMs: 300,
	bareNumericIds: false,
	requestsPerSecond: Number.POSITIVE_INFINITY,
};

const AUDIO_MAX_DAYS_MS = 30 * 24 * 3600 * 1000;

/** 18-digit numeric string ids, like Kling's: they must never pass through a JS number. */
const klingId = (): string => {
	const digits = randomBytes(9).readBigUInt64BE(0).toString().padStart(17, '0').slice(-17);
	return `8${digits}`;
};

const emptyStats = (): EmulatorStats => ({
	requests: {},
	billed: { identify: 0, create: 0, tts: 0 },
	tasksCreated: 0,
	highestConcurrency: 0,
	repeatedExternalTaskIds: 0,
	rejected: {},
	faults: {},
	noticeDelaysMs: [],
	largeBytesSent: 0,
	taskReads: {},
	videoDownloads: {},
});

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		req.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size > limit) {
				reject(new KlingError(1200, 'Request body is too large'));
				req.destroy();
				return;
			}
			chunks.push(chunk);
		});
		req.on('end', () => resolve(Buffer.concat(chunks)));
		req.on('error', reject);
	});
}

/** Downloads a sound_file URL as Kling would, refusing more than `limit` bytes. */
/** Fetches a URL as Kling fetches a sound_file: following up to 3 redirects. */
function download(url: string, limit: number, redirects = 3): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const client = url.startsWith('https:') ? https : http;
		const req = client.get(url, { timeout: 10000 }, (res) => {
			const location = res.headers.location;
			if (
				location &&
				(res.statusCode ?? 0) >= 300 &&
				(res.statusCode ?? 0) < 400 &&
				redirects > 0
			) {
				res.resume();
				download(new URL(location, url).toString(), limit, redirects - 1).then(resolve, reject);
				return;
			}
			if ((res.statusCode ?? 0) >= 300) {
				res.resume();
				reject(new Error(`HTTP ${res.statusCode}`));
				return;
			}
			const chunks: Buffer[] = [];
			let size = 0;
			res.on('data', (chunk: Buffer) => {
				size += chunk.length;
				if (size > limit) {
					req.destroy();
					reject(new Error('too large'));
					return;
				}
				chunks.push(chunk);
			});
			res.on('end', () => resolve(Buffer.concat(chunks)));
			res.on('error', reject);
		});
		req.on('timeout', () => req.destroy(new Error('timeout')));
		req.on('error', reject);
	});
}

/** A WAV of silence, for TTS results: real audio whose length the node can measure. */
export function silentWav(durationMs: number, sampleRate = 8000): Buffer {
	const samples = Math.round((durationMs / 1000) * sampleRate);
	const header = Buffer.alloc(44);
	header.write('RIFF', 0);
	header.writeUInt32LE(36 + samples, 4);
	header.write('WAVEfmt ', 8);
	header.writeUInt32LE(16, 16);
	header.writeUInt16LE(1, 20); // PCM
	header.writeUInt16LE(1, 22); // mono
	header.writeUInt32LE(sampleRate, 24);
	header.writeUInt32LE(sampleRate, 28); // byte rate: 8-bit mono
	header.writeUInt16LE(1, 32);
	header.writeUInt16LE(8, 34);
	header.write('data', 36);
	header.writeUInt32LE(samples, 40);
	return Buffer.concat([header, Buffer.alloc(samples, 128)]);
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
	// An option left undefined (a command-line flag not given) keeps its default.
	const given = (values: Partial<EmulatorOptions>): Partial<EmulatorOptions> =>
		Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined));
	let config = {
		...DEFAULTS,
		...given(options),
		videos: { ...DEFAULTS.videos, ...options.videos },
	};
	const clock = options.clock ?? systemClock;
	const sessions = new Map<string, Session>();
	const tasks = new Map<string, Task>();
	const tasksByExternalId = new Map<string, Task>();
	const audios = new Map<string, { durationMs: number; createdAt: number; wav: Buffer }>();
	const callbacks: CallbackDelivery[] = [];
	let faults: Fault[] = [];
	let stats = emptyStats();
	let baseUrl = '';
	const pendingTimers = new Set<NodeJS.Timeout>();

	const later = (ms: number, fn: () => void): void => {
		const timer = setTimeout(() => {
			pendingTimers.delete(timer);
			fn();
		}, ms);
		pendingTimers.add(timer);
	};

	/** Tasks failed so far per failing video and step (`failTimes`: a fault that passes). */
	const failuresServed = new Map<string, number>();
	const passingFailure = (scene: Scene): string | undefined => {
		const reason = failureOf(scene);
		if (reason === undefined || scene.failTimes === undefined) return reason;
		const key = `${scene.origin ?? ''}#${scene.step}`;
		const served = failuresServed.get(key) ?? 0;
		if (served >= scene.failTimes) return undefined;
		failuresServed.set(key, served + 1);
		return reason;
	};

	const running = (): number =>
		[...tasks.values()].filter((t) => t.status === 'submitted' || t.status === 'processing').length;

	const taskObject = (task: Task): Record<string, unknown> => {
		const video = task.session.video;
		const result =
			task.status === 'succeed'
				? {
						videos: [
							{
								id: `${task.task_id}1`,
								url: config.resultVideoUrl ?? `${baseUrl}/media/results/${task.task_id}.mp4`,
								...(task.watermark
									? {
											watermark_url:
												config.resultVideoUrl ??
												`${baseUrl}/media/results/${task.task_id}-watermark.mp4`,
										}
									: {}),
								duration: (task.resultMs / 1000).toFixed(3),
							},
						],
					}
				: {};
		return {
			task_id: task.task_id,
			task_status: task.status,
			task_status_msg: task.statusMsg,
			task_info: {
				external_task_id: task.external_task_id ?? '',
				parent_video: {
					id: video.id,
					url: video.url,
					duration: (task.session.scene.durationMs / 1000).toFixed(3),
				},
			},
			task_result: result,
			watermark_info: { enabled: task.watermark },
			final_unit_deduction: task.status === 'succeed' ? task.units : '0',
			created_at: task.createdAt,
			updated_at: task.updatedAt,
		};
	};

	const deliverCallback = (task: Task): void => {
		if (!task.callbackUrl) return;
		const body = JSON.stringify(taskObject(task));
		const headers: Record<string, string> = { 'content-type': 'application/json' };
		if (config.webhookSecret) {
			const id = `msg_${randomUUID()}`;
			const timestamp = Math.floor(clock.now() / 1000);
			headers['webhook-id'] = id;
			headers['webhook-timestamp'] = String(timestamp);
			headers['webhook-signature'] = signWebhook(config.webhookSecret, id, timestamp, body);
		}
		const delivery: CallbackDelivery = {
			url: task.callbackUrl,
			taskId: task.task_id,
			status: task.status,
			attempts: 0,
			delivered: false,
			headers,
			body,
		};
		callbacks.push(delivery);
		const attempt = (): void => {
			delivery.attempts++;
			const target = new URL(delivery.url);
			const client = target.protocol === 'https:' ? https : http;
			const req = client.request(target, { method: 'POST', headers, timeout: 10000 }, (res) => {
				res.resume();
				if ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300) delivery.delivered = true;
				else retry();
			});
			req.on('timeout', () => req.destroy(new Error('timeout')));
			req.on('error', retry);
			req.end(body);
		};
		const retry = (): void => {
			const delay = config.callbackRetryDelaysMs[delivery.attempts - 1];
			if (delay !== undefined) later(delay, attempt);
		};
		attempt();
	};

	const setStatus = (task: Task, status: TaskStatus, at: number): void => {
		task.status = status;
		task.updatedAt = at;
		if (status === 'failed') task.statusMsg = task.failMessage ?? 'Lip sync failed';
		deliverCallback(task);
	};

	const tick = (): void => {
		const now = clock.now();
		for (const task of tasks.values()) {
			if (task.status === 'submitted' && now >= task.createdAt + config.submittedMs) {
				setStatus(task, 'processing', task.createdAt + config.submittedMs);
			}
			if (task.status === 'processing' && now >= task.createdAt + task.taskTimeMs) {
				setStatus(task, task.failMessage ? 'failed' : 'succeed', task.createdAt + task.taskTimeMs);
			}
		}
	};
	const ticker = setInterval(tick, config.tickMs);
	ticker.unref();

	// ---- request handlers -------------------------------------------------------------------

	const resolveScene = async (
		body: Record<string, unknown>,
	): Promise<{ scene: Scene; video: Session['video'] }> => {
		const hasId = present(body.video_id);
		const hasUrl = present(body.video_url);
		if (hasId === hasUrl)
			throw invalidParameter('Exactly one of video_id and video_url must be provided');
		if (hasId) {
			const id = requireString(body, 'video_id');
			// A video Kling made: a registered one, or a lip-sync result (its id is the task's id + "1"),
			// which shows the faces of the video it was made from.
			const resultOf = id.endsWith('1') ? tasks.get(id.slice(0, -1)) : undefined;
			const scene =
				config.videos[id] ??
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
	};

	const identifyFace = async (body: Record<string, unknown>): Promise<unknown> => {
		const { scene, video } = await resolveScene(body);
		if (scene.faces.length === 0 && config.noFace === 'error') {
			throw invalidParameter('No face detected in the video');
		}
		const session: Session = { id: klingId(), createdAt: clock.now(), scene, video };
		sessions.set(session.id, session);
		stats.billed.identify++;
		return {
			session_id: session.id,
			final_unit_deduction: '0.05',
			face_data: scene.faces.map((face, index) => ({
				face_id: String(index),
				face_image: `${baseUrl}/media/faces/${session.id}/${index}.png`,
				start_time: face.startMs,
				end_time: face.endMs,
			})),
		};
	};

	/** Length in ms of the chosen audio: a TTS audio_id, or a sound_file (base64 or URL). */
	const audioLength = async (choice: Record<string, unknown>): Promise<number> => {
		const hasAudioId = present(choice.audio_id);
		const hasSoundFile = present(choice.sound_file);
		if (hasAudioId === hasSoundFile) {
			throw invalidParameter(
				'face_choose[0]: exactly one of audio_id and sound_file must be provided',
			);
		}
		if (hasAudioId) {
			const id = requireString(choice, 'audio_id', 'face_choose[0].audio_id');
			const audio = audios.get(id);
			if (!audio || clock.now() - audio.createdAt > AUDIO_MAX_DAYS_MS) {
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
	};

	const createTask = async (body: Record<string, unknown>): Promise<unknown> => {
		const sessionId = requireString(body, 'session_id');
		const session = sessions.get(sessionId);
		if (!session || clock.now() - session.createdAt > config.sessionTtlMs) {
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
		const audioMs = await audioLength(choice);
		checkTiming(timing, audioMs, session.scene.durationMs, face);
		// Checked after the last await, as Kling's unique key is: concurrent creates never both pass.
		if (present(externalId) && tasksByExternalId.has(externalId as string)) {
			stats.repeatedExternalTaskIds++;
			throw invalidParameter(`external_task_id "${externalId as string}" already exists`);
		}

		if (running() >= config.concurrencyLimit) throw new KlingError(1303);
		const now = clock.now();
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
			taskTimeMs: config.taskTimeMs + Math.round(Math.random() * config.taskTimeSpreadMs),
			failMessage: passingFailure(session.scene),
		};
		tasks.set(task.task_id, task);
		if (task.external_task_id) tasksByExternalId.set(task.external_task_id, task);
		stats.billed.create++;
		stats.tasksCreated++;
		stats.highestConcurrency = Math.max(stats.highestConcurrency, running());
		return {
			task_id: task.task_id,
			task_info: { external_task_id: task.external_task_id ?? '' },
			task_status: task.status,
			created_at: task.createdAt,
			updated_at: task.updatedAt,
		};
	};

	const getTask = (id: string): unknown => {
		const task = tasks.get(id) ?? tasksByExternalId.get(id);
		if (!task) throw new KlingError(1203, `Task ${id} does not exist`);
		if ((task.status === 'succeed' || task.status === 'failed') && task.noticedAt === undefined) {
			task.noticedAt = clock.now();
			stats.noticeDelaysMs.push(task.noticedAt - task.updatedAt);
		}
		return taskObject(task);
	};

	const listTasks = (query: URLSearchParams): unknown => {
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
		const newestFirst = [...tasks.values()].sort(
			(a, b) => b.createdAt - a.createdAt || (a.task_id < b.task_id ? 1 : -1),
		);
		return newestFirst.slice((pageNum - 1) * pageSize, pageNum * pageSize).map(taskObject);
	};

	const textToSpeech = (body: Record<string, unknown>): unknown => {
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
		audios.set(id, { durationMs, createdAt: clock.now(), wav: silentWav(durationMs) });
		stats.billed.tts++;
		const now = clock.now();
		return {
			task_id: klingId(),
			task_status: 'succeed',
			task_status_msg: '',
			created_at: now,
			updated_at: now,
			task_result: {
				audios: [
					{ id, url: `${baseUrl}/media/audio/${id}.wav`, duration: (durationMs / 1000).toFixed(3) },
				],
			},
		};
	};

	// ---- media (no auth, like Kling's CDN links) ---------------------------------------------

	const sendMp4 = (res: http.ServerResponse, size: number): void => {
		const total = Math.max(size, RESULT_MP4.length);
		res.writeHead(200, { 'content-type': 'video/mp4', 'content-length': String(total) });
		if (total === RESULT_MP4.length) {
			res.end(RESULT_MP4);
			return;
		}
		// Pad with one MP4 'free' box, streamed in chunks so a 200 MB result is never held in memory.
		const padding = total - RESULT_MP4.length;
		const boxHeader = Buffer.alloc(8);
		boxHeader.writeUInt32BE(padding, 0);
		boxHeader.write('free', 4);
		res.write(RESULT_MP4);
		res.write(boxHeader);
		let left = padding - 8;
		const chunk = Buffer.alloc(64 * 1024);
		const pump = (): void => {
			while (left > 0) {
				const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
				left -= part.length;
				if (!res.write(part)) {
					res.once('drain', pump);
					return;
				}
			}
			res.end();
		};
		pump();
	};

	/**
	 * A file of any size (an MP3 frame header, then zeros), made as it is read and sent only as
	 * fast as the reader takes it: what a reader that stops early leaves unread is never sent.
	 */
	const sendLarge = (res: http.ServerResponse, size: number): void => {
		res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': String(size) });
		const chunk = Buffer.alloc(64 * 1024);
		chunk.set([0xff, 0xfb, 0x90, 0x64]);
		let sent = 0;
		const pump = (): void => {
			while (sent < size && !res.destroyed) {
				const piece = chunk.subarray(0, Math.min(chunk.length, size - sent));
				sent += piece.length;
				stats.largeBytesSent += piece.length;
				if (!res.write(piece)) {
					res.once('drain', pump);
					return;
				}
			}
			if (sent >= size) res.end();
		};
		res.on('close', () => res.removeAllListeners('drain'));
		pump();
	};

	/** Start times of the API requests answered in the last second (the account's rate). */
	let recentRequests: number[] = [];
	const overRateLimit = (): boolean => {
		if (!Number.isFinite(config.requestsPerSecond)) return false;
		const now = Date.now();
		recentRequests = recentRequests.filter((at) => now - at < 1000);
		if (recentRequests.length >= config.requestsPerSecond) return true;
		recentRequests.push(now);
		return false;
	};

	const serveMedia = (url: URL, res: http.ServerResponse): boolean => {
		const parts = url.pathname.split('/').filter(Boolean); // media, kind, ...
		const [, kind, first, second] = parts;
		if (kind === 'results') {
			const id = first?.replace(/(-watermark)?\.mp4$/, '');
			if (id) stats.videoDownloads[id] = (stats.videoDownloads[id] ?? 0) + 1;
			if (!id || tasks.get(id)?.status !== 'succeed') return false;
			sendMp4(res, options.resultBytes ?? config.resultBytes ?? RESULT_MP4.length);
			return true;
		}
		if (kind === 'redirect') {
			// A link that moves: `/media/redirect?to=<url>` answers 302 to it (a hostile result URL's first hop).
			const to = url.searchParams.get('to');
			if (!to) return false;
			res.writeHead(302, { location: to });
			res.end();
			return true;
		}
		if (kind === 'faces' && sessions.has(first) && second) {
			res.writeHead(200, {
				'content-type': 'image/png',
				'content-length': String(FACE_PNG.length),
			});
			res.end(FACE_PNG);
			return true;
		}
		if (kind === 'audio') {
			const audio = audios.get(first?.replace(/\.wav$/, ''));
			if (!audio) return false;
			res.writeHead(200, {
				'content-type': 'audio/wav',
				'content-length': String(audio.wav.length),
			});
			res.end(audio.wav);
			return true;
		}
		if (kind === 'silence' && /^\d+\.wav$/.test(first ?? '')) {
			// A voice track of any length (a dub with silence where others speak): at most 60 s.
			const wav = silentWav(Math.min(60_000, Number(first.replace('.wav', ''))));
			res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': String(wav.length) });
			res.end(wav);
			return true;
		}
		if (kind === 'large' && /^\d+\.mp3$/.test(first ?? '')) {
			sendLarge(res, Number(first.replace('.mp3', '')));
			return true;
		}
		if (kind === 'videos' && first) {
			sendMp4(res, RESULT_MP4.length);
			return true;
		}
		if (kind === 'fixtures' && first && /^[\w.-]+$/.test(first)) {
			const file = path.join(FIXTURES_DIR, first);
			const stream = createReadStream(file);
			stream.on('error', () => {
				res.writeHead(404).end();
			});
			stream.once('open', () => res.writeHead(200));
			stream.pipe(res);
			return true;
		}
		return false;
	};

	// ---- routing ------------------------------------------------------------------------------

	const route = (
		method: string,
		fullPath: string,
	): { name: RouteName; id?: string } | undefined => {
		// Pass-through resellers (kkiai, chainhub) serve the same API under a /kling prefix.
		const pathname = fullPath.startsWith('/kling/') ? fullPath.slice('/kling'.length) : fullPath;
		if (pathname === '/v1/videos/identify-face' && method === 'POST') return { name: 'identify' };
		if (pathname === '/v1/videos/advanced-lip-sync' && method === 'POST') return { name: 'create' };
		if (pathname === '/v1/videos/advanced-lip-sync' && method === 'GET') return { name: 'list' };
		const match = /^\/v1\/videos\/advanced-lip-sync\/([^/]+)$/.exec(pathname);
		if (match && method === 'GET') return { name: 'get', id: decodeURIComponent(match[1]) };
		if (pathname === '/v1/audio/tts' && method === 'POST') return { name: 'tts' };
		return undefined;
	};

	/** Every API key and signed token a request carried: secrets that must not show up elsewhere. */
	const seenTokens = new Set<string>();

	const faultName = (fault: Fault): string =>
		fault.kind === 'error'
			? `error ${fault.code}`
			: fault.kind === 'http'
				? `http ${fault.status}`
				: fault.kind;

	const takeFault = (name: RouteName): Fault | undefined => {
		const scripted = faults.find((f) => f.route === name || (f.route === '*' && name !== 'media'));
		let fault: Fault | undefined = scripted;
		if (scripted) {
			scripted.times = (scripted.times ?? 1) - 1;
			if (scripted.times <= 0) faults = faults.filter((f) => f !== scripted);
		} else if (config.randomFaults && name !== 'media') {
			const { rate, kinds, random = Math.random } = config.randomFaults;
			if (kinds.length && random() < rate) fault = kinds[Math.floor(random() * kinds.length)];
		}
		if (fault) stats.faults[faultName(fault)] = (stats.faults[faultName(fault)] ?? 0) + 1;
		return fault;
	};

	const send = (res: http.ServerResponse, status: number, payload: unknown): void => {
		const json = JSON.stringify(payload);
		const text = config.bareNumericIds
			? json.replace(/"((?:\w+_)?id)":"(\d{15,})"/g, '"$1":$2')
			: json;
		// Date on the emulator's clock: a client measures clock skew from it.
		const date = new Date(clock.now()).toUTCString();
		res.writeHead(status, {
			'content-type': 'application/json',
			'content-length': String(Buffer.byteLength(text)),
			date,
		});
		res.end(text);
	};

	const sendError = (res: http.ServerResponse, error: KlingError, requestId: string): void => {
		stats.rejected[error.code] = (stats.rejected[error.code] ?? 0) + 1;
		send(res, error.httpStatus, {
			code: error.code,
			message: error.message,
			request_id: requestId,
			data: null,
		});
	};

	const sendHttpFault = (
		res: http.ServerResponse,
		fault: { status: number; json?: unknown; text?: string },
	): void => {
		if (fault.text !== undefined) {
			res.writeHead(fault.status, { 'content-type': 'application/json' });
			res.end(fault.text);
			return;
		}
		if (fault.json !== undefined) {
			send(res, fault.status, fault.json);
			return;
		}
		res.writeHead(fault.status, { 'content-type': 'text/html' });
		res.end(`<html><body>${fault.status} Bad Gateway</body></html>`);
	};

	// ---- apimodels.app dialect (seed 004): one endpoint, `model` picks the step ----------------

	/** A reseller's job id -> what it stands for: an identify result, or one of our tasks. */
	const resellerJobs = new Map<
		string,
		{ model: string; createdAt: number; identify?: unknown; taskId?: string }
	>();
	const APIMODELS_PATH = '/api/v1/audio/generations';
	const STATE_OF: Record<TaskStatus, string> = {
		submitted: 'pending',
		processing: 'processing',
		succeed: 'completed',
		failed: 'failed',
	};

	const apimodelsJob = (id: string): Record<string, unknown> => {
		const job = resellerJobs.get(id);
		if (!job) throw new KlingError(1203, 'Task not found');
		const base = { taskId: id, model: job.model };
		if (job.identify) {
			const identified = job.identify as {
				session_id: string;
				face_data: Array<{ face_id: string; face_image: string }>;
			};
			if (clock.now() - job.createdAt < config.apimodelsIdentifyMs)
				return { ...base, state: 'processing' };
			if (identified.face_data.length === 0)
				return { ...base, state: 'failed', failMsg: 'Face detection failed: no faces found' };
			return {
				...base,
				state: 'completed',
				faceData: {
					session_id: identified.session_id,
					face_list: identified.face_data.map((face) => ({
						face_id: face.face_id,
						face_reference: face.face_image,
					})),
				},
			};
		}
		const task = taskObject(tasks.get(job.taskId ?? '') as Task) as {
			task_status: TaskStatus;
			task_status_msg: string;
			task_result: { videos?: Array<{ url: string }> };
		};
		return {
			...base,
			state: STATE_OF[task.task_status],
			...(task.task_status === 'succeed'
				? { resultUrls: (task.task_result.videos ?? []).map((video) => video.url) }
				: {}),
			...(task.task_status === 'failed' ? { failMsg: task.task_status_msg } : {}),
		};
	};

	// ---- vtrix "kirin" dialect (seed 000; paths [?]): models on Kling's fields, async jobs ------

	const VTRIX_PATH = '/v1/generations';

	const vtrixJob = (id: string): Record<string, unknown> => {
		const job = resellerJobs.get(id);
		if (!job) throw new KlingError(1203, 'Task not found');
		const base = { id, model: job.model };
		if (job.identify) {
			if (clock.now() - job.createdAt < config.apimodelsIdentifyMs)
				return { ...base, status: 'processing' };
			return {
				...base,
				status: 'completed',
				output: [{ content: [{ type: 'text', text: JSON.stringify(job.identify) }] }],
				usage: { cost: '0.001', discount: 0 },
			};
		}
		const task = taskObject(tasks.get(job.taskId ?? '') as Task) as {
			task_id: string;
			task_status: TaskStatus;
			task_status_msg: string;
			task_result: { videos?: Array<{ url: string; duration: string }> };
		};
		if (task.task_status === 'failed') {
			return {
				...base,
				status: 'failed',
				error: { code: '014002095', error_message: task.task_status_msg },
			};
		}
		if (task.task_status !== 'succeed')
			return { ...base, status: task.task_status === 'submitted' ? 'pending' : 'processing' };
		return {
			...base,
			status: 'completed',
			output: [
				{
					content: (task.task_result.videos ?? []).map((video) => ({
						type: 'video',
						url: video.url,
						duration: Number(video.duration),
						jobId: task.task_id,
					})),
				},
			],
			usage: { cost: '0.05', discount: 0 },
		};
	};

	/** What differs between resellers that wrap the same two steps in jobs of their own. */
	interface ResellerSpec {
		identifyModel: string;
		lipSyncModel: string;
		idPrefix: string;
		/** Replies in the reseller's own shapes. */
		ok(res: http.ServerResponse, data: unknown): void;
		fail(res: http.ServerResponse, status: number, message: string): void;
		/** The job as the reseller's status query answers it. */
		view(id: string): unknown;
		created(id: string, model: string): unknown;
	}

	/** One request to a reseller's endpoint: auth, accounting and faults as on the official routes. */
	const handleReseller = async (
		req: http.IncomingMessage,
		res: http.ServerResponse,
		spec: ResellerSpec,
		jobId: string | undefined,
	): Promise<void> => {
		const token = /^Bearer\s+(\S+)$/.exec((req.headers.authorization ?? '').trim())?.[1];
		if (token) seenTokens.add(token);
		let body: Record<string, unknown> = {};
		if (req.method === 'POST') {
			try {
				body = JSON.parse((await readBody(req, 12 * 1024 * 1024)).toString('utf8')) as Record<
					string,
					unknown
				>;
			} catch {
				spec.fail(res, 400, 'Request body must be JSON');
				return;
			}
		}
		const name: RouteName =
			req.method === 'GET' ? 'get' : body.model === spec.identifyModel ? 'identify' : 'create';
		stats.requests[name] = (stats.requests[name] ?? 0) + 1;
		if (!token || !config.apiKeys.includes(token)) {
			spec.fail(res, 401, 'Invalid API key');
			return;
		}
		const fault = takeFault(name);
		if (fault?.kind === 'reset') {
			req.socket.destroy();
			return;
		}
		if (fault?.kind === 'http') {
			sendHttpFault(res, fault);
			return;
		}
		try {
			tick();
			if (req.method === 'GET') {
				spec.ok(res, spec.view(jobId ?? ''));
				return;
			}
			const { model, ...kling } = body;
			const id = `${spec.idPrefix}${randomBytes(10).toString('hex')}`;
			if (model === spec.identifyModel) {
				resellerJobs.set(id, {
					model,
					createdAt: clock.now(),
					identify: await identifyFace(kling),
				});
			} else if (model === spec.lipSyncModel) {
				const created = (await createTask(kling)) as { task_id: string };
				resellerJobs.set(id, { model, createdAt: clock.now(), taskId: created.task_id });
			} else {
				spec.fail(res, 400, `model must be ${spec.identifyModel} or ${spec.lipSyncModel}`);
				return;
			}
			if (fault?.kind === 'lostReply') {
				req.socket.destroy();
				return;
			}
			spec.ok(res, spec.created(id, model));
		} catch (error) {
			const klingError =
				error instanceof KlingError ? error : new KlingError(5000, (error as Error).message);
			spec.fail(
				res,
				klingError.code === 1203 ? 404 : klingError.httpStatus >= 500 ? 500 : 400,
				klingError.message,
			);
		}
	};

	const APIMODELS: ResellerSpec = {
		identifyModel: 'kling-identify-face',
		lipSyncModel: 'kling-advanced-lip-sync',
		idPrefix: 'cl',
		ok: (res, data) => send(res, 200, { code: 200, msg: 'success', data }),
		fail: (res, status, message) => send(res, status, { code: status, msg: message }),
		view: (id) => apimodelsJob(id),
		created: (taskId, model) => ({ taskId, state: 'pending', model }),
	};

	const VTRIX: ResellerSpec = {
		identifyModel: 'kirin_identify_face',
		lipSyncModel: 'kirin_lipsync',
		idPrefix: 'vtx_',
		ok: (res, data) => send(res, 200, data),
		fail: (res, status, message) =>
			send(res, status, { error: { code: String(status), error_message: message } }),
		view: (id) => vtrixJob(id),
		created: (id, model) => ({ id, status: 'pending', model }),
	};

	const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
		const url = new URL(req.url ?? '/', baseUrl);
		const method = req.method ?? 'GET';
		const requestId = randomUUID();
		if (url.pathname.startsWith('/media/')) {
			stats.requests.media = (stats.requests.media ?? 0) + 1;
			if (config.mediaDelayMs > 0)
				await new Promise((resolve) => setTimeout(resolve, config.mediaDelayMs));
			if (!serveMedia(url, res))
				send(res, 404, { code: 1203, message: 'Not found', request_id: requestId, data: null });
			return;
		}
		if (url.pathname === VTRIX_PATH || url.pathname.startsWith(`${VTRIX_PATH}/`)) {
			await handleReseller(req, res, VTRIX, url.pathname.slice(VTRIX_PATH.length + 1) || undefined);
			return;
		}
		if (url.pathname === APIMODELS_PATH) {
			await handleReseller(req, res, APIMODELS, url.searchParams.get('task_id') ?? undefined);
			return;
		}
		const matched = route(method, url.pathname);
		if (!matched) {
			sendError(
				res,
				new KlingError(1202, `${method} ${url.pathname} is not a valid method`),
				requestId,
			);
			return;
		}
		stats.requests[matched.name] = (stats.requests[matched.name] ?? 0) + 1;
		if (matched.name === 'get') {
			const id = decodeURIComponent(url.pathname.slice(url.pathname.lastIndexOf('/') + 1));
			stats.taskReads[id] = (stats.taskReads[id] ?? 0) + 1;
		}
		const bearer = /^Bearer\s+(\S+)$/.exec((req.headers.authorization ?? '').trim())?.[1];
		if (bearer) seenTokens.add(bearer);
		try {
			authenticate(req.headers.authorization, config, clock.now());
		} catch (error) {
			sendError(res, error as KlingError, requestId);
			return;
		}
		if (overRateLimit()) {
			sendError(res, new KlingError(1302), requestId);
			return;
		}
		let fault = takeFault(matched.name);
		if (fault?.kind === 'delay') {
			await new Promise((resolve) =>
				setTimeout(resolve, fault && fault.kind === 'delay' ? fault.ms : 0),
			);
			fault = takeFault(matched.name);
		}
		if (fault?.kind === 'reset') {
			req.socket.destroy();
			return;
		}
		if (fault?.kind === 'error') {
			sendError(res, new KlingError(fault.code, fault.message), requestId);
			return;
		}
		if (fault?.kind === 'echoAuthorization') {
			sendError(
				res,
				new KlingError(
					fault.code,
					`rejected request with Authorization: ${req.headers.authorization ?? ''}`,
				),
				requestId,
			);
			return;
		}
		if (fault?.kind === 'http') {
			sendHttpFault(res, fault);
			return;
		}
		try {
			let body: Record<string, unknown> = {};
			if (method === 'POST') {
				const raw = await readBody(req, 12 * 1024 * 1024);
				try {
					const parsed: unknown = JSON.parse(raw.toString('utf8'));
					if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
						throw new Error('not an object');
					body = parsed as Record<string, unknown>;
				} catch {
					throw new KlingError(1200, 'Request body must be a JSON object');
				}
			}
			tick();
			const handlers: Record<RouteName, () => unknown> = {
				identify: () => identifyFace(body),
				create: () => createTask(body),
				get: () => getTask(matched.id ?? ''),
				list: () => listTasks(url.searchParams),
				tts: () => textToSpeech(body),
				media: () => undefined,
			};
			const data = await handlers[matched.name]();
			if (fault?.kind === 'lostReply') {
				req.socket.destroy();
				return;
			}
			if (fault?.kind === 'junkReply') {
				res.writeHead(fault.status, { 'content-type': fault.contentType });
				res.end(fault.text);
				return;
			}
			send(res, 200, { code: 0, message: 'SUCCEED', request_id: requestId, data });
		} catch (error) {
			if (error instanceof KlingError) sendError(res, error, requestId);
			else sendError(res, new KlingError(5000, (error as Error).message), requestId);
		}
	};

	const server = http.createServer((req, res) => {
		handle(req, res).catch(() => res.destroy());
	});
	await new Promise<void>((resolve) => server.listen(config.port, '127.0.0.1', resolve));
	baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

	return {
		baseUrl,
		get stats() {
			return stats;
		},
		callbacks,
		seenTokens: () => [...seenTokens],
		configure(next) {
			config = { ...config, ...next, videos: { ...config.videos, ...next.videos } };
		},
		injectFault(fault) {
			faults.push({ ...fault });
		},
		clearFaults() {
			faults = [];
		},
		registerVideo(id, scene) {
			config.videos[id] = scene;
		},
		task(id) {
			const task = tasks.get(id) ?? tasksByExternalId.get(id);
			return task && taskObject(task);
		},
		tick,
		runningTasks: running,
		resetStats() {
			stats = emptyStats();
		},
		async stop() {
			clearInterval(ticker);
			for (const timer of pendingTimers) clearTimeout(timer);
			server.closeAllConnections();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}

export { HTTP_STATUS_BY_CODE };
