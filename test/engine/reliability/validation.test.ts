import type { IDataObject } from 'n8n-workflow';

import { silentWav, startEmulator, type Emulator } from '../../emulator/server';
import { emulatorCredentials, runKlingNode, type BinaryInput } from '../harness';
import { fixture, lipSyncParameters } from '../helpers';

/**
 * Every rule the node checks before calling Kling: each case must fail with a message naming the
 * parameter and the rule, and must not reach the API at all (0 billed, 0 create requests).
 */
describe('bad input never reaches Kling', () => {
	let emu: Emulator;
	beforeAll(async () => {
		emu = await startEmulator();
	});
	afterAll(async () => emu.stop());
	beforeEach(() => emu.resetStats());

	const item = { session_id: '812345678901234567', face_id: '0' };
	const wav = (ms: number, rate = 8000): string => silentWav(ms, rate).toString('base64');
	const base64 = (over: IDataObject = {}): IDataObject => ({
		audioSource: 'base64',
		audioBase64: wav(3000),
		...over,
	});
	const voice = (bytes: Buffer): BinaryInput[] => [
		{ item: 0, property: 'data', fileName: 'voice.bin', bytes, mimeType: 'audio/wav' },
	];

	const cases: Array<
		[string, IDataObject, RegExp, { items?: IDataObject[]; binary?: BinaryInput[] }?]
	> = [
		['an empty session id', base64({ sessionId: '={{ "" }}' }), /^Session ID is required$/],
		[
			'a numeric session id',
			base64({ sessionId: '={{ 812345678901234567 }}' }),
			/^Session ID must be text, not a number/,
		],
		['a missing face id', base64({ faceId: '={{ $json.nothing }}' }), /^Face ID is required$/],
		['a numeric face id', base64({ faceId: '={{ 0 }}' }), /^Face ID must be text, not a number/],
		['a huge session id', base64({ sessionId: 'x'.repeat(5000) }), /^Session ID is too long/],
		[
			'an empty audio URL',
			{ audioSource: 'url', audioUrl: '={{ "  " }}' },
			/^Audio URL is required$/,
		],
		[
			'a malformed audio URL',
			{ audioSource: 'url', audioUrl: 'not a url' },
			/^Audio URL must be a full http\(s\) URL/,
		],
		[
			'an ftp audio URL',
			{ audioSource: 'url', audioUrl: 'ftp://x/a.mp3' },
			/^Audio URL must be an http\(s\) URL \(got ftp:\)/,
		],
		[
			'an unreachable audio URL',
			{ audioSource: 'url', audioUrl: 'http://127.0.0.1:1/a.mp3' },
			/^Audio URL could not be downloaded/,
		],
		[
			'an audio URL that is a PNG',
			{ audioSource: 'url', audioUrl: '={{ $json.base }}/media/fixtures/face.png' },
			/^Audio URL is not MP3, WAV, M4A or AAC audio/,
		],
		[
			'an empty base64',
			{ audioSource: 'base64', audioBase64: '={{ $json.nothing }}' },
			/^Audio \(Base64\) is required$/,
		],
		[
			'invalid base64',
			{ audioSource: 'base64', audioBase64: 'not*base64' },
			/^Audio \(Base64\) is not valid base64/,
		],
		[
			'unicode as base64',
			{ audioSource: 'base64', audioBase64: 'añb🎵' },
			/^Audio \(Base64\) is not valid base64/,
		],
		[
			'base64 of text',
			{ audioSource: 'base64', audioBase64: Buffer.from('hello world!').toString('base64') },
			/^Audio \(Base64\) is not MP3, WAV, M4A or AAC/,
		],
		[
			'audio shorter than 2 s',
			base64({ audioBase64: wav(1500) }),
			/^Audio \(Base64\) must be 2-60 seconds long \(it is 1\.50 s\)/,
		],
		[
			'audio longer than 60 s',
			base64({ audioBase64: wav(61000, 4000) }),
			/^Audio \(Base64\) must be 2-60 seconds long \(it is 61\.00 s\)/,
		],
		[
			'audio over 5 MB',
			base64({ audioBase64: wav(59000, 96000) }),
			/^Audio \(Base64\) must be at most 5 MB/,
		],
		[
			'a binary field that is missing',
			{ audioSource: 'binary', audioBinaryPropertyName: 'voice' },
			/voice/,
		],
		[
			'a binary that is not audio',
			{ audioSource: 'binary' },
			/^Audio in binary field "data" is not MP3, WAV, M4A or AAC/,
			{ binary: voice(fixture('face.png')) },
		],
		[
			'a binary that is too short',
			{ audioSource: 'binary' },
			/^Audio in binary field "data" must be 2-60 seconds/,
			{ binary: voice(fixture('tone-1500ms.wav')) },
		],
		[
			'an audio id without crop end',
			{ audioSource: 'audioId', audioId: 'a1' },
			/^Crop End \(Milliseconds\) is required with a Kling Audio ID/,
		],
		[
			'a numeric audio id',
			{ audioSource: 'audioId', audioId: '={{ 42 }}', cropEndMs: 3000 },
			/^Audio ID must be text/,
		],
		[
			'a crop under 2 s',
			base64({ cropStartMs: 1500, cropEndMs: 3000 }),
			/^Crop End \(Milliseconds\) minus Crop Start \(Milliseconds\) must be at least 2000 ms.*got 1500 ms/,
		],
		[
			'a crop end past the audio',
			base64({ cropEndMs: 3500 }),
			/^Crop End \(Milliseconds\) must not be later than the end of the audio \(3000 ms; got 3500\)/,
		],
		[
			'a negative crop start',
			base64({ cropStartMs: -5 }),
			/^Crop Start \(Milliseconds\) must not be negative/,
		],
		[
			'a fractional insert time',
			base64({ insertMs: 10.5 }),
			/^Insert At \(Milliseconds\) must be a whole number of milliseconds/,
		],
		['a NaN crop end', base64({ cropEndMs: '={{ NaN }}' }), /Crop End \(Milliseconds\)/],
		[
			'an insert past the video end',
			base64({ insertMs: 6000, options: { videoDurationMs: 8000 } }),
			/^Insert At \(Milliseconds\): the audio would play 6000-9000 ms, past the end of the video \(8000 ms\)/,
		],
		[
			'an overlap under 2 s (window from the input item)',
			base64({ insertMs: 4000 }),
			/overlap the face's window \(0-5200 ms\) by at least 2000 ms \(overlap 1200 ms\)/,
			{ items: [{ ...item, start_time: 0, end_time: 5200 }] },
		],
		[
			'an overlap under 2 s (window from options)',
			base64({ options: { faceStartMs: 2500, faceEndMs: 8000 } }),
			/overlap the face's window \(2500-8000 ms\) by at least 2000 ms \(overlap 500 ms\)/,
		],
		[
			'an audio volume over 2',
			base64({ options: { soundVolume: 2.5 } }),
			/^Audio Volume must be from 0 to 2 \(got 2\.5\)/,
		],
		[
			'a negative original volume',
			base64({ options: { originalAudioVolume: -1 } }),
			/^Original Audio Volume must be from 0 to 2/,
		],
		[
			'a volume that is not a number',
			base64({ options: { soundVolume: '={{ "loud" }}' } }),
			/Audio Volume/,
		],
		[
			'a malformed callback URL',
			base64({ options: { callbackUrl: 'example.com/hook' } }),
			/^Callback URL must be a full http\(s\) URL/,
		],
		[
			'a huge external task id',
			base64({ options: { externalTaskId: 'e'.repeat(300) } }),
			/^External Task ID is too long/,
		],
		[
			'an external task id with a line break',
			base64({ options: { externalTaskId: '={{ "run\\n7" }}' } }),
			/^External Task ID must not contain control characters/,
		],
		[
			'a session id given as an object',
			base64({ sessionId: '={{ { id: 1 } }}' }),
			/^Session ID must be text \(got a object\)/,
		],
		[
			'a session id given as a list',
			base64({ sessionId: '={{ ["8123"] }}' }),
			/^Session ID must be text \(got a list\)/,
		],
		[
			'a unicode session id',
			base64({ sessionId: '会话🎬' }),
			/^Session ID must be an id as Kling gives it: .* \(got "会话🎬"\)/,
		],
		[
			'a face id with a space inside',
			base64({ faceId: 'face 1' }),
			/^Face ID must be an id as Kling gives it/,
		],
		[
			'a crop start given as text',
			base64({ cropStartMs: '={{ "abc" }}' }),
			/^Crop Start \(Milliseconds\) must be a number of milliseconds/,
		],
		[
			'a negative insert time',
			base64({ insertMs: -2000 }),
			/^Insert At \(Milliseconds\) must not be negative \(got -2000\)/,
		],
		[
			'an infinite crop end',
			base64({ cropEndMs: '={{ Infinity }}' }),
			/^Crop End \(Milliseconds\) must be a number of milliseconds: its expression gave (Infinity|null)/,
		],
		[
			'a crop end before the crop start',
			base64({ cropStartMs: 2500, cropEndMs: 1000 }),
			/must be at least 2000 ms.*got -1500 ms/,
		],
		[
			'an unknown audio source (neither source chosen)',
			base64({ audioSource: 'nothing' }),
			/^Audio Source must be one of url, binary, base64 or audioId \(got "nothing"\)/,
		],
		[
			'an empty audio id',
			{ audioSource: 'audioId', audioId: '={{ "" }}', cropEndMs: 3000 },
			/^Audio ID is required$/,
		],
		[
			'an audio URL given as a number',
			{ audioSource: 'url', audioUrl: '={{ 42 }}' },
			/^Audio URL must be a URL as text \(got a number\)/,
		],
		[
			'a javascript: audio URL',
			{ audioSource: 'url', audioUrl: 'javascript:alert(1)' },
			/^Audio URL must be an http\(s\) URL \(got javascript:\)/,
		],
		[
			'an OGG binary (unsupported format)',
			{ audioSource: 'binary' },
			/^Audio in binary field "data" is not MP3, WAV, M4A or AAC/,
			{ binary: voice(Buffer.concat([Buffer.from('OggS'), Buffer.alloc(4000)])) },
		],
		[
			'FLAC as base64 (unsupported format)',
			{
				audioSource: 'base64',
				audioBase64: Buffer.concat([Buffer.from('fLaC'), Buffer.alloc(4000)]).toString('base64'),
			},
			/^Audio \(Base64\) is not MP3, WAV, M4A or AAC/,
		],
		[
			'an empty binary',
			{ audioSource: 'binary' },
			/^Audio in binary field "data"/,
			{ binary: voice(Buffer.alloc(0)) },
		],
	];

	it.each(cases)('rejects %s', async (_name, parameters, message, extra = {}) => {
		const { error, output } = await runKlingNode({
			credentials: emulatorCredentials(emu.baseUrl),
			items: extra.items ?? [{ ...item, base: emu.baseUrl }],
			binary: extra.binary,
			parameters: lipSyncParameters(emu, parameters),
		});
		expect(output).toEqual([]);
		expect(error?.message).toMatch(message);
		expect(emu.stats.requests.create ?? 0).toBe(0);
		expect(emu.stats.billed.create).toBe(0);
	});

	it.each([
		['an empty video URL', { videoUrl: '={{ "" }}' }, /^Video URL is required$/],
		[
			'a video URL without scheme',
			{ videoUrl: 'cdn.example.com/a.mp4' },
			/^Video URL must be a full http\(s\) URL/,
		],
		[
			'a numeric video id',
			{ videoSource: 'videoId', videoId: '={{ 123456789012345678 }}' },
			/^Video ID must be text/,
		],
		[
			'a unicode video id',
			{ videoSource: 'videoId', videoId: 'vidéo 1' },
			/^Video ID must be an id as Kling gives it/,
		],
		[
			'a huge video URL',
			{ videoUrl: `https://cdn.example.com/${'a'.repeat(5000)}` },
			/^Video URL is too long/,
		],
	])('rejects %s in Identify Face without a billed call', async (_name, parameters, message) => {
		const { error } = await runKlingNode({
			credentials: emulatorCredentials(emu.baseUrl),
			parameters: { operation: 'identifyFace', ...parameters },
		});
		expect(error?.message).toMatch(message);
		expect(emu.stats.billed.identify).toBe(0);
	});

	it.each([
		['an empty task id', { taskId: '={{ $json.task_id }}' }, /^Task ID is required$/],
		[
			'a numeric external id',
			{ taskIdType: 'externalTaskId', externalTaskId: '={{ 7 }}' },
			/^External Task ID must be text/,
		],
		['a huge task id', { taskId: '8'.repeat(5000) }, /^Task ID is too long/],
		['a task id with emoji', { taskId: '8123🎬' }, /^Task ID must be an id as Kling gives it/],
	])('rejects %s in Get Task', async (_name, parameters, message) => {
		const { error } = await runKlingNode({
			credentials: emulatorCredentials(emu.baseUrl),
			parameters: { operation: 'getTask', ...parameters },
		});
		expect(error?.message).toMatch(message);
		expect(emu.stats.requests.get ?? 0).toBe(0);
	});

	it('stops reading an audio URL at 5 MB and says so: a 1 GB file is never read whole', async () => {
		const { error } = await runKlingNode({
			credentials: emulatorCredentials(emu.baseUrl),
			items: [item],
			parameters: lipSyncParameters(emu, {
				audioSource: 'url',
				audioUrl: `${emu.baseUrl}/media/large/1073741824.mp3`,
			}),
		});
		expect(error?.message).toMatch(
			/^Audio URL must be at most 5 MB \(5,242,880 bytes\): the file is larger, so the node stopped reading it/,
		);
		// Sent = read (5 MB) + what socket buffers held when the reader stopped.
		expect(emu.stats.largeBytesSent).toBeLessThan(16 * 1024 * 1024);
		expect(emu.stats.requests.create ?? 0).toBe(0);
	});

	it('rejects a zero limit in List Tasks', async () => {
		const { error } = await runKlingNode({
			credentials: emulatorCredentials(emu.baseUrl),
			parameters: { operation: 'listTasks', limit: '={{ 0 }}' },
		});
		expect(error?.message).toMatch(/^Limit must be a whole number of at least 1/);
		expect(emu.stats.requests.list ?? 0).toBe(0);
	});

	it('creates no task at all when a later item is invalid', async () => {
		const { error } = await runKlingNode({
			credentials: emulatorCredentials(emu.baseUrl),
			items: [item, item, { ...item, face_id: '' }],
			parameters: lipSyncParameters(emu, base64()),
		});
		expect(error?.message).toBe('Face ID is required');
		expect(emu.stats.requests.create ?? 0).toBe(0);
	});

	it('with Continue On Fail, outputs the bad item as an error and runs the good ones', async () => {
		const { output } = await runKlingNode({
			credentials: emulatorCredentials(emu.baseUrl),
			items: [item, { ...item, face_id: '' }],
			parameters: lipSyncParameters(emu, base64({ waitForCompletion: false })),
			continueOnFail: true,
		});
		expect(output).toHaveLength(2);
		expect(output[1]).toEqual({
			json: {
				error: 'Face ID is required',
				description:
					'The node checked this before calling Kling: nothing was sent and nothing billed for this item. Correct the field and run it again.',
			},
			pairedItem: { item: 1 },
		});
		// The good item reached Kling, which rejects the made-up session: reported, not thrown.
		expect(output[0].json.error).toBe('Kling error 1201: Invalid parameter');
		expect(emu.stats.requests.create).toBe(1);
	});
});
