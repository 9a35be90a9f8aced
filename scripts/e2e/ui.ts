/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
/**
 * The editor in headless Chromium (Debian's chromium + playwright-core): sign in, find the node
 * and its actions, open its panel, test the credential, execute the example from the UI.
 * Screenshots go to artifacts/ (ignored by git).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type APIRequestContext, type Page } from 'playwright-core';

import type { Emulator } from '../../test/emulator/server';
import { OWNER, ROOT, type N8nUser } from './n8n';
import { CREDENTIAL_ID, EXAMPLES, PROVIDERS, credential } from './examples';
import { readmeActions } from './readme';
import { CHROMIUM, ensureChromium } from './services';

export const ARTIFACTS = path.join(ROOT, 'artifacts');

export const CHROMIUM_ARGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
];

async function signIn(request: APIRequestContext, baseUrl: string): Promise<void> {
	const setup = await request.post(`${baseUrl}/rest/owner/setup`, { data: OWNER });
	if (setup.ok()) return;
	for (const data of [
		{ emailOrLdapLoginId: OWNER.email, password: OWNER.password },
		{ email: OWNER.email, password: OWNER.password },
	]) {
		if ((await request.post(`${baseUrl}/rest/login`, { data })).ok()) return;
	}
	throw new Error(
		`could not sign in: owner setup answered ${setup.status()} ${await setup.text()}`,
	);
}

/** Double-clicks a canvas node by its name: its box sits just above the name label. */
async function openNode(page: Page, name: string): Promise<void> {
	const label = page.getByText(name, { exact: true }).first();
	await label.waitFor({ timeout: 60_000 });
	const box = await label.boundingBox();
	assert.ok(box, `node "${name}" is not on the canvas`);
	await page.mouse.dblclick(box.x + box.width / 2, box.y - 60);
}

/** Screenshots README shows, by the name the e2e run gives them (`npm run docs:images`). */
const DOCS_IMAGES: Record<string, string> = {
	'2-lip-sync-panel': 'lip-sync-panel.png',
	'3b-dub-dialogue-panel': 'dub-dialogue-panel.png',
	'4-executed': 'workflow-executed.png',
	'6-actions': 'actions.png',
};

async function shot(page: Page, version: string, name: string): Promise<void> {
	mkdirSync(ARTIFACTS, { recursive: true });
	const file = path.join(ARTIFACTS, `n8n-${version}-${name}.png`);
	await page.screenshot({ path: file });
	if (process.env.E2E_DOCS_IMAGES && DOCS_IMAGES[name]) {
		copyFileSync(file, path.join(ROOT, 'docs', 'images', DOCS_IMAGES[name]));
	}
}

/** One Kling node per operation, each set so that its panel's hints have something to say. */
const PANEL_NODES: Array<{ name: string; parameters: Record<string, unknown> }> = [
	{ name: 'Panel Identify Face', parameters: { resource: 'face', operation: 'identifyFace' } },
	{
		name: 'Panel Lip Sync',
		parameters: { resource: 'lipSync', operation: 'lipSync', waitMode: 'callback' },
	},
	{
		name: 'Panel Lip Sync Video',
		parameters: {
			resource: 'lipSync',
			operation: 'lipSyncVideo',
			waitForCompletion: true,
			waitMode: 'callback',
			audioSource: 'audioId',
		},
	},
	{
		name: 'Panel Dub Dialogue',
		parameters: { resource: 'lipSync', operation: 'dubDialogue', waitMode: 'callback' },
	},
	{ name: 'Panel Get Task', parameters: { resource: 'lipSync', operation: 'getTask' } },
	{ name: 'Panel List Tasks', parameters: { resource: 'lipSync', operation: 'listTasks' } },
	{ name: 'Panel Text to Speech', parameters: { resource: 'audio', operation: 'textToSpeech' } },
];

const PANEL_HINTS: Array<{ name: string; shows: RegExp[]; hides: RegExp[] }> = [
	{ name: 'Panel Identify Face', shows: [/Video Source/], hides: [/Lip Sync Trigger/] },
	{
		name: 'Panel Lip Sync',
		shows: [/only when every item fits in Max Tasks in Flight/, /Kling must reach this n8n/],
		hides: [/holds an n8n worker until its tasks end/],
	},
	{
		name: 'Panel Lip Sync Video',
		shows: [/a larger batch polls instead/, /The node cannot measure audio it does not have/],
		hides: [/Lip Sync Trigger/, /MP3, WAV, M4A or AAC, 2-60 seconds/],
	},
	{
		name: 'Panel Dub Dialogue',
		shows: [
			/every speaker after the first needs an audio URL or a Kling Audio ID/,
			/n8n does not number them: the top one is Speaker 1/,
		],
		hides: [/Lip Sync Trigger/, /Wait for Completion off/],
	},
	{
		name: 'Panel Get Task',
		shows: [/Find Task By/, /Pick a task, or choose By ID and drag task_id from the input/],
		hides: [/Lip Sync Trigger/],
	},
	{ name: 'Panel List Tasks', shows: [/apimodels\.app and vtrix have no task list/], hides: [] },
	{
		name: 'Panel Text to Speech',
		shows: [/At most 1,000 characters/, /From 0\.8 \(slower\) to 2\.0 \(faster\)/],
		hides: [],
	},
];

function panelsWorkflow(): Record<string, unknown> {
	return {
		name: 'Kling panels',
		nodes: PANEL_NODES.map(({ name, parameters }, index) => ({
			id: `panel-${index}`,
			name,
			type: 'n8n-nodes-kling-lipsync.klingLipSync',
			typeVersion: 1.2,
			position: [index * 260, 0],
			credentials: { klingApi: { id: CREDENTIAL_ID, name: 'Kling API' } },
			parameters,
		})),
		connections: {},
		settings: { executionOrder: 'v1' },
	};
}

export async function checkEditor(n8n: N8nUser, emu: Emulator): Promise<void> {
	await ensureChromium();
	const browser = await chromium.launch({
		executablePath: CHROMIUM,
		args: CHROMIUM_ARGS,
	});
	const version = n8n.target.version;
	try {
		const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
		const page = await context.newPage();
		await signIn(context.request, n8n.baseUrl);

		// The credential test, as the credential dialog's "Test" runs it: each provider, right and
		// wrong keys.
		const testCredential = async (
			data: Record<string, unknown>,
		): Promise<{ status?: string; message?: string }> => {
			const response = await context.request.post(`${n8n.baseUrl}/rest/credentials/test`, {
				data: { credentials: { id: CREDENTIAL_ID, name: 'Kling API', type: 'klingApi', data } },
			});
			return (
				((await response.json()) as { data?: { status?: string; message?: string } }).data ?? {}
			);
		};
		for (const provider of PROVIDERS) {
			const { data } = credential(emu, provider) as { data: Record<string, unknown> };
			const right = await testCredential(data);
			assert.equal(
				right.status,
				'OK',
				`credential test (${provider}, right keys): ${JSON.stringify(right)}`,
			);
			const wrong = await testCredential({ ...data, apiKey: 'wrong', secretKey: 'wrong' });
			assert.equal(
				wrong.status,
				'Error',
				`credential test (${provider}, wrong keys): ${JSON.stringify(wrong)}`,
			);
		}

		await page.goto(`${n8n.baseUrl}/workflow/${EXAMPLES.single.id}`);
		await page.getByText('Lip Sync', { exact: true }).first().waitFor({ timeout: 60_000 });
		await shot(page, version, '1-workflow');

		// The node's panel: the Lip Sync action's fields.
		await openNode(page, 'Lip Sync');
		for (const field of [
			'Session ID',
			'Face ID',
			'Audio Source',
			'Audio URL',
			'Crop Start (Milliseconds)',
			'Crop End (Milliseconds)',
			'Insert At (Milliseconds)',
			'Wait for Completion',
			'Download Video',
		]) {
			await page.getByText(field, { exact: true }).first().waitFor({ timeout: 15_000 });
		}
		// The hint of the wait mode set (Poll), for this operation.
		await page
			.getByText(/The execution holds an n8n worker until its tasks end/)
			.first()
			.waitFor({ timeout: 15_000 });
		await shot(page, version, '2-lip-sync-panel');
		await page.keyboard.press('Escape');

		// The Identify Face action's fields.
		await openNode(page, 'Identify Face');
		for (const field of ['Video Source', 'Video URL', 'Output', 'Fail When No Face Is Found']) {
			await page.getByText(field, { exact: true }).first().waitFor({ timeout: 15_000 });
		}
		await shot(page, version, '3-identify-face-panel');
		await page.keyboard.press('Escape');

		// Dub Dialogue's panel: its speakers, and the editor hint that says what a dialogue costs
		// (n8n evaluates the hint's condition on the speakers set).
		await page.goto(`${n8n.baseUrl}/workflow/${EXAMPLES.dialogue.id}`);
		await openNode(page, 'Dub Dialogue');
		for (const field of [
			'Video Source',
			'Speakers',
			'Face',
			'Visible At (Milliseconds)',
			'Audio Source',
			'Audio Placement',
			'Wait Mode',
			'Download Video',
		]) {
			await page.getByText(field, { exact: true }).first().waitFor({ timeout: 15_000 });
		}
		await page
			.getByText(/Each item \(dialogue\) costs 2 lip-sync tasks and 2 Identify Face calls/)
			.first()
			.waitFor({ timeout: 15_000 });
		// No hint here points to a switch or a trigger Dub Dialogue does not have.
		assert.equal(
			await page.getByText(/Lip Sync Trigger|Wait for Completion off/).count(),
			0,
			"Dub Dialogue's panel speaks of the trigger or of Wait for Completion",
		);
		await shot(page, version, '3b-dub-dialogue-panel');
		await page.keyboard.press('Escape');

		// Every operation's panel, in the wait mode that has something to say, and the hints it shows
		// (and, where a hint would not be true, does not show).
		const panels = await context.request.post(`${n8n.baseUrl}/rest/workflows`, {
			data: panelsWorkflow(),
		});
		assert.ok(panels.ok(), `could not save the panels workflow: ${panels.status()}`);
		const panelsId = ((await panels.json()) as { data: { id: string } }).data.id;
		for (const { name, shows, hides } of PANEL_HINTS) {
			await page.goto(`${n8n.baseUrl}/workflow/${panelsId}`);
			await openNode(page, name);
			for (const text of shows) {
				await page
					.getByText(text)
					.first()
					.waitFor({ timeout: 15_000 })
					.catch(() => {
						throw new Error(`the ${name} panel does not show ${String(text)}`);
					});
			}
			for (const text of hides) {
				assert.equal(
					await page.getByText(text).count(),
					0,
					`the ${name} panel shows ${String(text)}`,
				);
			}
			await page.keyboard.press('Escape');
		}

		// Execute the saved example from the editor.
		await page.goto(`${n8n.baseUrl}/workflow/${EXAMPLES.single.id}`);
		await page.getByText('Lip Sync', { exact: true }).first().waitFor({ timeout: 60_000 });
		emu.resetStats();
		await page.locator('[data-test-id="execute-workflow-button"]').first().click();
		const deadline = Date.now() + 60_000;
		while (emu.stats.tasksCreated === 0 || emu.runningTasks() > 0) {
			assert.ok(Date.now() < deadline, 'the workflow run from the editor created no finished task');
			await page.waitForTimeout(250);
		}
		await page
			.getByText(/Workflow executed successfully|executed successfully/i)
			.first()
			.waitFor({ timeout: 30_000 });
		await shot(page, version, '4-executed');

		// The nodes panel lists the node's actions (in a new workflow: n8n autosaves, and the
		// example must stay as it is).
		await page.goto(`${n8n.baseUrl}/workflow/new`);
		await page.locator('[data-test-id="node-creator-plus-button"]').first().click();
		await page.waitForTimeout(500);
		await page.keyboard.type('Manual');
		await page.waitForTimeout(500);
		await page.keyboard.press('Enter');
		await page.waitForTimeout(1000);
		await page.locator('[data-test-id="node-creator-plus-button"]').first().click();
		await page.waitForTimeout(500);
		await page.keyboard.type('Kling');
		await page.waitForTimeout(500);
		await shot(page, version, '5-search');
		await page
			.locator('[data-test-id="node-creator"]')
			.getByText('Kling Lip Sync', { exact: true })
			.first()
			.click();
		// Every action README's Actions table names, as the nodes panel shows it.
		for (const action of readmeActions()) {
			await page
				.getByText(action, { exact: true })
				.first()
				.waitFor({ timeout: 15_000 })
				.catch(() => {
					throw new Error(
						`README's Actions table names "${action}", which the nodes panel does not show`,
					);
				});
		}
		await shot(page, version, '6-actions');
		await page.getByText('Get lip sync task', { exact: true }).first().click();
		for (const field of [
			'Resource',
			'Operation',
			'Find Task By',
			'Task ID',
			'Wait for Completion',
		]) {
			await page.getByText(field, { exact: true }).first().waitFor({ timeout: 15_000 });
		}
		await shot(page, version, '7-get-task-panel');
		await page.keyboard.press('Escape');

		// And List Tasks, added from the nodes panel the same way.
		await page.locator('[data-test-id="node-creator-plus-button"]').first().click();
		await page.waitForTimeout(500);
		await page.keyboard.type('Kling');
		await page
			.locator('[data-test-id="node-creator"]')
			.getByText('Kling Lip Sync', { exact: true })
			.first()
			.click();
		await page
			.locator('[data-test-id="node-creator"]')
			.getByText('List lip sync tasks', { exact: true })
			.first()
			.click();
		for (const field of ['Return All', 'Limit']) {
			await page.getByText(field, { exact: true }).first().waitFor({ timeout: 15_000 });
		}
		await shot(page, version, '8-list-tasks-panel');
	} finally {
		await browser.close();
	}
}
