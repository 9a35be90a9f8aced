import { randomBytes } from 'node:crypto';

import type { Clock } from './clock';
import type { Scene } from './scene';

/** The emulator's types, options and defaults. */

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

export interface Session {
	id: string;
	createdAt: number;
	scene: Scene;
	video: { id: string; url: string };
}

export interface Task {
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

export const DEFAULTS: Required<
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

export const AUDIO_MAX_DAYS_MS = 30 * 24 * 3600 * 1000;

/** 18-digit numeric string ids, like Kling's: they must never pass through a JS number. */
export const klingId = (): string => {
	const digits = randomBytes(9).readBigUInt64BE(0).toString().padStart(17, '0').slice(-17);
	return `8${digits}`;
};

export const emptyStats = (): EmulatorStats => ({
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

/** The options in force: the defaults, with what was given (an option left undefined keeps its default). */
export function configFrom(options: EmulatorOptions) {
	const given: Partial<EmulatorOptions> = Object.fromEntries(
		Object.entries(options).filter(([, value]) => value !== undefined),
	);
	return { ...DEFAULTS, ...given, videos: { ...DEFAULTS.videos, ...options.videos } };
}

export type EmulatorConfig = ReturnType<typeof configFrom>;
