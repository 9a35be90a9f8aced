/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
/**
 * A real n8n for end-to-end tests and the demo: installed once into a cache folder
 * (install-n8n.sh), with our packed tarball loaded the way n8n's community-node installer does.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = path.resolve(__dirname, '..', '..');
export const PACKAGE_NAME = 'n8n-nodes-kling-lipsync';

/** The owner account the e2e suite sets up in every n8n it starts (editor check, queue mode). */
export const OWNER = {
	email: 'owner@example.com',
	firstName: 'Kling',
	lastName: 'Tester',
	password: 'Kling-e2e-Passw0rd',
};

export interface N8nTarget {
	version: string;
	nodeMajor: 20 | 24;
}

/** The newest n8n 2.x that installs here (on Node 24), and the last that runs on Node 20. */
export const TARGETS: N8nTarget[] = [
	{ version: '2.41.1', nodeMajor: 24 },
	{ version: '2.8.4', nodeMajor: 20 },
];

export async function freePort(): Promise<number> {
	return await new Promise((resolve, reject) => {
		const server = createServer();
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address() as { port: number };
			server.close(() => resolve(port));
		});
		server.on('error', reject);
	});
}

/** `npm pack`s the built package and returns the tarball's path. */
export async function packPackage(): Promise<string> {
	const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', tmpdir()], {
		cwd: ROOT,
	});
	return path.join(tmpdir(), stdout.trim().split('\n').pop() as string);
}

const installs = new Map<string, Promise<{ folder: string; nodeBin: string }>>();

/**
 * Installs (or reuses) n8n through install-n8n.sh, which checks a cached install before every use
 * and prints its progress on stderr, passed through here. Once per version and process.
 */
export async function installN8n(target: N8nTarget): Promise<{ folder: string; nodeBin: string }> {
	const key = `${target.version}-${target.nodeMajor}`;
	let install = installs.get(key);
	if (!install) {
		install = runInstaller(target);
		installs.set(key, install);
	}
	return await install;
}

async function runInstaller(target: N8nTarget): Promise<{ folder: string; nodeBin: string }> {
	const child = spawn(
		'bash',
		[path.join(__dirname, 'install-n8n.sh'), target.version, String(target.nodeMajor)],
		{
			stdio: ['ignore', 'pipe', 'inherit'],
		},
	);
	let stdout = '';
	child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
	const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
	if (code !== 0)
		throw new Error(
			`Installing n8n ${target.version} failed (exit ${code}); its messages are above`,
		);
	const folder = stdout.trim().split('\n').pop() as string;
	const nodeDir = readFileSync(path.join(folder, '.nodedir'), 'utf8').trim();
	return { folder, nodeBin: path.join(nodeDir, 'bin', 'node') };
}

export interface CliResult {
	code: number;
	stdout: string;
	stderr: string;
}

export class N8nUser {
	readonly userFolder: string;
	readonly port: number;
	readonly brokerPort: number;
	private server?: ChildProcess;
	private workers: ChildProcess[] = [];
	/** Environment every n8n process of this instance gets (e.g. a Postgres database). */
	private readonly sharedEnv: Record<string, string> = {};
	serverLog = '';
	workerLog = '';
	/** Everything the n8n CLI printed (scanned for secrets). */
	private cliOutput: string[] = [];

	/** The main process's resident memory (MB), from /proc; undefined when it does not run. */
	serverRssMb(): number | undefined {
		return rssMb(this.server?.pid);
	}

	/** Each worker's resident memory (MB), in start order. */
	workerRssMb(): Array<number | undefined> {
		return this.workers.map((worker) => rssMb(worker.pid));
	}

	/** The main process's CPU time so far (s). */
	serverCpuSeconds(): number | undefined {
		return cpuSeconds(this.server?.pid);
	}

	/** Each worker's CPU time so far (s), in start order. */
	workerCpuSeconds(): Array<number | undefined> {
		return this.workers.map((worker) => cpuSeconds(worker.pid));
	}

	/** Called with every line a worker prints, as it comes (worker index, line, time). */
	onWorkerLine?: (worker: number, line: string, at: number) => void;

	/** Sets environment for every n8n process and CLI command from now on. */
	useEnv(env: Record<string, string>): void {
		Object.assign(this.sharedEnv, env);
	}

	/** All n8n printed: CLI commands and the server's log. */
	transcript(): string {
		return [...this.cliOutput, this.serverLog, this.workerLog].join('\n');
	}

	private constructor(
		readonly target: N8nTarget,
		private readonly install: { folder: string; nodeBin: string },
		ports: [number, number],
	) {
		this.userFolder = mkdtempSync(path.join(tmpdir(), `n8n-${target.version}-`));
		[this.port, this.brokerPort] = ports;
	}

	static async create(target: N8nTarget): Promise<N8nUser> {
		const install = await installN8n(target);
		return new N8nUser(target, install, [await freePort(), await freePort()]);
	}

	/** Where this n8n version is installed (its node_modules hold n8n's own libraries). */
	get installFolder(): string {
		return this.install.folder;
	}

	get baseUrl(): string {
		return `http://127.0.0.1:${this.port}`;
	}

	/** Quiet, local, isolated: no telemetry, no version checks, no templates, its own folder and ports. */
	env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
		return {
			PATH: `${path.dirname(this.install.nodeBin)}:${process.env.PATH ?? ''}`,
			HOME: process.env.HOME,
			N8N_USER_FOLDER: this.userFolder,
			DB_TYPE: 'sqlite',
			N8N_ENCRYPTION_KEY: 'kling-e2e-encryption-key',
			N8N_DIAGNOSTICS_ENABLED: 'false',
			N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
			N8N_PERSONALIZATION_ENABLED: 'false',
			N8N_TEMPLATES_ENABLED: 'false',
			N8N_SECURE_COOKIE: 'false',
			N8N_HOST: '127.0.0.1',
			N8N_LISTEN_ADDRESS: '127.0.0.1',
			N8N_PORT: String(this.port),
			N8N_RUNNERS_BROKER_PORT: String(this.brokerPort),
			N8N_WEBHOOK_URL: `${this.baseUrl}/`,
			WEBHOOK_URL: `${this.baseUrl}/`,
			// 2.41 contacts the internet at start without this; 2.8 rejects an unknown module name.
			...(this.target.nodeMajor === 24 ? { N8N_DISABLED_MODULES: 'mcp-registry' } : {}),
			N8N_DEFAULT_BINARY_DATA_MODE: 'filesystem',
			// The execute command prints its JSON through the logger: below info it is hidden.
			N8N_LOG_LEVEL: 'info',
			N8N_BLOCK_ENV_ACCESS_IN_NODE: 'false',
			...this.sharedEnv,
			...extra,
		};
	}

	private get n8nBin(): string {
		return path.join(this.install.folder, 'node_modules', 'n8n', 'bin', 'n8n');
	}

	async cli(args: string[]): Promise<CliResult> {
		try {
			const { stdout, stderr } = await run(this.install.nodeBin, [this.n8nBin, ...args], {
				env: this.env(),
				maxBuffer: 64 * 1024 * 1024,
				timeout: 5 * 60 * 1000,
			});
			this.cliOutput.push(stdout, stderr);
			return { code: 0, stdout, stderr };
		} catch (error) {
			const failed = error as { code?: number; stdout?: string; stderr?: string };
			this.cliOutput.push(failed.stdout ?? '', failed.stderr ?? '');
			return {
				code: typeof failed.code === 'number' ? failed.code : 1,
				stdout: failed.stdout ?? '',
				stderr: failed.stderr ?? '',
			};
		}
	}

	/** As n8n's installer: unpack into ~/.n8n/nodes/node_modules, drop dev/peer deps, list it. */
	async installPackage(tarball: string): Promise<void> {
		const nodesDir = path.join(this.userFolder, '.n8n', 'nodes');
		const target = path.join(nodesDir, 'node_modules', PACKAGE_NAME);
		const unpack = mkdtempSync(path.join(tmpdir(), 'kling-pack-'));
		await run('tar', ['-xzf', tarball, '-C', unpack]);
		mkdirSync(path.dirname(target), { recursive: true });
		rmSync(target, { recursive: true, force: true });
		renameSync(path.join(unpack, 'package'), target);
		const manifest = JSON.parse(readFileSync(path.join(target, 'package.json'), 'utf8')) as Record<
			string,
			unknown
		>;
		delete manifest.devDependencies;
		delete manifest.peerDependencies;
		writeFileSync(path.join(target, 'package.json'), JSON.stringify(manifest, null, 2));
		writeFileSync(
			path.join(nodesDir, 'package.json'),
			JSON.stringify(
				{
					name: 'installed-nodes',
					private: true,
					dependencies: { [PACKAGE_NAME]: manifest.version },
				},
				null,
				2,
			),
		);
	}

	/**
	 * Records the package in n8n's database as its installer does (installed_packages and
	 * installed_nodes): the editor lists only nodes of packages it knows to be installed.
	 * Call after the first CLI command, which creates the database.
	 */
	async registerPackage(): Promise<void> {
		const manifest = JSON.parse(
			readFileSync(
				path.join(this.userFolder, '.n8n', 'nodes', 'node_modules', PACKAGE_NAME, 'package.json'),
				'utf8',
			),
		) as { version: string; author?: { name?: string; email?: string } };
		const script = `
			const sqlite3 = require(${JSON.stringify(path.join(this.install.folder, 'node_modules', 'sqlite3'))});
			const db = new sqlite3.Database(${JSON.stringify(path.join(this.userFolder, '.n8n', 'database.sqlite'))});
			db.serialize(() => {
				db.run('INSERT OR REPLACE INTO installed_packages ("packageName", "installedVersion", "authorName", "authorEmail") VALUES (?, ?, ?, ?)',
					[${JSON.stringify(PACKAGE_NAME)}, ${JSON.stringify(manifest.version)}, ${JSON.stringify(manifest.author?.name ?? null)}, ${JSON.stringify(manifest.author?.email ?? null)}]);
				db.run('INSERT OR REPLACE INTO installed_nodes ("name", "type", "latestVersion", "package") VALUES (?, ?, ?, ?)',
					['Kling Lip Sync', ${JSON.stringify(`${PACKAGE_NAME}.klingLipSync`)}, 1, ${JSON.stringify(PACKAGE_NAME)}],
					(error) => { if (error) { console.error(error.message); process.exitCode = 1; } });
			});
			db.close();`;
		await run(this.install.nodeBin, ['-e', script]);
	}

	async importJson(kind: 'credentials' | 'workflow', data: unknown): Promise<void> {
		const file = path.join(this.userFolder, `import-${kind}-${Date.now()}.json`);
		writeFileSync(file, JSON.stringify(data));
		const result = await this.cli([`import:${kind}`, `--input=${file}`]);
		rmSync(file);
		if (result.code !== 0 || !/(successfully )?imported/i.test(result.stdout + result.stderr)) {
			throw new Error(
				`n8n import:${kind} failed (${result.code}): ${result.stdout}\n${result.stderr}`,
			);
		}
	}

	/**
	 * `n8n execute --id --rawOutput`: it exits 0 even when misused, so the JSON is what counts
	 * (it starts at the first line beginning with "{" and ends at the first line that is "}": a
	 * failed execution prints its error after it).
	 */
	async execute(workflowId: string): Promise<{ result: ExecutionResult; cli: CliResult }> {
		const cli = await this.cli(['execute', `--id=${workflowId}`, '--rawOutput']);
		const lines = cli.stdout.split('\n');
		const start = lines.findIndex((line) => line.startsWith('{'));
		if (start < 0)
			throw new Error(
				`n8n execute printed no JSON (exit ${cli.code}):\n${cli.stdout}\n${cli.stderr}`,
			);
		const end = lines.findIndex((line, index) => index > start && line === '}');
		const json = lines.slice(start, end < 0 ? undefined : end + 1).join('\n');
		return { result: JSON.parse(json) as ExecutionResult, cli };
	}

	/** `n8n start`; resolves when the editor is up. `extraEnv` e.g. switches on queue mode. */
	async start(extraEnv: Record<string, string> = {}): Promise<void> {
		this.server = spawn(this.install.nodeBin, [this.n8nBin, 'start'], {
			env: this.env({ N8N_LOG_LEVEL: 'info', ...extraEnv }),
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		await this.waitForLine(
			this.server,
			'Editor is now accessible',
			(chunk) => (this.serverLog += chunk),
			'n8n start',
		);
	}

	/** `n8n worker` (queue mode), with a broker port of its own; its log is in `workerLog`. */
	async startWorker(extraEnv: Record<string, string>, concurrency: number): Promise<void> {
		const worker = spawn(
			this.install.nodeBin,
			[this.n8nBin, 'worker', `--concurrency=${concurrency}`],
			{
				env: this.env({
					N8N_LOG_LEVEL: 'info',
					N8N_RUNNERS_BROKER_PORT: String(await freePort()),
					// Each worker's health server (metrics) on a port of its own.
					QUEUE_HEALTH_CHECK_PORT: String(await freePort()),
					...extraEnv,
				}),
				stdio: ['ignore', 'pipe', 'pipe'],
			},
		);
		const index = this.workers.push(worker) - 1;
		let partial = '';
		const record = (chunk: string): void => {
			this.workerLog += chunk;
			const lines = (partial + chunk).split('\n');
			partial = lines.pop() ?? '';
			for (const line of lines) this.onWorkerLine?.(index, line, Date.now());
		};
		await this.waitForLine(
			worker,
			/[Ww]orker (is )?(ready|started)|n8n worker is now ready/,
			record,
			'n8n worker',
		);
	}

	private async waitForLine(
		child: ChildProcess,
		line: string | RegExp,
		record: (chunk: string) => void,
		name: string,
	): Promise<void> {
		let log = '';
		let started = false;
		const ready = new Promise<void>((resolve, reject) => {
			const onData = (chunk: Buffer): void => {
				record(chunk.toString());
				// Until it is up: the start-up log only (a long run's log is not searched again).
				if (started) return;
				log += chunk.toString();
				if (typeof line === 'string' ? log.includes(line) : line.test(log)) {
					started = true;
					resolve();
				}
			};
			child.stdout?.on('data', onData);
			child.stderr?.on('data', onData);
			child.on('exit', (code) =>
				reject(new Error(`${name} exited with ${code}:\n${log.slice(-3000)}`)),
			);
		});
		let timer: NodeJS.Timeout | undefined;
		const timeout = new Promise<never>((_, reject) => {
			timer = setTimeout(
				() => reject(new Error(`${name} did not start:\n${log.slice(-3000)}`)),
				120_000,
			);
		});
		try {
			await Promise.race([ready, timeout]);
		} finally {
			clearTimeout(timer);
		}
	}

	async stop(): Promise<void> {
		await Promise.all([this.server, ...this.workers].map(async (child) => await stopChild(child)));
		this.workers = [];
	}

	cleanup(): void {
		rmSync(this.userFolder, { recursive: true, force: true });
	}
}

function procStatus(pid: number | undefined): string | undefined {
	if (!pid) return undefined;
	try {
		return readFileSync(`/proc/${pid}/status`, 'utf8');
	} catch {
		return undefined;
	}
}

function rssMb(pid: number | undefined): number | undefined {
	const kb = /^VmRSS:\s+(\d+)/m.exec(procStatus(pid) ?? '')?.[1];
	return kb ? Math.round(Number(kb) / 1024) : undefined;
}

/** User + system CPU time of a process (s), from /proc/<pid>/stat (clock ticks of 1/100 s). */
function cpuSeconds(pid: number | undefined): number | undefined {
	if (!pid) return undefined;
	try {
		const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
		return (Number(fields[11]) + Number(fields[12])) / 100;
	} catch {
		return undefined;
	}
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
	if (!child || child.exitCode !== null) return;
	await new Promise<void>((resolve) => {
		child.once('exit', () => resolve());
		child.kill('SIGTERM');
		setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
	});
}

export interface ExecutionResult {
	data: {
		resultData: {
			error?: { message: string };
			runData: Record<
				string,
				Array<{ error?: { message: string }; data?: { main: Array<Array<ExecutionItem>> } }>
			>;
		};
	};
}

export interface ExecutionItem {
	json: Record<string, unknown>;
	binary?: Record<
		string,
		{
			mimeType: string;
			fileName?: string;
			fileSize?: string;
			bytes?: number;
			id?: string;
			data?: string;
		}
	>;
	pairedItem?: { item: number } | Array<{ item: number }>;
}

/** The example workflows, pointed at a credential id and with their sample URLs replaced. */
export function loadExample(
	name: string,
	replacements: Record<string, string>,
): Record<string, unknown> {
	let text = readFileSync(path.join(ROOT, 'examples', name), 'utf8');
	for (const [from, to] of Object.entries(replacements)) text = text.split(from).join(to);
	return JSON.parse(text) as Record<string, unknown>;
}
