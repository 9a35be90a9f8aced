import { KlingApi, signKlingJwt } from '../../credentials/KlingApi.credentials';
import { authenticate } from '../emulator/auth';

describe('JWT signing', () => {
	const now = Date.UTC(2026, 10, 24, 12);
	it("produces a token the emulator (Kling's rules) accepts, with exp +1800 s and nbf -5 s", () => {
		const token = signKlingJwt('ak', 'sk', now);
		const [header, payload] = token
			.split('.')
			.slice(0, 2)
			.map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
		expect(header).toEqual({ alg: 'HS256', typ: 'JWT' });
		expect(payload).toEqual({ iss: 'ak', exp: now / 1000 + 1800, nbf: now / 1000 - 5 });
		expect(() =>
			authenticate(`Bearer ${token}`, { apiKeys: [], accessKeys: { ak: 'sk' } }, now),
		).not.toThrow();
		expect(() =>
			authenticate(`Bearer ${token}`, { apiKeys: [], accessKeys: { ak: 'other' } }, now),
		).toThrow(/signature/);
	});

	it('is signed by the credential for every request, replacing no other header', async () => {
		const credential = new KlingApi();
		const signed = await credential.authenticate(
			{ authType: 'accessKey', accessKey: ' ak ', secretKey: 'sk' },
			{ url: '/x', headers: { 'x-keep': '1' } },
		);
		expect(signed.headers).toEqual({
			'x-keep': '1',
			Authorization: expect.stringMatching(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/),
		});
		const api = await credential.authenticate(
			{ authType: 'apiKey', apiKey: 'key-1' },
			{ url: '/x' },
		);
		expect(api.headers).toEqual({ Authorization: 'Bearer key-1' });
	});
});
