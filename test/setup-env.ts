/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// n8n-core writes its config below N8N_USER_FOLDER: keep every test run in its own temp folder.
process.env.N8N_USER_FOLDER ??= mkdtempSync(path.join(tmpdir(), 'kling-n8n-'));
