import { KlingLipSync } from '../../nodes/KlingLipSync/KlingLipSync.node';
import { emulatorCredentials, searchList } from './harness';
import { FAST_WAIT, emulatorSuite } from './helpers';

describe('Text to Speech', () => {
	const suite = emulatorSuite({ taskTimeMs: 500, submittedMs: 100 });
	const { run } = suite;
	const video = (faces: string, durationMs = 8000) =>
		`https://cdn.example.com/talk.mp4?durationMs=${durationMs}&faces=${faces}`;

	describe('Text to Speech', () => {
		const speech = (over = {}) => ({
			operation: 'textToSpeech',
			text: 'Hello from n8n, this is a lip sync test.',
			voice: { mode: 'list', value: 'oversea_male1' },
			...over,
		});

		it('returns an audio_id, its URL and duration', async () => {
			const { output, error } = await run({
				parameters: speech({ voice: { mode: 'id', value: 'my_custom_voice' }, speed: 1.5 }),
			});
			expect(error).toBeUndefined();
			expect(output[0].json).toEqual(
				expect.objectContaining({
					audio_id: expect.stringMatching(/^\d{18}$/),
					audio_url: expect.stringMatching(/\/media\/audio\/\d+\.wav$/),
					audio_duration_ms: expect.any(Number),
					voice_id: 'my_custom_voice',
					voice_language: 'en',
					voice_speed: 1.5,
				}),
			);
			expect(suite.emu.stats.billed.tts).toBe(1);
		});

		it.each([
			['empty text', { text: '={{ "" }}' }, /^Text is required$/],
			[
				'text over 1000 characters',
				{ text: 'a'.repeat(1001) },
				/^Text must be at most 1000 characters \(it has 1001\)/,
			],
			['a speed of 3', { speed: 3 }, /^Speed must be from 0\.8 to 2\.0 \(got 3\)/],
			[
				'a voice id with spaces',
				{ voice: { mode: 'id', value: 'my voice' } },
				/^Voice must be an id as Kling gives it/,
			],
		])('refuses %s before any call', async (_name, over, message) => {
			const { error } = await run({ parameters: speech(over) });
			expect(error?.message).toMatch(message);
			expect(suite.emu.stats.billed.tts).toBe(0);
		});

		it("lists the voices of the chosen Language, searchable, and shows the default voice's name", async () => {
			const credentials = emulatorCredentials(suite.emu.baseUrl);
			const english = await searchList('searchVoices', credentials, undefined, undefined, {
				operation: 'textToSpeech',
			});
			const chinese = await searchList('searchVoices', credentials, undefined, undefined, {
				operation: 'textToSpeech',
				language: 'zh',
			});
			expect(english.results.length).toBeGreaterThan(5);
			expect(english.results.every((voice) => /\(en, /.test(voice.name))).toBe(true);
			expect(chinese.results.length).toBeGreaterThan(3);
			expect(chinese.results.every((voice) => /\(zh, /.test(voice.name))).toBe(true);
			const british = await searchList('searchVoices', credentials, 'british', undefined, {
				operation: 'textToSpeech',
			});
			expect(british.results.map((voice) => voice.value)).toEqual([
				'uk_boy1',
				'uk_man2',
				'uk_oldman3',
			]);
			const voice = new KlingLipSync().description.properties.find(
				(field) => field.name === 'voice',
			);
			expect(voice?.default).toEqual(
				expect.objectContaining({
					value: 'oversea_male1',
					cachedResultName: expect.stringMatching(/^Cheerful young man/),
				}),
			);
		});

		it('is refused with a provider that has none', async () => {
			const { error } = await run({
				credentials: emulatorCredentials(suite.emu.baseUrl, 'apimodels'),
				parameters: speech(),
			});
			expect(error?.message).toBe(
				'apimodels.app does not support text to speech (use Kling itself, or another TTS and an audio URL)',
			);
		});

		it('feeds Lip Sync Video and Lip Sync directly: text -> talking video', async () => {
			const spoken = await run({ parameters: speech({ text: 'x'.repeat(60) }) });
			const audio = spoken.output[0].json;
			const synced = await run({
				items: [audio],
				parameters: {
					operation: 'lipSyncVideo',
					videoUrl: video('0-8000'),
					audioSource: 'audioId',
					audioId: '={{ $json.audio_id }}',
					downloadVideo: false,
					waitOptions: FAST_WAIT,
				},
			});
			expect(synced.error).toBeUndefined();
			expect(synced.output[0].json).toEqual(
				expect.objectContaining({
					task_status: 'succeed',
					audio_id: audio.audio_id,
					crop_end_time: audio.audio_duration_ms,
				}),
			);
			const session = (
				await run({ parameters: { operation: 'identifyFace', videoUrl: video('0-8000') } })
			).output[0].json;
			const direct = await run({
				items: [{ ...session, ...audio }],
				parameters: {
					operation: 'lipSync',
					audioSource: 'audioId',
					audioId: '={{ $json.audio_id }}',
					downloadVideo: false,
					waitOptions: FAST_WAIT,
				},
			});
			expect(direct.error).toBeUndefined();
			expect(direct.output[0].json.task_status).toBe('succeed');
		});
	});
});
