/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
/** A minimal HTTP client for talking to the emulator in tests (Node's own fetch). */
export interface ApiReply {
	status: number;
	body: { code: number; message: string; request_id: string; data: any };
}

export async function callApi(
	baseUrl: string,
	method: 'GET' | 'POST',
	path: string,
	options: { body?: unknown; token?: string | null; rawBody?: string } = {},
): Promise<ApiReply> {
	const headers: Record<string, string> = { 'content-type': 'application/json' };
	const token = options.token === undefined ? 'test-api-key' : options.token;
	if (token !== null) headers.authorization = `Bearer ${token}`;
	const response = await fetch(`${baseUrl}${path}`, {
		method,
		headers,
		body:
			options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
	});
	return { status: response.status, body: (await response.json()) as ApiReply['body'] };
}
