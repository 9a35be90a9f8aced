import {
	hostOf,
	internalHostProblem,
	internalOrigin,
	mediaUrlProblem,
} from '../../nodes/KlingLipSync/helpers/mediaUrl';

describe('where a media URL from an answer may point', () => {
	it.each([
		'http://127.0.0.1/x.mp4',
		'http://127.5.6.7:8080/x.mp4',
		'http://2130706433/x.mp4',
		'http://0x7f.1/x.mp4',
		'http://[::1]/x.mp4',
		'http://[::ffff:127.0.0.1]/x.mp4',
		'http://[::ffff:a9fe:a9fe]/x.mp4',
		'http://10.1.2.3/x.mp4',
		'http://172.16.0.1/x.mp4',
		'http://172.31.255.255/x.mp4',
		'http://192.168.1.1/x.mp4',
		'http://169.254.169.254/latest/meta-data',
		'http://100.64.0.1/x.mp4',
		'http://0.0.0.0/x.mp4',
		'http://[fd00:ec2::254]/x.mp4',
		'http://[fe80::1]/x.mp4',
		'http://localhost/x.mp4',
		'http://video.localhost/x.mp4',
		'http://metadata.google.internal/computeMetadata/v1/',
		'http://printer.local/x.mp4',
		'http://intranet/x.mp4',
		'ftp://cdn.example.com/x.mp4',
		'file:///etc/passwd',
		'https://user:pass@cdn.example.com/x.mp4',
		'not a url',
	])('refuses %s', (url) => {
		expect(mediaUrlProblem(url)).toEqual(expect.any(String));
	});

	it.each([
		'https://cdn.klingai.com/bs2/upload/x.mp4',
		'https://v21-kling.klingai.com/x.mp4?sign=abc',
		'http://8.8.8.8/x.mp4',
		'http://172.32.0.1/x.mp4',
		'http://[2606:4700::1111]/x.mp4',
	])('allows %s', (url) => {
		expect(mediaUrlProblem(url)).toBeUndefined();
	});

	it("allows the credential's own internal origin, and only that origin", () => {
		const origin = internalOrigin('http://127.0.0.1:4010/kling');
		expect(origin).toBe('http://127.0.0.1:4010');
		expect(mediaUrlProblem('http://127.0.0.1:4010/media/x.mp4', origin)).toBeUndefined();
		expect(mediaUrlProblem('http://127.0.0.1:4011/media/x.mp4', origin)).toMatch(/loopback/);
		expect(internalOrigin('https://api-singapore.klingai.com')).toBeUndefined();
	});

	it('names the kind of address and only the host', () => {
		expect(internalHostProblem('169.254.169.254')).toMatch(/link-local/);
		expect(hostOf('https://cdn.example.com:8443/a.mp4?token=secret')).toBe('cdn.example.com:8443');
	});
});
