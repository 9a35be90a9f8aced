/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
import type http from 'node:http';

import { KlingError } from './envelope';
import type { EmulatorState } from './state';
import type { Fault, RouteName } from './types';

/** Faults to serve (scripted or at random), the account's request rate, and the replies. */

const faultName = (fault: Fault): string =>
	fault.kind === 'error'
		? `error ${fault.code}`
		: fault.kind === 'http'
			? `http ${fault.status}`
			: fault.kind;

export function takeFault(s: EmulatorState, name: RouteName): Fault | undefined {
	const scripted = s.faults.find((f) => f.route === name || (f.route === '*' && name !== 'media'));
	let fault: Fault | undefined = scripted;
	if (scripted) {
		scripted.times = (scripted.times ?? 1) - 1;
		if (scripted.times <= 0) s.faults = s.faults.filter((f) => f !== scripted);
	} else if (s.config.randomFaults && name !== 'media') {
		const { rate, kinds, random = Math.random } = s.config.randomFaults;
		if (kinds.length && random() < rate) fault = kinds[Math.floor(random() * kinds.length)];
	}
	if (fault) s.stats.faults[faultName(fault)] = (s.stats.faults[faultName(fault)] ?? 0) + 1;
	return fault;
}

/** Whether this request is over the account's request rate (a sliding second). */
export function overRateLimit(s: EmulatorState): boolean {
	if (!Number.isFinite(s.config.requestsPerSecond)) return false;
	const now = Date.now();
	s.recentRequests = s.recentRequests.filter((at) => now - at < 1000);
	if (s.recentRequests.length >= s.config.requestsPerSecond) return true;
	s.recentRequests.push(now);
	return false;
}

export function send(
	s: EmulatorState,
	res: http.ServerResponse,
	status: number,
	payload: unknown,
): void {
	const json = JSON.stringify(payload);
	const text = s.config.bareNumericIds
		? json.replace(/"((?:\w+_)?id)":"(\d{15,})"/g, '"$1":$2')
		: json;
	// Date on the emulator's clock: a client measures clock skew from it.
	const date = new Date(s.clock.now()).toUTCString();
	res.writeHead(status, {
		'content-type': 'application/json',
		'content-length': String(Buffer.byteLength(text)),
		date,
	});
	res.end(text);
}

export function sendError(
	s: EmulatorState,
	res: http.ServerResponse,
	error: KlingError,
	requestId: string,
): void {
	s.stats.rejected[error.code] = (s.stats.rejected[error.code] ?? 0) + 1;
	send(s, res, error.httpStatus, {
		code: error.code,
		message: error.message,
		request_id: requestId,
		data: null,
	});
}

export function sendHttpFault(
	s: EmulatorState,
	res: http.ServerResponse,
	fault: { status: number; json?: unknown; text?: string },
): void {
	if (fault.text !== undefined) {
		res.writeHead(fault.status, { 'content-type': 'application/json' });
		res.end(fault.text);
		return;
	}
	if (fault.json !== undefined) {
		send(s, res, fault.status, fault.json);
		return;
	}
	res.writeHead(fault.status, { 'content-type': 'text/html' });
	res.end(`<html><body>${fault.status} Bad Gateway</body></html>`);
}
