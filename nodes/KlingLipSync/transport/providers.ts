import type { ProviderSupport } from './types';

/**
 * What each provider can do beyond the common core (identify by URL, create, get by task_id), and
 * the words the panel and the errors use for it: every note and refusal derives from here.
 */

export type ProviderId = 'kling' | 'klingProxy' | 'apimodels' | 'vtrix';

export type Feature = keyof ProviderSupport;

interface ProviderFacts {
	/** As the panel's notes name it. */
	name: string;
	supports: ProviderSupport;
}

/** Kling itself, and proxies that pass its API through, can do all of it. */
const EVERYTHING: ProviderSupport = {
	videoId: true,
	audioId: true,
	externalTaskId: true,
	listTasks: true,
	textToSpeech: true,
};

export const PROVIDERS: Record<ProviderId, ProviderFacts> = {
	kling: { name: 'Kling', supports: EVERYTHING },
	klingProxy: { name: 'Kling-compatible proxies', supports: EVERYTHING },
	apimodels: {
		name: 'apimodels.app',
		supports: {
			videoId: false,
			audioId: false,
			externalTaskId: false,
			listTasks: false,
			textToSpeech: false,
		},
	},
	vtrix: {
		name: 'vtrix',
		supports: {
			videoId: true,
			audioId: true,
			externalTaskId: false,
			listTasks: false,
			textToSpeech: false,
		},
	},
};

/** Each feature as a refusal names it, with what to do instead. */
export const FEATURE_NAMES: Record<Feature, string> = {
	videoId: 'Kling video IDs (use a video URL)',
	audioId: 'Kling audio IDs (use an audio URL, a binary file or base64)',
	externalTaskId: 'external task IDs (find the task by its task_id)',
	listTasks: 'listing tasks',
	textToSpeech: 'text to speech (use Kling itself, or another TTS and an audio URL)',
};

const names = (ids: ProviderId[]): string =>
	ids
		.map((id) => PROVIDERS[id].name)
		.join(ids.length > 2 ? ', ' : ' and ')
		.replace(/, ([^,]*)$/, ' and $1');

/**
 * Which providers have a feature, as a panel note says it: "Kling and Kling-compatible proxies
 * only", or "not with apimodels.app" when most have it.
 */
export function supportNote(feature: Feature): string {
	const ids = Object.keys(PROVIDERS) as ProviderId[];
	const lacking = ids.filter((id) => !PROVIDERS[id].supports[feature]);
	if (lacking.length === 0) return 'every provider';
	const having = ids.filter((id) => PROVIDERS[id].supports[feature]);
	return lacking.length < having.length ? `not with ${names(lacking)}` : `${names(having)} only`;
}

/** The providers without a feature, as a panel note names them ("apimodels.app and vtrix"). */
export const providersWithout = (feature: Feature): string =>
	names((Object.keys(PROVIDERS) as ProviderId[]).filter((id) => !PROVIDERS[id].supports[feature]));
