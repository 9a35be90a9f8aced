/**
 * Kling text-to-speech voices for the Voice list (ids as in Kling's published voice list for
 * lip-sync; Kling documents no endpoint that lists them). Any other voice_id can be given by ID.
 */
export interface KlingVoice {
	id: string;
	name: string;
	language: 'en' | 'zh';
}

export const KLING_VOICES: readonly KlingVoice[] = [
	{ id: 'oversea_male1', name: 'Cheerful young man', language: 'en' },
	{ id: 'chat1_female_new-3', name: 'Gentle young woman', language: 'en' },
	{ id: 'genshin_vindi2', name: 'Sunny boy', language: 'en' },
	{ id: 'genshin_klee2', name: 'Lively girl', language: 'en' },
	{ id: 'genshin_kirara', name: 'Cheerful girl', language: 'en' },
	{ id: 'ai_kaiya', name: 'Calm young woman', language: 'en' },
	{ id: 'ai_chenjiahao_712', name: 'Warm young man', language: 'en' },
	{ id: 'girlfriend_4_speech02', name: 'Sweet woman', language: 'en' },
	{ id: 'uk_boy1', name: 'British boy', language: 'en' },
	{ id: 'uk_man2', name: 'British man', language: 'en' },
	{ id: 'uk_oldman3', name: 'British old man', language: 'en' },
	{ id: 'calm_story1', name: 'Calm storyteller', language: 'en' },
	{ id: 'reader_en_m-v1', name: 'Male narrator', language: 'en' },
	{ id: 'commercial_lady_en_f-v1', name: 'Commercial female voice', language: 'en' },
	{ id: 'zhinen_xuesheng', name: 'Student (Chinese)', language: 'zh' },
	{ id: 'ai_shatang', name: 'Young woman (Chinese)', language: 'zh' },
	{ id: 'AOT', name: 'Energetic young man (Chinese)', language: 'zh' },
	{ id: 'tiyuxi_speech02', name: 'Sports commentator (Chinese)', language: 'zh' },
	{ id: 'laopopo_speech02', name: 'Grandmother (Chinese)', language: 'zh' },
	{ id: 'dongbeilaotie_speech02', name: 'Northeastern man (Chinese)', language: 'zh' },
];

/** The voices whose name, id or language matches the search text (case-insensitive). */
export function searchVoices(filter: string | undefined): KlingVoice[] {
	const needle = (filter ?? '').trim().toLowerCase();
	if (!needle) return [...KLING_VOICES];
	return KLING_VOICES.filter((voice) =>
		`${voice.name} ${voice.id} ${voice.language}`.toLowerCase().includes(needle),
	);
}
