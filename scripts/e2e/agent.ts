/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
/**
 * The node as an AI agent's tool, in real n8n: an AI Agent with an OpenAI chat model pointed at a
 * small OpenAI-compatible server on 127.0.0.1 that this check runs. The server answers the first
 * request with a call to the Kling tool (arguments built from the tool's own schema) and the next,
 * which carries the tool's answer, with text that quotes it. Checked: the call reaches the
 * emulator, a task is made and waited for, and the agent gets its video URL and task_id; bad
 * arguments get an answer the agent can read, and nothing is billed for them.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Emulator } from '../../test/emulator/server';
import { CREDENTIAL_ID } from './examples';
import type { ExecutionResult, N8nUser } from './n8n';

interface ToolSchema {
	type: 'function';
	function: { name: string; parameters?: { properties?: Record<string, unknown> } };
}

interface ChatMessage {
	role: string;
	content?: unknown;
	tool_call_id?: string;
}

/** What the fake model was asked: every request's messages, and the tools it was offered. */
interface FakeModel {
	url: string;
	requests: Array<{ messages: ChatMessage[]; tools: ToolSchema[] }>;
	/** The arguments it calls the tool with, by parameter name (a name it does not know: "?"). */
	arguments: (name: string) => string;
	stop(): Promise<void>;
}

const completion = (message: Record<string, unknown>, finish: string) => ({
	id: `chatcmpl-${Date.now()}`,
	object: 'chat.completion',
	created: Math.floor(Date.now() / 1000),
	model: 'kling-e2e-model',
	choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish }],
	usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
});

async function startFakeModel(): Promise<FakeModel> {
	const model: Omit<FakeModel, 'url' | 'stop'> = { requests: [], arguments: () => '?' };
	const server = http.createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on('data', (chunk: Buffer) => chunks.push(chunk));
		req.on('end', () => {
			const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {
				messages?: ChatMessage[];
				tools?: ToolSchema[];
			};
			const messages = body.messages ?? [];
			const tools = body.tools ?? [];
			model.requests.push({ messages, tools });
			const answered = messages.find((message) => message.role === 'tool');
			const tool = tools.find((candidate) => /kling/i.test(candidate.function.name)) ?? tools[0];
			const reply =
				answered || !tool
					? completion(
							{ content: `The tool answered: ${String(answered?.content ?? 'nothing')}` },
							'stop',
						)
					: completion(
							{
								content: null,
								tool_calls: [
									{
										id: 'call_kling_1',
										type: 'function',
										function: {
											name: tool.function.name,
											arguments: JSON.stringify(
												Object.fromEntries(
													Object.keys(tool.function.parameters?.properties ?? {}).map((name) => [
														name,
														model.arguments(name),
													]),
												),
											),
										},
									},
								],
							},
							'tool_calls',
						);
			const text = JSON.stringify(reply);
			res.writeHead(200, {
				'content-type': 'application/json',
				'content-length': Buffer.byteLength(text),
			});
			res.end(text);
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return Object.assign(model, {
		url: `http://127.0.0.1:${port}/v1`,
		stop: async () => await new Promise<void>((resolve) => server.close(() => resolve())),
	});
}

const AGENT_WORKFLOW_ID = 'klingAgentTool01';
const OPENAI_CREDENTIAL_ID = 'kling-e2e-openai';

function agentWorkflow(): Record<string, unknown> {
	return {
		id: AGENT_WORKFLOW_ID,
		name: 'Kling Lip Sync as an agent tool',
		nodes: [
			{
				id: 'a-start',
				name: 'Start',
				type: 'n8n-nodes-base.manualTrigger',
				typeVersion: 1,
				position: [0, 0],
				parameters: {},
			},
			{
				id: 'a-agent',
				name: 'AI Agent',
				type: '@n8n/n8n-nodes-langchain.agent',
				typeVersion: 3,
				position: [220, 0],
				parameters: {
					promptType: 'define',
					text: 'Lip-sync my interview video to the new English audio track, and tell me where the result is.',
					options: {},
				},
			},
			{
				id: 'a-model',
				name: 'Chat Model',
				type: '@n8n/n8n-nodes-langchain.lmChatOpenAi',
				typeVersion: 1.2,
				position: [220, 220],
				credentials: { openAiApi: { id: OPENAI_CREDENTIAL_ID, name: 'Fake model' } },
				parameters: { model: { __rl: true, mode: 'id', value: 'kling-e2e-model' }, options: {} },
			},
			{
				id: 'a-kling',
				name: 'Kling Lip Sync',
				type: 'n8n-nodes-kling-lipsync.klingLipSyncTool',
				typeVersion: 1.1,
				position: [440, 220],
				credentials: { klingApi: { id: CREDENTIAL_ID, name: 'Kling API' } },
				parameters: {
					resource: 'lipSync',
					operation: 'lipSyncVideo',
					videoUrl: "={{ $fromAI('video_url', 'The URL of the video to lip-sync', 'string') }}",
					audioSource: 'url',
					audioUrl: "={{ $fromAI('audio_url', 'The URL of the new audio track', 'string') }}",
					downloadVideo: false,
					waitOptions: { pollIntervalSeconds: 0.5, maxWaitMinutes: 2 },
				},
			},
		],
		connections: {
			Start: { main: [[{ node: 'AI Agent', type: 'main', index: 0 }]] },
			'Chat Model': {
				ai_languageModel: [[{ node: 'AI Agent', type: 'ai_languageModel', index: 0 }]],
			},
			'Kling Lip Sync': { ai_tool: [[{ node: 'AI Agent', type: 'ai_tool', index: 0 }]] },
		},
		settings: { executionOrder: 'v1' },
		pinData: {},
	};
}

/** The agent's answer, from its output. */
function agentAnswer(result: ExecutionResult): string {
	assert.equal(
		result.data.resultData.error,
		undefined,
		`workflow error: ${result.data.resultData.error?.message}`,
	);
	const output = result.data.resultData.runData['AI Agent']?.[0]?.data?.main[0]?.[0]?.json.output;
	assert.equal(
		typeof output,
		'string',
		`the agent gave no answer: ${JSON.stringify(result.data.resultData.runData['AI Agent'])}`,
	);
	return String(output);
}

/** The agent calls the node as its tool: a task made and waited for; bad arguments explained and not billed. */
export async function checkAgentTool(n8n: N8nUser, emu: Emulator): Promise<void> {
	const model = await startFakeModel();
	try {
		n8n.useEnv({ N8N_COMMUNITY_PACKAGES_ALLOW_TOOL_USAGE: 'true' });
		await n8n.importJson('credentials', [
			{
				id: OPENAI_CREDENTIAL_ID,
				name: 'Fake model',
				type: 'openAiApi',
				data: { apiKey: 'sk-e2e', url: model.url },
			},
		]);
		await n8n.importJson('workflow', [agentWorkflow()]);

		const fixtures = `${emu.baseUrl}/media/fixtures`;
		model.arguments = (name) =>
			/video/i.test(name)
				? 'https://cdn.example.com/interview.mp4?durationMs=8000&faces=0-8000'
				: /audio/i.test(name)
					? `${fixtures}/tone-3s.wav`
					: '?';
		emu.resetStats();
		const good = await n8n.execute(AGENT_WORKFLOW_ID);
		const answer = agentAnswer(good.result);
		const offered = model.requests[0]?.tools.map((tool) => tool.function.name) ?? [];
		assert.ok(offered.length > 0, 'the agent offered the model no tool');
		assert.equal(emu.stats.billed.create, 1, 'the tool call made one lip-sync task');
		const toolAnswer = String(
			model.requests[1]?.messages.find((message) => message.role === 'tool')?.content ?? '',
		);
		assert.match(
			toolAnswer,
			/"task_status":\s*"succeed"/,
			`the tool's answer: ${toolAnswer.slice(0, 300)}`,
		);
		assert.match(toolAnswer, /"task_id":\s*"\d{18}"/);
		assert.match(toolAnswer, /media\/results\/\d{18}\.mp4/, 'the answer carries the video URL');
		assert.match(answer, /task_id/, `the agent's answer: ${answer.slice(0, 300)}`);

		// The model sends arguments the node refuses: the agent reads why; nothing is billed.
		model.requests.length = 0;
		model.arguments = (name) =>
			/video/i.test(name) ? 'not a video address' : `${fixtures}/tone-3s.wav`;
		emu.resetStats();
		const bad = await n8n.execute(AGENT_WORKFLOW_ID);
		const badAnswer = agentAnswer(bad.result);
		const refusal = String(
			model.requests[1]?.messages.find((message) => message.role === 'tool')?.content ?? '',
		);
		assert.match(
			refusal,
			/Video URL/,
			`the tool's answer to bad arguments: ${refusal.slice(0, 300)}`,
		);
		assert.match(badAnswer, /Video URL/);
		assert.equal(emu.stats.billed.create, 0, 'nothing billed for bad arguments');
		assert.equal(emu.stats.billed.identify, 0, 'not even an Identify Face');
		console.log(
			`    agent tool: offered ${offered.join(', ')}; good call -> 1 task, answer ${toolAnswer.length} characters; bad call -> refused ("${refusal.slice(0, 80)}"), 0 billed`,
		);
	} finally {
		await model.stop();
	}
}
