/**
 * Secret hygiene for every engine run: n8n's log is recorded, and after each run the Kling
 * node's whole run data (outputs, errors with their descriptions, context and causes) and the
 * log lines are scanned for the credential's secrets and every token signed during the run.
 */
import { Logger } from '@n8n/backend-common';
import { Container } from '@n8n/di';
import type { Logger as LoggerType } from 'n8n-workflow';
import { LoggerProxy } from 'n8n-workflow';

export interface LogLine {
	level: 'error' | 'warn' | 'info' | 'debug';
	message: string;
	meta?: unknown;
}

const lines: LogLine[] = [];

const recorder = (level: LogLine['level']) => (message: string, meta?: unknown) => {
	lines.push({ level, message, meta });
};

const recordingLogger = {
	error: recorder('error'),
	warn: recorder('warn'),
	info: recorder('info'),
	debug: recorder('debug'),
	scoped() {
		return recordingLogger;
	},
} as unknown as LoggerType & Logger;

/** Routes n8n's logger (the node's `this.logger` and n8n-workflow's LoggerProxy) to the record. */
export function recordN8nLog(): void {
	Container.set(Logger, recordingLogger);
	LoggerProxy.init(recordingLogger);
}

/** Log lines written since `from` (an index from `logMark`). */
export const logSince = (from: number): LogLine[] => lines.slice(from);
export const logMark = (): number => lines.length;

/** JSON of anything, errors included with every field n8n could show or store. */
export function serialize(value: unknown): string {
	const seen = new WeakSet<object>();
	return JSON.stringify(value, (_key, entry: unknown) => {
		if (typeof entry === 'bigint') return entry.toString();
		if (!entry || typeof entry !== 'object') return entry;
		if (seen.has(entry)) return '[seen]';
		seen.add(entry);
		// Buffers arrive as their toJSON() form: scan their bytes as text.
		const asBuffer = entry as { type?: unknown; data?: unknown };
		if (asBuffer.type === 'Buffer' && Array.isArray(asBuffer.data))
			return Buffer.from(asBuffer.data as number[]).toString('utf8');
		if (entry instanceof Error) {
			const fields: Record<string, unknown> = {
				name: entry.name,
				message: entry.message,
				stack: entry.stack,
				cause: entry.cause,
			};
			for (const key of Object.getOwnPropertyNames(entry))
				fields[key] = (entry as unknown as Record<string, unknown>)[key];
			return fields;
		}
		return entry;
	});
}

/** Secrets short enough to occur by chance are not scanned for. */
const MIN_SECRET_LENGTH = 8;

/** Which of the secrets occur in the text (each also as base64 and URL-encoded). */
export function findSecrets(text: string, secrets: Iterable<string>): string[] {
	const found = new Set<string>();
	for (const secret of secrets) {
		if (secret.length < MIN_SECRET_LENGTH) continue;
		const forms = [
			secret,
			Buffer.from(secret).toString('base64').replace(/=+$/, ''),
			encodeURIComponent(secret),
		];
		if (forms.some((form) => text.includes(form))) found.add(secret);
	}
	return [...found];
}

/** How many runs were scanned: the secrets test checks the scan really ran. */
export const scanStats = { runs: 0, bytes: 0 };

export function assertNoSecrets(what: string, text: string, secrets: Iterable<string>): void {
	scanStats.runs++;
	scanStats.bytes += text.length;
	const leaked = findSecrets(text, secrets);
	if (leaked.length) {
		const shown = leaked
			.map((secret) => `${secret.slice(0, 4)}… (${secret.length} chars)`)
			.join(', ');
		throw new Error(`A secret leaked into ${what}: ${shown}`);
	}
}
