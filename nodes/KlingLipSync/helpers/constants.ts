/** Limits from Kling's documentation: one place, used by validation and hints. */
export const KLING_LIMITS = {
	minCropMs: 2000,
	minOverlapMs: 2000,
	minAudioMs: 2000,
	maxAudioMs: 60000,
	maxAudioBytes: 5 * 1024 * 1024,
	minVolume: 0,
	maxVolume: 2,
	listPageSizeMax: 500,
	listPageNumMax: 1000,
	maxTtsChars: 1000,
	/** No video Kling lip-syncs is longer: a time past it is a mistake (e.g. seconds given as ms twice). */
	maxVideoMs: 60 * 60_000,
} as const;

export const KLING_BASE_URLS = {
	global: 'https://api-singapore.klingai.com',
	china: 'https://api-beijing.klingai.com',
} as const;

export const APIMODELS_BASE_URL = 'https://apimodels.app';

export const KLING_CREDENTIAL_TYPE = 'klingApi';

/**
 * How the transport tells the credential to sign on the API's clock (ms to add to this host's):
 * the credential's authenticate reads it and removes it, so it never leaves n8n.
 */
export const CLOCK_OFFSET_HEADER = 'x-n8n-kling-clock-offset-ms';

/** vtrix's create and status paths where the credential names none ({id}: the job's id). */
export const VTRIX_DEFAULT_CREATE_PATH = '/v1/generations';
export const VTRIX_DEFAULT_STATUS_PATH = '/v1/generations/{id}';
