import { readFileSync } from 'node:fs';
import type { IDataObject } from 'n8n-workflow';
import path from 'node:path';

import { callApi } from '../emulator/client';
import { FIXTURES_DIR, type Emulator } from '../emulator/server';

export const VIDEO = 'https://cdn.example.com/talk.mp4?durationMs=8000&faces=0-5200,3000-8000';
export const fixture = (name: string): Buffer => readFileSync(path.join(FIXTURES_DIR, name));

/** A fresh session, made through the emulator's API (billing is reset by the caller if needed). */
export async function identify(emu: Emulator, videoUrl = VIDEO): Promise<{ session_id: string }> {
	const reply = await callApi(emu.baseUrl, 'POST', '/v1/videos/identify-face', { body: { video_url: videoUrl } });
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
