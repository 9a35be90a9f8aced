/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
/* Starts the Kling emulator from the command line: `npm run emulator -- --port 0 [--task-ms 3000]`. */
import { startEmulator } from './server';

function flag(name: string): string | undefined {
	const index = process.argv.indexOf(`--${name}`);
	return index >= 0 ? process.argv[index + 1] : undefined;
}

async function main(): Promise<void> {
	const emulator = await startEmulator({
		port: Number(flag('port') ?? 0),
		taskTimeMs: flag('task-ms') ? Number(flag('task-ms')) : undefined,
		concurrencyLimit: flag('concurrency') ? Number(flag('concurrency')) : undefined,
		webhookSecret: flag('webhook-secret'),
		resultBytes: flag('result-bytes') ? Number(flag('result-bytes')) : undefined,
		submittedMs: flag('submitted-ms') ? Number(flag('submitted-ms')) : undefined,
	});
	process.stdout.write(`${emulator.baseUrl}\n`);
	const stop = (): void => {
		void emulator.stop().then(() => process.exit(0));
	};
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
}

void main();
