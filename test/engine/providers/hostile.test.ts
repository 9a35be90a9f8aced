/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { startEmulator, type Emulator } from '../../emulator/server';
import { emulatorCredentials, runKlingNode, type RunOptions } from '../harness';
import { identify, lipSyncParameters } from '../helpers';

/**
 * A provider's answer is untrusted input: a hostile or broken provider (the emulator's hostile
 * faults and result URLs) makes the node fetch nothing internal, store nothing endless or not a
 * video, explain every answer that is not its JSON, and leak no secret it echoes.
 */
describe('a hostile provider', () => {
	let emu: Emulator;
	let internal: { url: string; hits: () => number; stop: () => Promise<void> };
	beforeAll(async () => {
		emu = await startEmulator({ taskTimeMs: 300, submittedMs: 100 });
		// An internal service on this machine, on another port than the credential's base URL.
		let hits = 0;
		const server = http.createServer((_req, res) => {
			hits++;
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end('{"api_key":"internal-secret"}');
		});
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		internal = {
			url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/latest/meta-data`,
			hits: () => hits,
			stop: async () => await new Promise<void>((resolve) => server.close(() => resolve())),
		};
	});
	afterAll(async () => {
		await emu.stop();
		await internal.stop();
	});
	beforeEach(() => {
		emu.configure({ resultVideoUrl: undefined, resultBytes: undefined });
		emu.clearFaults();
		emu.resetStats();
	});

	const run = async (over: Partial<RunOptions> & { parameters?: Record<string, unknown> } = {}) => {
		const session = await identify(emu);
		emu.resetStats();
		return await runKlingNode({
			credentials: emulatorCredentials(emu.baseUrl),
			items: [{ ...session, face_id: '0' }],
			...over,
			parameters: lipSyncParameters(emu, over.parameters ?? {}),
		});
	};

	it.each([
		[
			'an internal service on this machine',
			() => internal.url,
			/refused to fetch from 127\.0\.0\.1:\d+: its host 127\.0\.0\.1 is a loopback address/,
		],
		[
			'the cloud metadata address',
			() => 'http://169.254.169.254/latest/meta-data/iam',
			/refused to fetch from 169\.254\.169\.254: .*link-local address/,
		],
		[
			'a private address',
			() => 'http://10.0.0.7/video.mp4',
			/refused to fetch from 10\.0\.0\.7: .*private address/,
		],
		[
			'a decimal IP for 127.0.0.1',
			() => 'http://2130706433/v.mp4',
			/refused to fetch from 127\.0\.0\.1: .*loopback/,
		],
		[
			'a redirect to the internal service',
			() => `${emu.baseUrl}/media/redirect?to=${encodeURIComponent(internal.url)}`,
			/refused to fetch from 127\.0\.0\.1:\d+ \(a redirect\)/,
		],
		[
			'a non-http URL',
			() => 'file:///etc/passwd',
			/refused to fetch from .*: it is not http\(s\) \(file:\)/,
		],
	])(
		'a result video URL at %s is refused, the error names the task, nothing is fetched',
		async (_name, url, reason) => {
			emu.configure({ resultVideoUrl: url() });
			const hitsBefore = internal.hits();
			const { error, output } = await run({ continueOnFail: true });
			expect(error).toBeUndefined();
			const item = output[0].json;
			expect(item.error).toBe(`The video could not be downloaded (task_id ${item.task_id})`);
			expect(String(item.description)).toMatch(reason);
			expect(item.task_id).toEqual(expect.any(String));
			expect(internal.hits()).toBe(hitsBefore);
			expect(emu.stats.billed.create).toBe(1);
		},
	);

	it('an endless result video is stopped at Max Download Size; the error names the limit and the task', async () => {
		emu.configure({ resultBytes: 3 * 1024 * 1024 });
		const { error } = await run({
			parameters: {
				waitOptions: { pollIntervalSeconds: 0.2, maxWaitMinutes: 1, maxDownloadMb: 1 },
			},
		});
		expect(error?.message).toMatch(/The video could not be downloaded/);
		expect(error?.description).toMatch(/larger than 1048576 bytes; the download was stopped there/);
		expect(error?.context?.task_id).toEqual(expect.any(String));
		expect(emu.stats.largeBytesSent).toBeLessThan(3 * 1024 * 1024);
	});

	it('a result that is not a video is not stored as one: the error names the content type and the task', async () => {
		emu.configure({ resultVideoUrl: `${emu.baseUrl}/media/fixtures/tone-3s.wav` });
		const { error, output } = await run();
		expect(output).toHaveLength(0);
		expect(error?.description).toMatch(
			/not an MP4\/MOV video \(content type [^,]+, it starts with "RIFF/,
		);
		expect(String(error?.context?.task_id)).toMatch(/^\d+$/);
	});

	it('a create billed but answered with junk is a lost reply: the task is found by its external_task_id, paid once', async () => {
		emu.injectFault({
			route: 'create',
			kind: 'junkReply',
			status: 200,
			contentType: 'text/html',
			text: '<html><body>Gateway says hi</body></html>',
			times: 1,
		});
		const { error, output } = await run({ parameters: { downloadVideo: false } });
		expect(error).toBeUndefined();
		expect(output[0].json.task_status).toBe('succeed');
		expect(emu.stats.billed.create).toBe(1);
	});

	it('a create that stays unreadable says what came back and names its external_task_id', async () => {
		emu.injectFault({
			route: 'create',
			kind: 'http',
			status: 200,
			text: '{"code":0,"data":{"task_id": 12',
			times: 20,
		});
		emu.injectFault({ route: 'get', kind: 'error', code: 1203, times: 20 });
		const { error } = await run({ parameters: { downloadVideo: false } });
		expect(error?.message).toBe('Kling answered HTTP 200 with something that is not its JSON');
		expect(error?.description).toMatch(
			/HTTP 200, content type application\/json, body "\{"code":0,"data":\{"task_id": 12"/,
		);
		expect(error?.description).toMatch(
			/external_task_id n8n-[0-9a-f]{32}: if Kling made the task, Get Task finds it by that id/,
		);
		expect(error?.context?.external_task_id).toMatch(/^n8n-[0-9a-f]{32}$/);
	}, 90_000);

	it('an HTML error page on Identify Face is explained: status, content type, first bytes', async () => {
		emu.injectFault({
			route: 'identify',
			kind: 'http',
			status: 403,
			text: '<!DOCTYPE html><title>Access denied</title>',
			times: 5,
		});
		const { error } = await runKlingNode({
			credentials: emulatorCredentials(emu.baseUrl),
			items: [{}],
			parameters: {
				resource: 'face',
				operation: 'identifyFace',
				videoUrl: 'https://cdn.example.com/a.mp4',
			},
		});
		expect(error?.message).toBe('Kling answered HTTP 403 with something that is not its JSON');
		expect(error?.description).toMatch(
			/HTTP 403, content type application\/json, body "<!DOCTYPE html><title>Access denied<\/title>"/,
		);
	});

	it.each(['accessKey', 'apiKey'] as const)(
		'a provider that echoes the Authorization header (%s) leaks neither key nor token into the error',
		async (mode) => {
			emu.injectFault({ route: 'create', kind: 'echoAuthorization', code: 1201, times: 1 });
			const session = await identify(emu);
			// The harness fails the run if a key, the secret or a signed token appears in its data or n8n's log.
			const { error } = await runKlingNode({
				credentials: emulatorCredentials(emu.baseUrl, mode),
				items: [{ ...session, face_id: '0' }],
				parameters: lipSyncParameters(emu),
			});
			expect(error?.description).toMatch(/rejected request with Authorization: Bearer \*\*\*/);
		},
	);

	it('an audio URL of your own keeps working, also through redirects, when it is internal itself', async () => {
		const audioUrl = `${emu.baseUrl}/media/redirect?to=${encodeURIComponent(`${emu.baseUrl}/media/fixtures/tone-3s.wav`)}`;
		const { error, output } = await run({ parameters: { audioUrl, downloadVideo: false } });
		expect(error).toBeUndefined();
		expect(output[0].json.task_status).toBe('succeed');
	});

	it.each([
		[
			'Crop End (Milliseconds)',
			{ cropEndMs: '={{ NaN }}' },
			/^Crop End \(Milliseconds\) must be a number of milliseconds: its expression gave (null|NaN|Infinity|-Infinity)/,
		],
		[
			'Crop Start (Milliseconds)',
			{ cropStartMs: '={{ 1/0 }}' },
			/^Crop Start \(Milliseconds\) must be a number of milliseconds: its expression gave (null|NaN|Infinity|-Infinity)/,
		],
		[
			'Insert At (Milliseconds)',
			{ insertMs: '={{ 2 ** 53 }}' },
			/^Insert At \(Milliseconds\) must be at most 3600000 ms/,
		],
		[
			'Crop End (Milliseconds) past any audio',
			{ cropEndMs: 120000 },
			/^Crop End \(Milliseconds\) must be at most 60000 ms/,
		],
		[
			'Audio Volume',
			{ options: { soundVolume: '={{ NaN }}' } },
			/^Audio Volume must be a number from 0 to 2: its expression gave (null|NaN|Infinity|-Infinity)/,
		],
		[
			'Original Audio Volume',
			{ options: { originalAudioVolume: '={{ -1/0 }}' } },
			/^Original Audio Volume must be a number from 0 to 2: its expression gave (null|NaN|Infinity|-Infinity)/,
		],
		[
			'Max Wait',
			{ waitOptions: { maxWaitMinutes: '={{ NaN }}' } },
			/^Max Wait \(Minutes\) must be a positive number: its expression gave (null|NaN|Infinity|-Infinity)/,
		],
	])(
		'%s from an expression that is not a finite number is refused before any call',
		async (_name, parameters, message) => {
			const { error } = await run({ parameters });
			expect(error?.message).toMatch(message);
			expect(emu.stats.billed.create).toBe(0);
		},
	);
});
