import { answerExcerpt, maskSecrets } from '../../nodes/KlingLipSync/helpers/redact';

describe('text from an answer is masked', () => {
	it('masks known secrets, bearer tokens and JWTs', () => {
		const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ0ZXN0LWFjY2Vzcy1rZXkifQ.c2lnbmF0dXJlc2lnbmF0dXJl';
		const text = `rejected Authorization: Bearer ${jwt} for key test-secret-key and token ${jwt}`;
		const masked = maskSecrets(text, ['test-secret-key', 'abc']);
		expect(masked).toBe('rejected Authorization: Bearer *** for key *** and token ***');
	});

	it('quotes the start of an answer on one line', () => {
		expect(answerExcerpt(Buffer.from('<html>\n  <body>Bad gateway</body>\n</html>'), [])).toBe(
			'"<html> <body>Bad gateway</body> </html>"',
		);
		expect(answerExcerpt('', [])).toBe('(an empty body)');
		expect(answerExcerpt('x'.repeat(500), [], 10)).toBe('"xxxxxxxxxx..."');
	});
});
