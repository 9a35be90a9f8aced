/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
import {
	BATCH_QUERY_PARAM,
	decodeBatch,
	encodeBatch,
	taskKey,
	withQueryParam,
} from '../../nodes/KlingLipSync/helpers/callbackBatch';
import { checkWebhookSignature } from '../../nodes/KlingLipSync/helpers/webhookSignature';

describe('webhook signatures', () => {
	// The test vector in kling-api.md (Standard Webhooks).
	const vector = {
		secret: 'whsec_dGVzdHNlY3JldHRlc3RzZWNyZXR0ZXN0c2VjcmV0MTI=',
		id: '9876543210',
		timestamp: '1781080794',
		body: '{"id":"1234567890","status":"succeeded","message":"","create_time":1781080778802,"update_time":1781080794151}',
		signature: 'v1,UsKlJP00XoQyOn410NM9xv34sP+Gl0jnOO9Lcpr7NJ4=',
	};
	const delivery = (over = {}) => ({
		id: vector.id,
		timestamp: vector.timestamp,
		signature: vector.signature,
		rawBody: vector.body,
		...over,
	});

	it('accepts the documented test vector, also among rotated signatures', () => {
		expect(checkWebhookSignature(vector.secret, delivery(), 1781080794)).toBeUndefined();
		expect(
			checkWebhookSignature(
				vector.secret,
				delivery({ signature: `v1,AAAA ${vector.signature}` }),
				1781080794 + 299,
			),
		).toBeUndefined();
	});

	it.each([
		[
			'a changed body',
			{ rawBody: vector.body.replace('succeeded', 'failed') },
			1781080794,
			/does not match/,
		],
		['a changed id', { id: '9876543211' }, 1781080794, /does not match/],
		[
			'a v2 signature',
			{ signature: vector.signature.replace('v1', 'v2') },
			1781080794,
			/does not match/,
		],
		['a missing header', { id: undefined }, 1781080794, /missing/],
		['a stale timestamp', {}, 1781080794 + 301, /more than 5 minutes off/],
		[
			'a timestamp that is not a number',
			{ timestamp: '17810807x4' },
			1781080794,
			/more than 5 minutes off/,
		],
	])('refuses %s', (_name, over, now, reason) => {
		expect(checkWebhookSignature(vector.secret, delivery(over), now)).toMatch(reason);
	});

	it('encodes a run of tasks into a callback URL and reads it back, never throwing on junk', () => {
		const tasks = [0, 1, 7].map((itemIndex) => ({ itemIndex, key: taskKey(`n8n-${itemIndex}`) }));
		const url = withQueryParam(
			'https://n8n.example.com/webhook-waiting/1234?signature=tok',
			BATCH_QUERY_PARAM,
			encodeBatch(tasks),
		);
		const parsed = new URL(url);
		expect(parsed.searchParams.get('signature')).toBe('tok');
		expect(decodeBatch(parsed.searchParams.get(BATCH_QUERY_PARAM))).toEqual(tasks);
		// Items 0..N-1 in order: 8 characters a task, no indexes.
		const hundred = Array.from({ length: 100 }, (_, itemIndex) => ({
			itemIndex,
			key: taskKey(`n8n-${'a'.repeat(28)}${itemIndex}`),
		}));
		expect(encodeBatch(hundred)).toHaveLength(800);
		expect(decodeBatch(encodeBatch(hundred))).toEqual(hundred);
		expect(taskKey('n8n-x')).toMatch(/^[A-Za-z0-9_-]{8}$/);
		for (const junk of [
			undefined,
			'',
			'x',
			'%%%',
			'abcdefg',
			'abcdefgh.1,2',
			'abcdefgh.zz!',
			'abcdefgh.1.2',
		]) {
			expect(decodeBatch(junk)).toBeUndefined();
		}
	});
});
