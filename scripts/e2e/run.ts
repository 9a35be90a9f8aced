/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
/**
 * End-to-end: the packed package inside real n8n (2.41.1 on Node 24, 2.8.4 on Node 20), against
 * the Kling emulator; every example workflow is imported and executed with `n8n execute`, and the
 * editor is checked in headless Chromium. Prints "e2e: N passed, N failed" last.
 *   E2E_N8N_VERSIONS=2.8.4 npm run test:e2e     (one version)
 *   E2E_SKIP_UI=1 npm run test:e2e              (no browser)
 */
import assert from 'node:assert/strict';

import { findSecrets } from '../../test/engine/secrets';
import { startEmulator } from '../../test/emulator/server';
import { checkAgentTool } from './agent';
import { checkQueueMode } from './queue';
import { checkEditor } from './ui';
import { EXAMPLES, PROVIDERS, RESULT_BYTES, credential, exampleFor } from './examples';
import {
	TARGETS,
	N8nUser,
	installN8n,
	packPackage,
	type ExecutionItem,
	type ExecutionResult,
} from './n8n';

const outputOf = (result: ExecutionResult, node: string): ExecutionItem[] => {
	assert.equal(
		result.data.resultData.error,
		undefined,
		`workflow error: ${result.data.resultData.error?.message}`,
	);
	const runs = result.data.resultData.runData[node];
	assert.ok(runs?.[0], `node "${node}" did not run`);
	assert.equal(runs[0].error, undefined, `node "${node}" failed: ${runs[0].error?.message}`);
	return runs[0].data?.main[0] ?? [];
};

const pairedIndex = (item: ExecutionItem): number => {
	const paired = Array.isArray(item.pairedItem) ? item.pairedItem[0] : item.pairedItem;
	return paired?.item ?? -1;
};

function assertVideo(item: ExecutionItem): void {
	assert.equal(
		item.json.task_status,
		'succeed',
		`not a succeeded task: ${JSON.stringify(item.json)}`,
	);
	assert.match(String(item.json.task_id), /^(\d{18}|cl[0-9a-f]+|vtx_[0-9a-f]+)$/);
	const video = item.binary?.data;
	assert.ok(video, 'the video binary is missing');
	assert.equal(video.mimeType, 'video/mp4');
	assert.equal(video.fileName, `kling-lipsync-${String(item.json.task_id)}.mp4`);
	// n8n 2.x states the size as `bytes`; older ones only as a pretty `fileSize`.
	if (video.bytes !== undefined) assert.equal(video.bytes, RESULT_BYTES);
	else assert.equal(video.fileSize, '307 kB');
}

interface Outcome {
	name: string;
	error?: string;
}

async function main(): Promise<void> {
	const versions = process.env.E2E_N8N_VERSIONS?.split(',').map((v) => v.trim());
	const targets = TARGETS.filter((t) => !versions || versions.includes(t.version));
	const outcomes: Outcome[] = [];
	const check = async (name: string, fn: () => Promise<void>): Promise<void> => {
		const started = Date.now();
		try {
			await fn();
			outcomes.push({ name });
			console.log(`  ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
		} catch (error) {
			outcomes.push({ name, error: (error as Error).stack ?? String(error) });
			console.log(`  FAIL ${name}\n${(error as Error).stack ?? String(error)}`);
		}
	};

	const tarball = await packPackage();
	// First run on a machine: both n8n installs at once (about 10.5 min here, 12.3 one after another).
	await Promise.all(targets.map(async (target) => await installN8n(target)));
	for (const target of targets) {
		// A fresh emulator per n8n: the batch example's external_task_ids are per night and item,
		// and Kling (like the emulator) refuses an id it has seen.
		const emu = await startEmulator({
			taskTimeMs: 3000,
			submittedMs: 500,
			resultBytes: RESULT_BYTES,
		});
		try {
			console.log(`n8n ${target.version} on Node ${target.nodeMajor}`);
			let n8n: N8nUser | undefined;
			await check(`n8n ${target.version}: installs and loads the packed package`, async () => {
				n8n = await N8nUser.create(target);
				await n8n.installPackage(tarball);
				await n8n.importJson('credentials', [credential(emu)]);
				await n8n.registerPackage();
				await n8n.importJson('workflow', [
					exampleFor(emu, 'single'),
					exampleFor(emu, 'batch'),
					exampleFor(emu, 'textToVideo'),
					exampleFor(emu, 'dialogue'),
				]);
			});
			if (!n8n) continue;
			const instance = n8n;

			for (const provider of PROVIDERS) {
				await check(
					`n8n ${target.version}: single video example through ${provider} -> lip-synced video binary`,
					async () => {
						// Switching provider is switching the credential alone: the workflow is the same.
						await instance.importJson('credentials', [credential(emu, provider)]);
						emu.resetStats();
						const { result } = await instance.execute(EXAMPLES.single.id);
						const faces = outputOf(result, 'Identify Face');
						assert.equal(faces.length, 1);
						assert.equal(faces[0].json.face_id, '0');
						const [item, ...rest] = outputOf(result, 'Lip Sync');
						assert.equal(rest.length, 0);
						assertVideo(item);
						assert.equal(pairedIndex(item), 0);
						assert.equal(emu.stats.billed.create, 1);
					},
				);
			}
			await instance.importJson('credentials', [credential(emu)]);

			await check(
				`n8n ${target.version}: scheduled batch example -> 3 videos at once, paired`,
				async () => {
					emu.resetStats();
					const { result } = await instance.execute(EXAMPLES.batch.id);
					const items = outputOf(result, 'Lip Sync All');
					assert.equal(items.length, 3);
					items.forEach((item, index) => {
						assertVideo(item);
						assert.equal(pairedIndex(item), index);
						assert.match(
							String(item.json.external_task_id),
							new RegExp(`^nightly-\\d{8}-${index}$`),
						);
					});
					assert.equal(emu.stats.highestConcurrency, 3, 'the three tasks ran together');
				},
			);

			await check(
				`n8n ${target.version}: text -> talking video example (Text to Speech -> Lip Sync Video)`,
				async () => {
					emu.resetStats();
					const { result } = await instance.execute(EXAMPLES.textToVideo.id);
					const [speech] = outputOf(result, 'Text to Speech');
					assert.match(String(speech.json.audio_id), /^\d{18}$/);
					const [item, ...rest] = outputOf(result, 'Lip Sync Video');
					assert.equal(rest.length, 0);
					assertVideo(item);
					assert.equal(item.json.audio_id, speech.json.audio_id);
					assert.equal(item.json.crop_end_time, speech.json.audio_duration_ms);
					assert.equal(emu.stats.billed.tts, 1);
					assert.equal(emu.stats.billed.create, 1);
				},
			);

			await check(
				`n8n ${target.version}: dub dialogue example -> both speakers lip-synced, one task each, chained`,
				async () => {
					emu.resetStats();
					const { result } = await instance.execute(EXAMPLES.dialogue.id);
					const [item, ...rest] = outputOf(result, 'Dub Dialogue');
					assert.equal(rest.length, 0);
					assertVideo(item);
					const steps = item.json.speakers as Array<Record<string, unknown>>;
					assert.deepEqual(
						steps.map((step) => [step.speaker, step.face_id, step.insert_time]),
						[
							[1, '0', 0],
							[2, '1', 4500],
						],
					);
					// The guest's step lip-synced the video the host's step made.
					const second = emu.task(String(steps[1].task_id))?.task_info as {
						parent_video?: { id?: string };
					};
					assert.equal(second.parent_video?.id, steps[0].video_id);
					assert.equal(item.json.task_id, steps[1].task_id);
					assert.equal(emu.stats.billed.create, 2);
					assert.equal(emu.stats.billed.identify, 2);
				},
			);

			if (target.version === '2.41.1') {
				await check(
					`n8n ${target.version}: an AI Agent calls the node as its tool: a task made and waited for, its video URL and task_id in the answer; bad arguments explained, nothing billed`,
					async () => await checkAgentTool(instance, emu),
				);
			}

			if (!process.env.E2E_SKIP_UI && target === targets[0]) {
				await check(
					`n8n ${target.version}: editor shows the node, tests the credential, runs the workflow`,
					async () => {
						await instance.start();
						try {
							await checkEditor(instance, emu);
						} finally {
							await instance.stop();
						}
					},
				);
			}
			if (!process.env.E2E_SKIP_QUEUE && target === targets[0]) {
				await checkQueueMode(instance, emu, check).catch(async (error: unknown) => {
					await check(`n8n ${target.version} queue mode: set up`, async () => {
						throw error;
					});
				});
			}

			await check(
				`n8n ${target.version}: a wrong secret key fails clearly; no secret in any output or log`,
				async () => {
					const right = credential(emu);
					const wrongSecret = 'wrong-secret-key-e2e';
					await instance.importJson('credentials', [
						{ ...right, data: { ...(right.data as object), secretKey: wrongSecret } },
					]);
					try {
						const { result } = await instance.execute(EXAMPLES.single.id);
						assert.match(
							JSON.stringify(result.data.resultData),
							/Kling error 1000: Authentication failed/,
						);
					} finally {
						await instance.importJson('credentials', [right]);
					}
					const secrets = ['test-secret-key', 'test-api-key', wrongSecret, ...emu.seenTokens()];
					assert.deepEqual(
						findSecrets(instance.transcript(), secrets),
						[],
						'secrets found in what n8n printed',
					);
				},
			);
			instance.cleanup();
		} finally {
			await emu.stop();
		}
	}
	const failed = outcomes.filter((o) => o.error).length;
	console.log(`\ne2e: ${outcomes.length - failed} passed, ${failed} failed`);
	process.exit(failed ? 1 : 0);
}

if (require.main === module) void main();
