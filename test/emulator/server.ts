/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { authenticate } from './auth';
import { HTTP_STATUS_BY_CODE, KlingError } from './envelope';
import { overRateLimit, send, sendError, sendHttpFault, takeFault } from './faults';
import { readBody, serveMedia } from './media';
import { createTask, getTask, identifyFace, listTasks, route, textToSpeech } from './official';
import { APIMODELS, APIMODELS_PATH, handleReseller, VTRIX, VTRIX_PATH } from './resellers';
import { EmulatorState } from './state';
import { emptyStats, type Emulator, type EmulatorOptions, type RouteName } from './types';

export { FIXTURES_DIR, silentWav } from './media';
export type {
	CallbackDelivery,
	Emulator,
	EmulatorOptions,
	EmulatorStats,
	Fault,
	RouteName,
	TaskStatus,
} from './types';

/**
 * The Kling emulator: a local server on 127.0.0.1 that speaks the documented protocol (and the
 * resellers' doors to it). The account's state is in state.ts, each door in its own file.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
	const s = new EmulatorState(options);
	const ticker = setInterval(s.tick, s.config.tickMs);
	ticker.unref();

	const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
		const url = new URL(req.url ?? '/', s.baseUrl);
		const method = req.method ?? 'GET';
		const requestId = randomUUID();
		if (url.pathname.startsWith('/media/')) {
			s.stats.requests.media = (s.stats.requests.media ?? 0) + 1;
			if (s.config.mediaDelayMs > 0)
				await new Promise((resolve) => setTimeout(resolve, s.config.mediaDelayMs));
			if (!serveMedia(s, url, res))
				send(s, res, 404, { code: 1203, message: 'Not found', request_id: requestId, data: null });
			return;
		}
		if (url.pathname === VTRIX_PATH || url.pathname.startsWith(`${VTRIX_PATH}/`)) {
			await handleReseller(
				s,
				req,
				res,
				VTRIX,
				url.pathname.slice(VTRIX_PATH.length + 1) || undefined,
			);
			return;
		}
		if (url.pathname === APIMODELS_PATH) {
			await handleReseller(s, req, res, APIMODELS, url.searchParams.get('task_id') ?? undefined);
			return;
		}
		const matched = route(method, url.pathname);
		if (!matched) {
			sendError(
				s,
				res,
				new KlingError(1202, `${method} ${url.pathname} is not a valid method`),
				requestId,
			);
			return;
		}
		s.stats.requests[matched.name] = (s.stats.requests[matched.name] ?? 0) + 1;
		if (matched.name === 'get') {
			const id = decodeURIComponent(url.pathname.slice(url.pathname.lastIndexOf('/') + 1));
			s.stats.taskReads[id] = (s.stats.taskReads[id] ?? 0) + 1;
		}
		const bearer = /^Bearer\s+(\S+)$/.exec((req.headers.authorization ?? '').trim())?.[1];
		if (bearer) s.seenTokens.add(bearer);
		try {
			authenticate(req.headers.authorization, s.config, s.clock.now());
		} catch (error) {
			sendError(s, res, error as KlingError, requestId);
			return;
		}
		if (overRateLimit(s)) {
			sendError(s, res, new KlingError(1302), requestId);
			return;
		}
		let fault = takeFault(s, matched.name);
		if (fault?.kind === 'delay') {
			await new Promise((resolve) =>
				setTimeout(resolve, fault && fault.kind === 'delay' ? fault.ms : 0),
			);
			fault = takeFault(s, matched.name);
		}
		if (fault?.kind === 'reset') {
			req.socket.destroy();
			return;
		}
		if (fault?.kind === 'error') {
			sendError(s, res, new KlingError(fault.code, fault.message), requestId);
			return;
		}
		if (fault?.kind === 'echoAuthorization') {
			sendError(
				s,
				res,
				new KlingError(
					fault.code,
					`rejected request with Authorization: ${req.headers.authorization ?? ''}`,
				),
				requestId,
			);
			return;
		}
		if (fault?.kind === 'http') {
			sendHttpFault(s, res, fault);
			return;
		}
		try {
			let body: Record<string, unknown> = {};
			if (method === 'POST') {
				const raw = await readBody(req, 12 * 1024 * 1024);
				try {
					const parsed: unknown = JSON.parse(raw.toString('utf8'));
					if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
						throw new Error('not an object');
					body = parsed as Record<string, unknown>;
				} catch {
					throw new KlingError(1200, 'Request body must be a JSON object');
				}
			}
			s.tick();
			const handlers: Record<RouteName, () => unknown> = {
				identify: () => identifyFace(s, body),
				create: () => createTask(s, body),
				get: () => getTask(s, matched.id ?? ''),
				list: () => listTasks(s, url.searchParams),
				tts: () => textToSpeech(s, body),
				media: () => undefined,
			};
			const data = await handlers[matched.name]();
			if (fault?.kind === 'lostReply') {
				req.socket.destroy();
				return;
			}
			if (fault?.kind === 'junkReply') {
				res.writeHead(fault.status, { 'content-type': fault.contentType });
				res.end(fault.text);
				return;
			}
			send(s, res, 200, { code: 0, message: 'SUCCEED', request_id: requestId, data });
		} catch (error) {
			if (error instanceof KlingError) sendError(s, res, error, requestId);
			else sendError(s, res, new KlingError(5000, (error as Error).message), requestId);
		}
	};

	const server = http.createServer((req, res) => {
		handle(req, res).catch(() => res.destroy());
	});
	await new Promise<void>((resolve) => server.listen(s.config.port, '127.0.0.1', resolve));
	s.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

	return {
		baseUrl: s.baseUrl,
		get stats() {
			return s.stats;
		},
		callbacks: s.callbacks,
		seenTokens: () => [...s.seenTokens],
		configure(next) {
			s.config = { ...s.config, ...next, videos: { ...s.config.videos, ...next.videos } };
		},
		injectFault(fault) {
			s.faults.push({ ...fault });
		},
		clearFaults() {
			s.faults = [];
		},
		registerVideo(id, scene) {
			s.config.videos[id] = scene;
		},
		task(id) {
			const task = s.tasks.get(id) ?? s.tasksByExternalId.get(id);
			return task && s.taskObject(task);
		},
		tick: s.tick,
		runningTasks: s.running,
		resetStats() {
			s.stats = emptyStats();
		},
		async stop() {
			clearInterval(ticker);
			for (const timer of s.pendingTimers) clearTimeout(timer);
			server.closeAllConnections();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}

export { HTTP_STATUS_BY_CODE };
