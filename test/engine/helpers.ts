/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
import { readFileSync } from 'node:fs';
import type { IDataObject } from 'n8n-workflow';
import path from 'node:path';

import { audioFingerprint, workTaskId } from '../../nodes/KlingLipSync/helpers/externalId';
import { callApi } from '../emulator/client';
import {
	FIXTURES_DIR,
	startEmulator,
	type Emulator,
	type EmulatorOptions,
} from '../emulator/server';
import { emulatorCredentials, runKlingNode, type RunOptions, type RunResult } from './harness';

export const VIDEO = 'https://cdn.example.com/talk.mp4?durationMs=8000&faces=0-5200,3000-8000';
export const fixture = (name: string): Buffer => readFileSync(path.join(FIXTURES_DIR, name));

/** A fresh session, made through the emulator's API (billing is reset by the caller if needed). */
export async function identify(emu: Emulator, videoUrl = VIDEO): Promise<{ session_id: string }> {
	const reply = await callApi(emu.baseUrl, 'POST', '/v1/videos/identify-face', {
		body: { video_url: videoUrl },
	});
	if (reply.body.code !== 0) throw new Error(reply.body.message);
	return reply.body.data as { session_id: string };
}

export const FAST_WAIT = { pollIntervalSeconds: 0.2, maxWaitMinutes: 1 };

/** Lip Sync parameters for an item that carries session_id and face_id (as Identify Face outputs). */
export function lipSyncParameters(emu: Emulator, over: IDataObject = {}): IDataObject {
	return {
		operation: 'lipSync',
		audioSource: 'url',
		audioUrl: `${emu.baseUrl}/media/fixtures/tone-3s.wav`,
		waitOptions: FAST_WAIT,
		...over,
	};
}

/** Waits (up to 5 s) until no task runs at the emulator: tasks left by an earlier test would count against concurrency figures. */
export async function waitUntilIdle(emu: Emulator): Promise<void> {
	for (const deadline = Date.now() + 5000; emu.runningTasks() > 0 && Date.now() < deadline; ) {
		await new Promise((resolve) => setTimeout(resolve, 50));
	}
}

/**
 * The external_task_id Lip Sync derives for face 0 of a session with tone-3s.wav, cropped 0-3000 ms,
 * inserted at 0, default volumes, no watermark: to plant a task under it.
 */
export function derivedTaskId(sessionId: string): string {
	return workTaskId({
		subject: `session:${sessionId}`,
		faceId: '0',
		audio: audioFingerprint({ bytes: fixture('tone-3s.wav') }),
		cropStartMs: 0,
		cropEndMs: 3000,
		insertMs: 0,
		soundVolume: 1,
		originalAudioVolume: 1,
		watermark: false,
	});
}

/** A task made at the emulator directly (as another n8n or a stranger would), for face 0 with tone-3s.wav. */
export async function plantTask(
	emu: Emulator,
	sessionId: string,
	externalTaskId: string,
	watermark = false,
): Promise<string> {
	const reply = await callApi(emu.baseUrl, 'POST', '/v1/videos/advanced-lip-sync', {
		body: {
			session_id: sessionId,
			face_choose: [
				{
					face_id: '0',
					sound_file: `${emu.baseUrl}/media/fixtures/tone-3s.wav`,
					sound_start_time: 0,
					sound_end_time: 3000,
					sound_insert_time: 0,
				},
			],
			external_task_id: externalTaskId,
			watermark_info: { enabled: watermark },
		},
	});
	if (reply.body.code !== 0) throw new Error(reply.body.message);
	return String(reply.body.data.task_id);
}

/** A suite's emulator and a way to run the node against it. */
export interface EmulatorSuite {
	readonly emu: Emulator;
	run(
		options: Omit<RunOptions, 'credentials'> & { credentials?: RunOptions['credentials'] },
	): Promise<RunResult>;
}

/**
 * An emulator for a suite: started before its tests, and before each test set back to `options`'
 * task time with no account limit, no faults, no task running and fresh figures.
 */
export function emulatorSuite(options: EmulatorOptions): EmulatorSuite {
	let started: Emulator | undefined;
	const suite: EmulatorSuite = {
		get emu(): Emulator {
			if (!started) throw new Error('the emulator starts in beforeAll');
			return started;
		},
		run: async (runOptions) =>
			await runKlingNode({ credentials: emulatorCredentials(suite.emu.baseUrl), ...runOptions }),
	};
	beforeAll(async () => {
		started = await startEmulator(options);
	});
	afterAll(async () => started?.stop());
	beforeEach(async () => {
		suite.emu.configure({
			taskTimeMs: options.taskTimeMs,
			concurrencyLimit: Number.POSITIVE_INFINITY,
			resultBytes: undefined,
		});
		suite.emu.clearFaults();
		await waitUntilIdle(suite.emu);
		suite.emu.resetStats();
	});
	return suite;
}
