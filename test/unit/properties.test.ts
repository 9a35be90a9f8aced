import fc from 'fast-check';

import { inspectAudio } from '../../nodes/KlingLipSync/helpers/audio';
import { describeKlingCode } from '../../nodes/KlingLipSync/helpers/errorCodes';
import { workTaskId } from '../../nodes/KlingLipSync/helpers/externalId';
import { parseJsonKeepingBigIntegers } from '../../nodes/KlingLipSync/helpers/json';
import { faceToJson, taskToJson } from '../../nodes/KlingLipSync/actions/pipeline/output';
import {
	MAX_RETRIES,
	mayHaveBeenCarriedOut,
	retryDelayMs,
	shouldRetry,
} from '../../nodes/KlingLipSync/helpers/retry';
import {
	checkHttpUrl,
	checkId,
	checkMilliseconds,
	checkTiming,
	checkVolume,
} from '../../nodes/KlingLipSync/helpers/validation';
import {
	apimodelsDialect,
	parseApimodelsFaces,
	parseApimodelsTask,
} from '../../nodes/KlingLipSync/transport/apimodels';
import { klingDialect } from '../../nodes/KlingLipSync/transport/official';
import {
	parseOfficialIdentify,
	parseOfficialTask,
	UnsafeIdError,
} from '../../nodes/KlingLipSync/transport/officialParts';
import {
	parseVtrixIdentify,
	parseVtrixTask,
	vtrixDialect,
} from '../../nodes/KlingLipSync/transport/vtrix';
import type { LipSyncTask } from '../../nodes/KlingLipSync/transport/types';

/**
 * Whatever the input (parameters from expressions, bytes from users, replies from providers and
 * proxies), the pure code answers: a rule violation or a model, never an uncaught exception, never
 * a hang (each property runs hundreds of inputs inside the test's timeout).
 */
const RUNS = { numRuns: 300 };
const violation = (result: unknown) =>
	result === undefined || (typeof result === 'string' && result.length > 0);

describe('validation never throws, whatever the parameter', () => {
	it('checks ids, URLs, volumes and milliseconds of any value', () => {
		fc.assert(
			fc.property(
				fc.anything({ withBigInt: true, withDate: true, withMap: true, withNullPrototype: true }),
				fc.string(),
				(value, label) => {
					for (const check of [checkId, checkHttpUrl, checkVolume, checkMilliseconds])
						expect(violation(check(label, value))).toBe(true);
					expect(violation(checkId(label, value, 'yours'))).toBe(true);
				},
			),
			RUNS,
		);
	});

	it('accepts exactly the ids Kling could have issued', () => {
		fc.assert(
			fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (id) => {
				const plain = /^[\x21-\x7e]+$/.test(id.trim()) && id.trim().length <= 256;
				expect(checkId('ID', id) === undefined).toBe(plain);
			}),
			RUNS,
		);
	});

	it('checks any timing: a valid one stays inside every rule', () => {
		const ms = fc.oneof(
			fc.integer({ min: -100_000, max: 200_000 }),
			fc.double(),
			fc.constant(Number.NaN),
		);
		const optional = fc.option(fc.integer({ min: 0, max: 120_000 }), { nil: undefined });
		fc.assert(
			fc.property(
				ms,
				ms,
				ms,
				optional,
				optional,
				optional,
				optional,
				(cropStartMs, cropEndMs, insertMs, audioMs, faceStartMs, faceEndMs, videoDurationMs) => {
					const result = checkTiming({ cropStartMs, cropEndMs, insertMs }, audioMs, {
						faceStartMs,
						faceEndMs,
						videoDurationMs,
					});
					expect(violation(result)).toBe(true);
					if (result !== undefined) return;
					expect(Number.isInteger(cropStartMs) && cropStartMs >= 0).toBe(true);
					expect(cropEndMs - cropStartMs).toBeGreaterThanOrEqual(2000);
					if (audioMs !== undefined) expect(cropEndMs).toBeLessThanOrEqual(audioMs);
					if (videoDurationMs !== undefined)
						expect(insertMs + cropEndMs - cropStartMs).toBeLessThanOrEqual(videoDurationMs);
				},
			),
			RUNS,
		);
	});
});

describe('audio inspection terminates on any bytes', () => {
	const headers = [
		Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x00', 'latin1'),
		Buffer.from('RIFF\x24\x00\x00\x00WAVEfmt ', 'latin1'),
		Buffer.from('\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00', 'latin1'),
		Buffer.from([0xff, 0xfb, 0x90, 0x64]),
		Buffer.from([0xff, 0xf1, 0x50, 0x80]),
		Buffer.alloc(0),
	];

	it('answers a format and duration or an error for random bytes behind every known header', () => {
		fc.assert(
			fc.property(
				fc.constantFrom(...headers),
				fc.uint8Array({ maxLength: 4096 }),
				(header, tail) => {
					const started = Date.now();
					const info = inspectAudio(Buffer.concat([header, tail]));
					expect(Date.now() - started).toBeLessThan(1000);
					if ('error' in info) expect(typeof info.error).toBe('string');
					else {
						expect(['mp3', 'wav', 'm4a', 'aac']).toContain(info.format);
						if (info.durationMs !== undefined)
							expect(Number.isFinite(info.durationMs) && info.durationMs >= 0).toBe(true);
					}
				},
			),
			RUNS,
		);
	});
});

describe('response parsing never throws, whatever a provider answers', () => {
	const reply = fc.oneof(
		fc.anything(),
		fc.jsonValue(),
		fc.record(
			{
				task_id: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
				task_status: fc.oneof(
					fc.constantFrom('submitted', 'processing', 'succeed', 'failed', 'SUCCESS'),
					fc.anything(),
				),
				task_result: fc.anything(),
				task_info: fc.anything(),
				face_data: fc.anything(),
				data: fc.anything(),
				output: fc.anything(),
				faceData: fc.anything(),
				resultJson: fc.oneof(fc.string(), fc.json()),
			},
			{ requiredKeys: [] },
		),
	);
	const wellFormed = (task: LipSyncTask) => {
		expect(typeof task.taskId).toBe('string');
		expect(['submitted', 'processing', 'succeed', 'failed']).toContain(task.status);
		expect(Array.isArray(task.videos)).toBe(true);
		expect(() => JSON.stringify(taskToJson(task))).not.toThrow();
	};

	/** The parse's result; the one error allowed is an id that arrived as a number with lost digits. */
	const parsedOrUnsafeId = <T>(parse: () => T): T | undefined => {
		try {
			return parse();
		} catch (error) {
			expect(error).toBeInstanceOf(UnsafeIdError);
			return undefined;
		}
	};

	it('maps any task reply of every dialect to the neutral model (or refuses an id that lost digits)', () => {
		fc.assert(
			fc.property(reply, (data) => {
				for (const parse of [parseOfficialTask, parseApimodelsTask, parseVtrixTask]) {
					const task = parsedOrUnsafeId(() => parse(data));
					if (task) wellFormed(task);
				}
				for (const identify of [parseOfficialIdentify, parseVtrixIdentify, parseApimodelsFaces]) {
					const result = parsedOrUnsafeId(() => identify(data));
					if (!result) continue;
					expect(typeof result.sessionId).toBe('string');
					for (const face of result.faces) expect(() => faceToJson(face)).not.toThrow();
				}
			}),
			RUNS,
		);
	});

	it('parses any JSON as JSON.parse does, except that integers beyond 2^53 keep their digits as strings', () => {
		const keepBig = (value: unknown): unknown =>
			typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)
				? undefined
				: Array.isArray(value)
					? value.map(keepBig)
					: value && typeof value === 'object'
						? Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, keepBig(entry)]))
						: value;
		fc.assert(
			fc.property(fc.json(), (text) => {
				const plain = JSON.parse(text) as unknown;
				const kept = parseJsonKeepingBigIntegers(text);
				// Where nothing is big the two agree exactly.
				if (JSON.stringify(keepBig(plain)) === JSON.stringify(plain)) expect(kept).toEqual(plain);
			}),
			RUNS,
		);
		fc.assert(
			fc.property(fc.bigInt({ min: 2n ** 53n, max: 10n ** 30n }), fc.string(), (big, text) => {
				const body = `{"id": ${big}, "text": ${JSON.stringify(text)}, "list": [-${big}, 1.5, ${big}]}`;
				expect(parseJsonKeepingBigIntegers(body)).toEqual({
					id: String(big),
					text,
					list: [`-${big}`, 1.5, String(big)],
				});
			}),
			RUNS,
		);
	});

	it('unwraps any envelope with any HTTP status into data or an explained failure', () => {
		const dialects = [
			klingDialect,
			apimodelsDialect,
			vtrixDialect('/v1/generations', '/v1/generations/{id}'),
		];
		fc.assert(
			fc.property(fc.integer({ min: 100, max: 599 }), reply, (status, body) => {
				for (const dialect of dialects) {
					const unwrapped = dialect.unwrap(status, body);
					if ('failure' in unwrapped) {
						const { title, remedy } = dialect.explain(unwrapped.failure);
						expect(title.length).toBeGreaterThan(0);
						expect(typeof remedy).toBe('string');
					}
				}
			}),
			RUNS,
		);
	});
});

describe('retry arithmetic and ids', () => {
	it('never retries past the limit, backs off within bounds, explains every code', () => {
		const outcome = fc.record({
			method: fc.constantFrom('GET' as const, 'POST' as const),
			httpStatus: fc.option(fc.integer({ min: 100, max: 599 }), { nil: undefined }),
			code: fc.option(fc.integer({ min: -10, max: 99_999 }), { nil: undefined }),
			networkError: fc.option(fc.boolean(), { nil: undefined }),
			recoverable: fc.option(fc.boolean(), { nil: undefined }),
		});
		fc.assert(
			fc.property(
				outcome,
				fc.nat(20),
				fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
				(attempt, index, random) => {
					if (index >= MAX_RETRIES) expect(shouldRetry(attempt, index)).toBe(false);
					const delay = retryDelayMs(index, attempt, () => random);
					expect(delay).toBeGreaterThanOrEqual(250);
					expect(delay).toBeLessThanOrEqual(8000);
					if (attempt.method === 'GET') expect(mayHaveBeenCarriedOut(attempt)).toBe(false);
					if (attempt.code !== undefined)
						expect(describeKlingCode(attempt.code).title.length).toBeGreaterThan(0);
				},
			),
			RUNS,
		);
	});

	it('derives a well-formed external_task_id from any work, the same for the same work', () => {
		const work = fc.record({
			subject: fc.string(),
			faceId: fc.string(),
			audio: fc.string(),
			cropStartMs: fc.nat(),
			cropEndMs: fc.nat(),
			insertMs: fc.nat(),
			soundVolume: fc.double({ min: 0, max: 2, noNaN: true }),
			originalAudioVolume: fc.double({ min: 0, max: 2, noNaN: true }),
			watermark: fc.boolean(),
		});
		fc.assert(
			fc.property(work, fc.string(), (item, nonce) => {
				const id = workTaskId(item);
				expect(id).toMatch(/^n8n-[0-9a-f]{32}$/);
				expect(checkId('External Task ID', id)).toBeUndefined();
				expect(workTaskId({ ...item })).toBe(id);
				if (nonce) expect(workTaskId(item, nonce)).not.toBe(id);
			}),
			RUNS,
		);
	});
});
