/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
/**
 * `npm run demo`: the Kling emulator (or real Kling, with KLING_ACCESS_KEY + KLING_SECRET_KEY or
 * KLING_API_KEY set) and a real n8n with this package installed, the credential and the example
 * workflows imported; runs the single-video example once, says where the video landed, then
 * keeps the editor running until Ctrl-C.
 *   Real Kling: KLING_REGION=global|china, KLING_DEMO_VIDEO_URL and KLING_DEMO_AUDIO_URL (your media).
 */
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

import { startEmulator, type Emulator } from '../test/emulator/server';
import { EXAMPLES, credential, exampleFor } from './e2e/examples';
import { ARTIFACTS } from './e2e/ui';
import { N8nUser, TARGETS, loadExample, packPackage } from './e2e/n8n';

const OWNER = {
	email: 'demo@example.com',
	firstName: 'Demo',
	lastName: 'User',
	password: 'Kling-demo-Passw0rd',
};

function realCredential(): Record<string, unknown> | undefined {
	const { KLING_ACCESS_KEY, KLING_SECRET_KEY, KLING_API_KEY, KLING_REGION } = process.env;
	const region = KLING_REGION === 'china' ? 'china' : 'global';
	const base = { id: 'kling-api-credential', name: 'Kling API', type: 'klingApi' };
	if (KLING_ACCESS_KEY && KLING_SECRET_KEY) {
		return {
			...base,
			data: {
				authType: 'accessKey',
				accessKey: KLING_ACCESS_KEY,
				secretKey: KLING_SECRET_KEY,
				region,
			},
		};
	}
	if (KLING_API_KEY)
		return { ...base, data: { authType: 'apiKey', apiKey: KLING_API_KEY, region } };
	return undefined;
}

function findFile(dir: string, name: string): string | undefined {
	for (const entry of readdirSync(dir)) {
		const full = path.join(dir, entry);
		if (statSync(full).isDirectory()) {
			const found = findFile(full, name);
			if (found) return found;
		} else if (entry === name) return full;
	}
	return undefined;
}

async function main(): Promise<void> {
	const real = realCredential();
	let emu: Emulator | undefined;
	if (!real)
		emu = await startEmulator({
			port: Number(process.env.KLING_EMULATOR_PORT ?? 0),
			taskTimeMs: 5000,
		});
	console.log(
		real ? 'Using real Kling (keys from the environment).' : `Kling emulator: ${emu?.baseUrl}`,
	);

	console.log(
		`n8n ${TARGETS[0].version}: the first run on a machine installs it from the npm registry (about 5 minutes on 2 cores,\n` +
			'progress every 15 s); later runs check the cached install and reach the editor in under a minute.',
	);
	const n8n = await N8nUser.create(TARGETS[0]);
	console.log('n8n is ready; installing the packed package into it...');
	await n8n.installPackage(await packPackage());
	await n8n.importJson('credentials', [real ?? credential(emu as Emulator)]);
	await n8n.registerPackage();
	const single = emu
		? exampleFor(emu, 'single')
		: {
				...loadExample(EXAMPLES.single.file, {
					'https://example.com/videos/presenter.mp4':
						process.env.KLING_DEMO_VIDEO_URL ?? 'https://example.com/videos/presenter.mp4',
					'https://example.com/audio/dub-en.mp3':
						process.env.KLING_DEMO_AUDIO_URL ?? 'https://example.com/audio/dub-en.mp3',
				}),
				id: EXAMPLES.single.id,
			};
	const batch = emu
		? exampleFor(emu, 'batch')
		: { ...loadExample(EXAMPLES.batch.file, {}), id: EXAMPLES.batch.id };
	await n8n.importJson('workflow', [single, batch]);

	console.log('Running the example "Kling: lip-sync one video"...');
	const { result } = await n8n.execute(EXAMPLES.single.id);
	const item = result.data.resultData.runData['Lip Sync']?.[0]?.data?.main[0]?.[0];
	const binaryId = item?.binary?.data?.id;
	if (!item || !binaryId) {
		console.log(
			`The example did not produce a video: ${JSON.stringify(result.data.resultData.error ?? result.data.resultData.runData['Lip Sync'], null, 2)}`,
		);
	} else {
		const stored = findFile(path.join(n8n.userFolder, '.n8n'), binaryId.split('/').pop() as string);
		mkdirSync(ARTIFACTS, { recursive: true });
		const copy = path.join(ARTIFACTS, 'demo-lipsync.mp4');
		if (stored) copyFileSync(stored, copy);
		console.log(
			`Task ${String(item.json.task_id)} ${String(item.json.task_status)}; video: ${String(item.json.video_url)}`,
		);
		console.log(`The video landed in n8n's binary data store at ${stored ?? binaryId}`);
		console.log(`and was copied to ${copy}`);
	}

	await n8n.start();
	await fetch(`${n8n.baseUrl}/rest/owner/setup`, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(OWNER),
	});
	console.log(`\nn8n editor: ${n8n.baseUrl}/workflow/${EXAMPLES.single.id}`);
	console.log(`Sign in as ${OWNER.email} / ${OWNER.password}. Press Ctrl-C to stop.`);
	const stop = async (): Promise<void> => {
		await n8n.stop();
		await emu?.stop();
		n8n.cleanup();
		process.exit(0);
	};
	process.on('SIGINT', () => void stop());
	process.on('SIGTERM', () => void stop());
}

void main().catch((error: unknown) => {
	console.error(error);
	process.exit(1);
});
