import type { IDataObject } from 'n8n-workflow';

/** The provider-neutral task model every action works with; dialects map their responses to it. */
export type TaskStatus = 'submitted' | 'processing' | 'succeed' | 'failed';

const FINAL_STATUSES: readonly TaskStatus[] = ['succeed', 'failed'];

/** Whether a task has ended (succeeded or failed): its status changes no more. */
export const isFinal = (task: { status: TaskStatus }): boolean =>
	FINAL_STATUSES.includes(task.status);

export interface ResultVideo {
	id: string;
	url: string;
	watermarkUrl?: string;
	durationSeconds?: number;
}

export interface LipSyncTask {
	taskId: string;
	externalTaskId?: string;
	status: TaskStatus;
	statusMessage?: string;
	videos: ResultVideo[];
	units?: number;
	createdAt?: number;
	updatedAt?: number;
	/** The video the task lip-syncs, as the task object shows it. */
	parentVideo?: { id?: string; url?: string; durationSeconds?: number };
	/** The provider's own task object, for users who need a field we do not map. */
	raw: IDataObject;
	/** Created by an earlier run of the same work and adopted by this one (nothing paid now). */
	reused?: boolean;
}

export interface DetectedFace {
	faceId: string;
	imageUrl?: string;
	/** The window in which the face can be lip-synced (ms); unknown where a provider omits it. */
	startMs?: number;
	endMs?: number;
}

export interface IdentifyFaceResult {
	sessionId: string;
	faces: DetectedFace[];
	units?: number;
	/** Times the call was sent again after a failure that may have been carried out (each may bill one more identify). */
	uncertainResends?: number;
}

export interface IdentifyFaceInput {
	videoUrl?: string;
	videoId?: string;
}

/**
 * Bytes a request body carries as a base64 string (an audio file sent inline): the transport
 * encodes them straight into the request's bytes, so no multi-megabyte string is ever made.
 */
export class InlineBytes {
	constructor(readonly bytes: Buffer) {}
}

/** What this item asked for, as far as a task object can show it. */
export interface AdoptionCheck {
	externalTaskId: string;
	watermark: boolean;
	/** The session's video, when the item knows it (Identify Face's output, Lip Sync Video). */
	video?: { url?: string; id?: string };
}

export interface CreateLipSyncInput {
	sessionId: string;
	faceId: string;
	/** Exactly one of these two. `soundFile`: a URL, base64 text, or bytes sent as base64. */
	audioId?: string;
	soundFile?: string | InlineBytes;
	cropStartMs: number;
	cropEndMs: number;
	insertMs: number;
	soundVolume: number;
	originalAudioVolume: number;
	watermark: boolean;
	externalTaskId?: string;
	callbackUrl?: string;
	/**
	 * Set when the external_task_id is derived from the work: a task that has it already was paid
	 * for by an earlier run of the same work and is adopted, once what it shows agrees with this.
	 */
	reuse?: AdoptionCheck;
}

/** What a provider can do beyond the common core (identify by URL, create, get by task_id). */
export interface ProviderSupport {
	videoId: boolean;
	audioId: boolean;
	externalTaskId: boolean;
	listTasks: boolean;
	textToSpeech: boolean;
}

export interface TextToSpeechInput {
	text: string;
	voiceId: string;
	language: 'zh' | 'en';
	speed: number;
}

export interface SpeechAudio {
	/** An audio_id Lip Sync takes (30 days). */
	id: string;
	url: string;
	durationMs?: number;
}

export interface SpeechResult {
	taskId: string;
	status: TaskStatus;
	statusMessage?: string;
	audios: SpeechAudio[];
	raw: IDataObject;
}

/** One provider's way of doing the node's jobs: the actions never ask which provider it is. */
export interface LipSyncApi {
	/** The provider's name, as messages show it. */
	provider: string;
	supports: ProviderSupport;
	identifyFace(input: IdentifyFaceInput): Promise<IdentifyFaceResult>;
	/** Creates the task; `whenBusy` queues the call while the account is at its concurrency limit. */
	createLipSync(input: CreateLipSyncInput, whenBusy?: WhenBusy): Promise<LipSyncTask>;
	getTask(id: string): Promise<LipSyncTask>;
	/** The task with this id, or undefined when the provider says it has none (no error). */
	findTask(id: string): Promise<LipSyncTask | undefined>;
	/** The account's tasks, newest first; absent where the provider has no task list. */
	listTasks?(pageNum: number, pageSize: number): Promise<LipSyncTask[]>;
	/** Absent where the provider has no text to speech. */
	textToSpeech?(input: TextToSpeechInput): Promise<SpeechResult>;
}

/**
 * Resolves when it is worth resubmitting a create the provider refused as over the account's
 * concurrency limit (Kling 1303); throws when the item's wait budget is spent or it was cancelled.
 */
export type WhenBusy = () => Promise<void>;

/** Sends one API call; resolves with the provider's `data`, or throws its error. */
export type SendRequest = (request: {
	method: 'GET' | 'POST';
	path: string;
	body?: IDataObject;
	qs?: IDataObject;
	/**
	 * For a create that carries an external_task_id: finds the task with that id, so the work is
	 * never paid twice. `thisCall`: an attempt of this call may have created it (reply lost,
	 * gateway error); `earlierRun`: the provider says the id exists and no attempt of this call
	 * made it. Undefined: there is none. Throws when the task found is not this work's.
	 */
	recover?: (origin: 'thisCall' | 'earlierRun') => Promise<unknown>;
	/** A refusal "external_task_id exists" is answered by `recover('earlierRun')` (a work-derived id). */
	adoptDuplicate?: boolean;
	/**
	 * The request may be sent again after a failure that may have been carried out: it creates no
	 * task, so that costs at most one more unit. Called before each such resend.
	 */
	onUncertainResend?: () => void;
	whenBusy?: WhenBusy;
	/** A refusal that means "there is none": the call resolves undefined instead of throwing. */
	absentWhen?: (failure: ProviderFailure) => boolean;
}) => Promise<unknown>;

/** A provider's refusal, as far as the transport needs it to explain and retry. */
export interface ProviderFailure {
	httpStatus: number;
	/** Kling's business code (Kling and pass-through proxies only): it decides retries. */
	klingCode?: number;
	/** The provider's own words. */
	message?: string;
	requestId?: string;
	/** The answer was not the provider's JSON: what came back (status, content type, first bytes, masked). */
	unreadable?: string;
}

export interface FailureExplanation {
	/** e.g. "Kling error 1102: Resource pack exhausted or expired". */
	title: string;
	remedy: string;
}

/** Everything provider-specific about talking to one provider. */
export interface ProviderDialect {
	name: string;
	/** The reply's payload, or why the provider refused. */
	unwrap(httpStatus: number, body: unknown): { data: unknown } | { failure: ProviderFailure };
	explain(failure: ProviderFailure): FailureExplanation;
	/** Builds the actions' API on the transport's `send` and its cancellable `wait`. */
	api(send: SendRequest, wait: (ms: number) => Promise<void>): LipSyncApi;
}

/**
 * Limits for a caller that must answer fast and spend little (the trigger verifying a callback):
 * `singleAttempt` sends each request once (no retry, no waiting out a rate limit; only a token
 * refused for this host's clock is signed again on the API's time),
 * `timeoutMs` bounds how long it waits for a reply.
 */
export interface ApiLimits {
	singleAttempt?: boolean;
	timeoutMs?: number;
}
