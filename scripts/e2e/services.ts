/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
/**
 * What the e2e suite and the benchmarks need from Debian's packages, installed with apt-get when
 * missing (as root; time-limited), as the e2e installs n8n itself: Chromium for the editor check,
 * and the servers n8n's queue mode needs, started on loopback for one run: Redis (the job queue)
 * and PostgreSQL (the database main and workers share).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { freePort } from './n8n';

const run = promisify(execFile);
const INSTALL_TIMEOUT_MS = 10 * 60_000;
/** Where Debian's chromium package puts the browser. */
export const CHROMIUM = '/usr/bin/chromium';

/** The newest PostgreSQL server binaries Debian installed, if any. */
function postgresBinDir(): string | undefined {
	const root = '/usr/lib/postgresql';
	if (!existsSync(root)) return undefined;
	const versions = readdirSync(root).filter((name) =>
		existsSync(path.join(root, name, 'bin', 'postgres')),
	);
	versions.sort((a, b) => Number(b) - Number(a));
	return versions[0] ? path.join(root, versions[0], 'bin') : undefined;
}

async function onPath(binary: string): Promise<boolean> {
	try {
		await run('sh', ['-c', `command -v ${binary}`]);
		return true;
	} catch {
		return false;
	}
}

/** Debian's packages of these names, installed when `present` says their program is missing. */
export async function ensurePackages(
	wanted: Array<{ name: string; present: () => boolean | Promise<boolean> }>,
): Promise<void> {
	const missing: string[] = [];
	for (const { name, present } of wanted) if (!(await present())) missing.push(name);
	if (missing.length === 0) return;
	if (process.getuid?.() !== 0)
		throw new Error(
			`Install ${missing.join(' and ')} first (apt-get install -y ${missing.join(' ')}): installing needs root`,
		);
	console.error(
		`installing ${missing.join(', ')} from Debian's packages (at most ${INSTALL_TIMEOUT_MS / 60_000} min)`,
	);
	const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
	// A mirror that fails once usually answers the next time: three attempts.
	for (let attempt = 1; ; attempt++) {
		try {
			await run('apt-get', ['update', '-qq'], { timeout: INSTALL_TIMEOUT_MS, env });
			await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
				timeout: INSTALL_TIMEOUT_MS,
				env,
				maxBuffer: 64 * 1024 * 1024,
			});
			break;
		} catch (error) {
			if (attempt === 3) throw error;
			console.error(`apt-get attempt ${attempt} failed; trying again`);
		}
	}
	for (const { name, present } of wanted)
		if (!(await present())) throw new Error(`${name} installed, but its program is not there`);
}

/** Debian's Chromium, for the editor check. */
export const ensureChromium = async (): Promise<void> =>
	await ensurePackages([{ name: 'chromium', present: () => existsSync(CHROMIUM) }]);

/** Debian's redis-server, and postgresql unless `redisOnly`, when their servers are missing. */
export const ensureQueueServices = async (redisOnly = false): Promise<void> =>
	await ensurePackages([
		{ name: 'redis-server', present: async () => await onPath('redis-server') },
		...(redisOnly ? [] : [{ name: 'postgresql', present: () => Boolean(postgresBinDir()) }]),
	]);

export interface Service {
	port: number;
	stop(): Promise<void>;
}

async function readyWhen(child: ChildProcess, line: RegExp, name: string): Promise<void> {
	let log = '';
	await new Promise<void>((resolve, reject) => {
		const timer = setTimeout(
			() => reject(new Error(`${name} did not start:\n${log.slice(-2000)}`)),
			60_000,
		);
		const onData = (chunk: Buffer): void => {
			log += chunk.toString();
			if (line.test(log)) {
				clearTimeout(timer);
				resolve();
			}
		};
		child.stdout?.on('data', onData);
		child.stderr?.on('data', onData);
		child.once('error', (error) => reject(new Error(`${name} could not start: ${error.message}`)));
		child.once('exit', (code) =>
			reject(new Error(`${name} exited with ${code}:\n${log.slice(-2000)}`)),
		);
	});
}

async function stopped(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
	if (child.exitCode !== null) return;
	await new Promise<void>((resolve) => {
		child.once('exit', () => resolve());
		child.kill(signal);
		setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
	});
}

/** redis-server on a free loopback port, in memory only. */
export async function startRedis(): Promise<Service> {
	const port = await freePort();
	const redis = spawn(
		'redis-server',
		['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
		{ stdio: ['ignore', 'pipe', 'pipe'] },
	);
	await readyWhen(
		redis,
		/Ready to accept connections/i,
		'redis-server (apt-get install redis-server)',
	);
	return { port, stop: async () => await stopped(redis, 'SIGTERM') };
}

/**
 * A throwaway PostgreSQL cluster in a temporary folder (trust auth, no fsync: a benchmark's data
 * only), user and database `postgres`. As root it runs as Debian's `postgres` user.
 */
export async function startPostgres(): Promise<Service & { env: Record<string, string> }> {
	const bin = postgresBinDir();
	if (!bin) throw new Error('No PostgreSQL server: apt-get install -y postgresql');
	const dataDir = mkdtempSync(path.join(tmpdir(), 'kling-pg-'));
	const asRoot = process.getuid?.() === 0;
	if (asRoot) chownSync(dataDir, ...(await postgresIds()));
	const command = (binary: string, args: string[]): [string, string[]] =>
		asRoot
			? ['runuser', ['-u', 'postgres', '--', path.join(bin, binary), ...args]]
			: [path.join(bin, binary), args];
	await run(
		...command('initdb', [
			'-D',
			dataDir,
			'-A',
			'trust',
			'-U',
			'postgres',
			'-E',
			'UTF8',
			'--no-sync',
		]),
		{ timeout: 120_000 },
	);
	const port = await freePort();
	const settings = [
		'-c',
		'listen_addresses=127.0.0.1',
		'-c',
		'fsync=off',
		'-c',
		'synchronous_commit=off',
		'-c',
		'full_page_writes=off',
		'-c',
		'max_connections=200',
	];
	const [binary, args] = command('postgres', [
		'-D',
		dataDir,
		'-p',
		String(port),
		'-k',
		dataDir,
		...settings,
	]);
	const server = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
	await readyWhen(server, /ready to accept connections/, 'postgres');
	return {
		port,
		env: {
			DB_TYPE: 'postgresdb',
			DB_POSTGRESDB_HOST: '127.0.0.1',
			DB_POSTGRESDB_PORT: String(port),
			DB_POSTGRESDB_DATABASE: 'postgres',
			DB_POSTGRESDB_USER: 'postgres',
			DB_POSTGRESDB_PASSWORD: '',
			DB_POSTGRESDB_POOL_SIZE: '10',
		},
		stop: async () => {
			await stopped(server, 'SIGINT');
			rmSync(dataDir, { recursive: true, force: true });
		},
	};
}

async function postgresIds(): Promise<[number, number]> {
	const { stdout } = await run('id', ['postgres']);
	const uid = Number(/uid=(\d+)/.exec(stdout)?.[1]);
	const gid = Number(/gid=(\d+)/.exec(stdout)?.[1]);
	return [uid, gid];
}
