/** What each Kling business code means to a user, and what to do about it (Kling's error-code table). */
export interface KlingCodeInfo {
	title: string;
	remedy: string;
	/** Kling says the same request may succeed later. */
	retriable: boolean;
}

const CODES: Record<number, KlingCodeInfo> = {
	1000: {
		title: 'Authentication failed',
		remedy: 'Check the Access Key and Secret Key (or API key) in the Kling API credential.',
		retriable: false,
	},
	1001: {
		title: 'Authorization is empty',
		remedy: 'Select a Kling API credential on the node.',
		retriable: false,
	},
	1002: {
		title: 'Authorization is invalid',
		remedy:
			'Check the keys in the credential, and that they belong to the selected region (Global keys do not work in China and vice versa).',
		retriable: false,
	},
	1003: {
		title: 'Authorization is not yet valid',
		remedy: "The token's start time is in the future: check the clock of the machine running n8n.",
		retriable: false,
	},
	1004: {
		title: 'Authorization has expired',
		remedy:
			'Check the clock of the machine running n8n; the node signs a fresh token for every request.',
		retriable: false,
	},
	1100: {
		title: 'Account exception',
		remedy: 'Check the account status in the Kling console.',
		retriable: false,
	},
	1101: {
		title: 'Account in arrears',
		remedy: 'Settle the outstanding balance in the Kling console.',
		retriable: false,
	},
	1102: {
		title: 'Resource pack exhausted or expired',
		remedy: 'Top up or renew the resource pack in the Kling console.',
		retriable: false,
	},
	1103: {
		title: 'No permission for this API',
		remedy: 'Enable lip-sync for this account or key in the Kling console.',
		retriable: false,
	},
	1200: { title: 'Invalid request', remedy: 'Check the node parameters.', retriable: false },
	1201: {
		title: 'Invalid parameter',
		remedy: 'Kling names the parameter in the message above: correct it and run again.',
		retriable: false,
	},
	1202: {
		title: 'Invalid method',
		remedy: 'The base URL may be wrong: check the region or custom base URL in the credential.',
		retriable: false,
	},
	1203: {
		title: 'Resource does not exist',
		remedy: 'Check the id; tasks and results are deleted after 30 days, sessions after 24 hours.',
		retriable: false,
	},
	1300: {
		title: 'Platform policy triggered',
		remedy: 'Kling refused the content under its platform policy: change the input.',
		retriable: false,
	},
	1301: {
		title: 'Content safety policy triggered',
		remedy: 'Kling refused the content under its safety policy: change the video or audio.',
		retriable: false,
	},
	1302: {
		title: 'Rate limit exceeded',
		remedy: 'Too many requests: lower Max Tasks in Flight or run the workflow less often.',
		retriable: true,
	},
	1303: {
		title: 'Too many tasks at once for the resource pack',
		remedy: 'Lower Max Tasks in Flight to the number of parallel tasks your pack allows.',
		retriable: true,
	},
	1304: {
		title: 'IP whitelist policy',
		remedy: "Add the n8n server's IP address to the key's whitelist in the Kling console.",
		retriable: false,
	},
	5000: { title: 'Kling internal error', remedy: 'Try again later.', retriable: true },
	5001: { title: 'Kling is under maintenance', remedy: 'Try again later.', retriable: true },
	5002: { title: 'Kling internal timeout', remedy: 'Try again later.', retriable: true },
};

export function describeKlingCode(code: number): KlingCodeInfo {
	return (
		CODES[code] ?? {
			title: `Kling error ${code}`,
			remedy: "See Kling's error code table; the request_id helps Kling support.",
			retriable: code >= 5000 && code < 6000,
		}
	);
}
