import type { IDataObject } from 'n8n-workflow';

/** The provider-neutral task model every action works with; dialects map their responses to it. */
export type TaskStatus = 'submitted' | 'processing' | 'succeed' | 'failed';

export const FINAL_STATUSES: readonly TaskStatus[] = ['succeed', 'failed'];

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
	units?: string;
	createdAt?: number;
	updatedAt?: number;
	parentVideo?: IDataObject;
	/** The provider's own task object, for users who need a field we do not map. */
	raw: IDataObject;
}

export interface DetectedFace {
	faceId: string;
	imageUrl?: string;
	startMs: number;
	endMs: number;
}

export interface IdentifyFaceResult {
	sessionId: string;
	faces: DetectedFace[];
	units?: string;
}

export interface IdentifyFaceInput {
	videoUrl?: string;
	videoId?: string;
}

export interface CreateLipSyncInput {
	sessionId: string;
	faceId: string;
	/** Exactly one of these two. */
	audioId?: string;
	soundFile?: string;
	cropStartMs: number;
	cropEndMs: number;
	insertMs: number;
	soundVolume: number;
	originalAudioVolume: number;
	watermark: boolean;
	externalTaskId?: string;
	callbackUrl?: string;
}

/** One provider's way of doing the node's jobs (issue: provider dialects). */
export interface LipSyncApi {
	identifyFace(input: IdentifyFaceInput): Promise<IdentifyFaceResult>;
	createLipSync(input: CreateLipSyncInput): Promise<LipSyncTask>;
	getTask(id: string): Promise<LipSyncTask>;
	listTasks(pageNum: number, pageSize: number): Promise<LipSyncTask[]>;
}
