import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// n8n-core writes its config below N8N_USER_FOLDER: keep every test run in its own temp folder.
process.env.N8N_USER_FOLDER ??= mkdtempSync(path.join(tmpdir(), 'kling-n8n-'));
