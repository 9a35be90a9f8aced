/** The example workflows and the credential, as the e2e suite and the demo import them. */
import type { Emulator } from '../../test/emulator/server';
import { loadExample } from './n8n';

export const CREDENTIAL_ID = 'kling-api-credential';
export const EXAMPLES = {
	single: { file: 'single-video-lipsync.json', id: 'klingSingleVid01' },
	batch: { file: 'scheduled-batch-lipsync.json', id: 'klingBatchVideo1' },
	submit: { file: 'callback-batch-submit.json', id: 'klingCallbkSubmit' },
	results: { file: 'callback-batch-results.json', id: 'klingCallbkResult' },
	textToVideo: { file: 'text-to-talking-video.json', id: 'klingTextToVideo' },
	dialogue: { file: 'dub-dialogue.json', id: 'klingDubDialogue' },
};
export const RESULT_BYTES = 300 * 1024;

export type Provider = 'kling' | 'klingProxy' | 'apimodels' | 'vtrix';
export const PROVIDERS: Provider[] = ['kling', 'klingProxy', 'apimodels', 'vtrix'];

/** The credential the examples use, pointing at the emulator through the given provider's door. */
export function credential(emu: Emulator, provider: Provider = 'kling'): Record<string, unknown> {
	const data = {
		kling: {
			provider,
			authType: 'accessKey',
			accessKey: 'test-access-key',
			secretKey: 'test-secret-key',
			region: 'custom',
			baseUrl: emu.baseUrl,
		},
		klingProxy: { provider, apiKey: 'test-api-key', baseUrl: `${emu.baseUrl}/kling` },
		apimodels: { provider, apiKey: 'test-api-key', apimodelsBaseUrl: emu.baseUrl },
		vtrix: { provider, apiKey: 'test-api-key', vtrixBaseUrl: emu.baseUrl },
	}[provider];
	return { id: CREDENTIAL_ID, name: 'Kling API', type: 'klingApi', data };
}

/** The examples with their sample media pointed at the emulator and a fast poll. */
export function exampleFor(
	emu: Emulator,
	which: keyof typeof EXAMPLES,
	replace: Record<string, string> = {},
): Record<string, unknown> {
	const fixtures = `${emu.baseUrl}/media/fixtures`;
	const workflow = loadExample(EXAMPLES[which].file, {
		'https://example.com/audio/dub-en.mp3': `${fixtures}/tone-3s.mp3`,
		'https://example.com/audio/lesson-1-es.mp3': `${fixtures}/tone-3s.wav`,
		'https://example.com/audio/lesson-2-es.mp3': `${fixtures}/tone-3s.m4a`,
		'https://example.com/audio/lesson-3-es.mp3': `${fixtures}/tone-3s.aac`,
		// The interview: the host on screen for its first 4.5 s, the guest for the rest; 9 s tracks.
		'https://example.com/videos/interview.mp4':
			'https://cdn.example.com/interview.mp4?durationMs=9000&faces=0-4500,4500-9000',
		'https://example.com/audio/interview-host-fr.mp3': `${emu.baseUrl}/media/silence/9000.wav`,
		'https://example.com/audio/interview-guest-fr.mp3': `${emu.baseUrl}/media/silence/9000.wav`,
		'"pollIntervalSeconds": 10': '"pollIntervalSeconds": 0.5',
		'"pollIntervalSeconds": 15': '"pollIntervalSeconds": 0.5',
		...replace,
	});
	return { ...workflow, id: EXAMPLES[which].id };
}
