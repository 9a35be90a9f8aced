/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
/**
 * The walk of one Lip Sync item in Poll mode (Identify Face's output in, the video downloaded out),
 * run in n8n's engine against the emulator: which of the package's files it enters, in order, and
 * how often each. Every function of nodes/ and credentials/ reports its file (test/walk/enterHook.js);
 * a call from one file into another is an entry. Goal: at most 12 files of nodes/, none entered more
 * than 3 times (re-entered more than twice).
 */
import path from 'node:path';

import { startEmulator, type Emulator } from '../emulator/server';
import { emulatorCredentials, runKlingNode } from '../engine/harness';
import { identify, lipSyncParameters } from '../engine/helpers';

const ROOT = path.resolve(__dirname, '../..');
const MAX_FILES = 12;
const MAX_ENTRIES = 3;

/** The file of the first frame below the reporting function that is code on disk. */
function callerFile(stack: string | undefined): string | undefined {
	const frames = (stack ?? '').split('\n').slice(3);
	for (const frame of frames) {
		const match = /\(?(\/[^():]+):\d+:\d+\)?$/.exec(frame.trim());
		if (match) return match[1];
	}
	return undefined;
}

describe('walk', () => {
	let emu: Emulator;
	beforeAll(async () => {
		emu = await startEmulator({ taskTimeMs: 300, submittedMs: 50 });
	});
	afterAll(async () => emu.stop());

	it('one Lip Sync item in Poll mode', async () => {
		const session = await identify(emu);
		const entries: string[] = [];
		let recording = false;
		/** Distinct calls from one file into another: a loop's repeats are one. */
		const edges = new Set<string>();
		const walk = (file: string): void => {
			if (!recording) return;
			const caller = callerFile(new Error().stack);
			if (caller === file) return;
			entries.push(path.relative(ROOT, file));
			edges.add(`${caller ? path.relative(ROOT, caller) : 'n8n'} -> ${path.relative(ROOT, file)}`);
		};
		Object.assign(globalThis, { __klingWalk: walk });
		recording = true;
		const { output, error } = await runKlingNode({
			credentials: emulatorCredentials(emu.baseUrl),
			items: [{ ...session, face_id: '0' }],
			parameters: lipSyncParameters(emu, {
				waitForCompletion: true,
				downloadVideo: true,
				waitOptions: { pollIntervalSeconds: 0.2, maxWaitMinutes: 1 },
			}),
		});
		recording = false;
		expect(error).toBeUndefined();
		expect(output[0].binary?.data).toBeDefined();

		const inNodes = entries.filter((file) => file.startsWith('nodes/'));
		const counts = new Map<string, number>();
		for (const file of inNodes) counts.set(file, (counts.get(file) ?? 0) + 1);
		const walked = inNodes.filter((file, index) => file !== inNodes[index - 1]);
		const most = Math.max(...counts.values());
		console.log(
			[
				`walk: one Lip Sync item (Poll mode, video downloaded) enters ${counts.size} files of nodes/ (goal ${MAX_FILES}), ${inNodes.length} entries, at most ${most} into one file (goal ${MAX_ENTRIES})`,
				...[...counts.entries()]
					.sort((a, b) => b[1] - a[1])
					.map(([file, count]) => `  ${String(count).padStart(3)}  ${file}`),
				`path: ${walked.map((file) => path.basename(file, '.ts')).join(' -> ')}`,
				`credentials entered: ${entries.filter((file) => file.startsWith('credentials/')).length} time(s)`,
				`distinct calls between files: ${edges.size}; files of nodes/ entered from more than 3 other files: ${
					[...counts.keys()]
						.map(
							(file) =>
								[file, [...edges].filter((edge) => edge.endsWith(` -> ${file}`)).length] as const,
						)
						.filter(([, callers]) => callers > 3)
						.map(([file, callers]) => `${path.basename(file)} (${callers})`)
						.join(', ') || 'none'
				}`,
			].join('\n'),
		);
		expect(counts.has('nodes/KlingLipSync/KlingLipSync.node.ts')).toBe(true);
	});
});
