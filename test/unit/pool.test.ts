/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
import { runPool } from '../../nodes/KlingLipSync/helpers/pool';

describe('runPool', () => {
	it('keeps order and never exceeds the limit', async () => {
		let running = 0;
		let highest = 0;
		const results = await runPool(10, 3, async (i) => {
			running++;
			highest = Math.max(highest, running);
			await new Promise((resolve) => setTimeout(resolve, (10 - i) * 3));
			running--;
			return i * 2;
		});
		expect(results).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
		expect(highest).toBe(3);
		expect(await runPool(0, 3, async () => 1)).toEqual([]);
	});
});
