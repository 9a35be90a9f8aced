/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
/**
 * Soak: 100 Lip Sync tasks through the node in n8n's engine against the emulator with a
 * concurrency limit of 5 and faults of every kind on 30% of API requests. Prints the figures;
 * exits 1 unless every task completed and billed creates == tasks (no double billing).
 *
 *   npm run soak                      (defaults)
 *   SOAK_TASKS=200 SOAK_FAULT_RATE=0.4 npm run soak
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

process.env.N8N_USER_FOLDER ??= mkdtempSync(path.join(tmpdir(), 'kling-soak-'));

import { callApi } from '../test/emulator/client';
import { startEmulator, type Fault } from '../test/emulator/server';
import { emulatorCredentials, runKlingNode } from '../test/engine/harness';
import { recordN8nLog, scanStats } from '../test/engine/secrets';

const TASKS = Number(process.env.SOAK_TASKS ?? 100);
const FAULT_RATE = Number(process.env.SOAK_FAULT_RATE ?? 0.3);
const CONCURRENCY_LIMIT = 5;
const MAX_IN_FLIGHT = 10;
const TASK_TIME_MS = Number(process.env.SOAK_TASK_MS ?? 1500);

/** Every fault the emulator can serve: business codes, bare HTTP, resets, delays, lost replies. */
const FAULT_KINDS: Fault[] = [
	...[1302, 1303, 5000, 5001, 5002].map((code): Fault => ({ route: '*', kind: 'error', code })),
	...[429, 502, 503, 504].map((status): Fault => ({ route: '*', kind: 'http', status })),
	{ route: '*', kind: 'reset' },
	{ route: '*', kind: 'delay', ms: 300 },
	{ route: '*', kind: 'lostReply' },
];

async function main(): Promise<void> {
	recordN8nLog();
	const emu = await startEmulator({
		taskTimeMs: TASK_TIME_MS,
		submittedMs: 200,
		concurrencyLimit: CONCURRENCY_LIMIT,
	});
	try {
		const identified = await callApi(emu.baseUrl, 'POST', '/v1/videos/identify-face', {
			body: { video_url: 'https://cdn.example.com/talk.mp4?durationMs=8000&faces=0-8000' },
		});
		const session = identified.body.data as { session_id: string };
		emu.resetStats();
		emu.configure({ randomFaults: { rate: FAULT_RATE, kinds: FAULT_KINDS } });

		const started = Date.now();
		const rssBefore = process.memoryUsage().rss;
		const { output, error } = await runKlingNode({
			credentials: emulatorCredentials(emu.baseUrl),
			// Each item other work (its own Insert At), so each is its own task.
			items: Array.from({ length: TASKS }, (_, index) => ({
				...session,
				face_id: '0',
				insert_ms: index % 5001,
			})),
			parameters: {
				resource: 'lipSync',
				operation: 'lipSync',
				insertMs: '={{ $json.insert_ms }}',
				audioSource: 'url',
				audioUrl: `${emu.baseUrl}/media/fixtures/tone-3s.wav`,
				downloadVideo: false,
				waitOptions: { pollIntervalSeconds: 0.5, maxWaitMinutes: 15 },
				options: { maxInFlight: MAX_IN_FLIGHT },
			},
			continueOnFail: true,
		});
		const wallS = (Date.now() - started) / 1000;
		emu.configure({ randomFaults: undefined });

		const stats = emu.stats;
		const succeeded = output.filter((item) => item.json.task_status === 'succeed').length;
		const failedItems = output
			.filter((item) => item.json.error)
			.map((item) => `${String(item.json.error)} | ${String(item.json.description ?? '')}`);
		const taskIds = new Set(output.map((item) => item.json.task_id));
		const apiRequests = ['create', 'get'].reduce(
			(sum, route) => sum + (stats.requests[route] ?? 0),
			0,
		);
		const faultsServed = Object.values(stats.faults).reduce((sum, n) => sum + n, 0);
		const figures = {
			tasks: TASKS,
			succeeded,
			'distinct task_ids': taskIds.size,
			'billed creates': stats.billed.create,
			'double billed': stats.billed.create - succeeded,
			'create requests': stats.requests.create ?? 0,
			'status requests': stats.requests.get ?? 0,
			'faults served': `${faultsServed} of ${apiRequests} API requests (${((100 * faultsServed) / Math.max(1, apiRequests)).toFixed(1)} %)`,
			'1303 answers (limit + injected)': stats.rejected[1303] ?? 0,
			'highest concurrency at Kling': stats.highestConcurrency,
			'repeated external_task_ids refused': stats.repeatedExternalTaskIds,
			'wall time': `${wallS.toFixed(1)} s (task time ${TASK_TIME_MS / 1000} s, limit ${CONCURRENCY_LIMIT}: ideal ${((TASKS / CONCURRENCY_LIMIT) * (TASK_TIME_MS / 1000)).toFixed(1)} s)`,
			'RSS growth': `${((process.memoryUsage().rss - rssBefore) / 1024 / 1024).toFixed(1)} MB`,
			'secret scans passed': scanStats.runs,
		};
		console.log(
			`soak: ${TASKS} tasks, emulator concurrency limit ${CONCURRENCY_LIMIT}, node Max Tasks in Flight ${MAX_IN_FLIGHT}, faults on ${FAULT_RATE * 100}% of requests`,
		);
		for (const [name, value] of Object.entries(figures))
			console.log(`  ${name.padEnd(36)} ${value}`);
		console.log('  faults by kind:');
		for (const [kind, count] of Object.entries(stats.faults).sort())
			console.log(`    ${kind.padEnd(34)} ${count}`);
		if (error) console.log(`  node error: ${error.message}`);
		for (const message of failedItems.slice(0, 10)) console.log(`  item error: ${message}`);

		const ok =
			!error && succeeded === TASKS && stats.billed.create === TASKS && taskIds.size === TASKS;
		console.log(ok ? 'soak: PASS (all tasks completed, 0 double billing)' : 'soak: FAIL');
		process.exitCode = ok ? 0 : 1;
	} finally {
		await emu.stop();
	}
}

main()
	.catch((error: unknown) => {
		console.error(error);
		process.exitCode = 1;
	})
	.finally(() => setTimeout(() => process.exit(), 100));
