/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
/**
 * n8n's waiting-webhook endpoint in small (packages/cli WaitingWebhooks + WebhookHelpers): a POST
 * to /webhook-waiting/<execution id> runs the waiting node's `webhook()` in n8n-core's real
 * WebhookContext; when it returns workflowData, the execution resumes in WorkflowExecute with the
 * waiting node disabled and fed that data, exactly as n8n resumes it. Non-final callbacks get
 * their answer and leave the execution waiting; callbacks are handled side by side while it
 * waits (n8n checks only the execution's status); once it resumes (runs), a callback gets 409.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExecutionLifecycleHooks, WebhookContext, WorkflowExecute } from 'n8n-core';
import type {
	INodeType,
	IRun,
	IRunExecutionData,
	IWebhookData,
	IWebhookResponseData,
	IWorkflowExecuteAdditionalData,
	Workflow,
} from 'n8n-workflow';
import { createDeferredPromise } from 'n8n-workflow';

export interface WaitingExecution {
	executionId: string;
	workflow: Workflow;
	nodeName: string;
	additionalData: IWorkflowExecuteAdditionalData;
	run: IRun;
}

interface Registration extends WaitingExecution {
	/** A callback resumed it: it runs (n8n answers 409 from then on). */
	resumed: boolean;
	resolve(run: IRun): void;
	reject(error: Error): void;
}

export interface ResumeServer {
	baseUrl: string;
	/** Callbacks received per execution id, with the status each was answered. */
	received: Array<{ executionId: string; status: number; body: string }>;
	register(execution: WaitingExecution): Promise<IRun>;
	stop(): Promise<void>;
}

/** A minimal Express-like response, enough for webhook() code; `deliver` sends what it answers. */
function expressResponse(deliver: (status: number, body: string) => void) {
	let sent = false;
	const adapter = {
		statusCode: 200,
		headers: {} as Record<string, string>,
		status(code: number) {
			adapter.statusCode = code;
			return adapter;
		},
		json(body: unknown) {
			return adapter.send(JSON.stringify(body));
		},
		send(body: unknown) {
			sent = true;
			deliver(adapter.statusCode, typeof body === 'string' ? body : JSON.stringify(body ?? ''));
			return adapter;
		},
		end() {
			return adapter.send('');
		},
		setHeader(name: string, value: string) {
			adapter.headers[name.toLowerCase()] = value;
			return adapter;
		},
		get headersSent() {
			return sent;
		},
	};
	return adapter;
}

export interface WebhookRequest {
	query?: Record<string, string>;
	headers?: Record<string, string>;
	rawBody: Buffer;
}

export interface WebhookCall {
	result: IWebhookResponseData;
	/** What the node answered itself, or n8n's answer from `webhookResponse`. */
	status: number;
	body: string;
	/** Headers the node set on its answer. */
	headers: Record<string, string>;
	/** When the answer was sent (the node may work on after it). */
	answeredAt: number;
}

/** Runs a node's webhook() for one request in n8n-core's WebhookContext (as n8n's webhook service). */
export async function callNodeWebhook(
	workflow: Workflow,
	nodeName: string,
	additionalData: IWorkflowExecuteAdditionalData,
	request: WebhookRequest,
	runExecutionData: IRunExecutionData | null,
): Promise<WebhookCall> {
	const node = workflow.getNode(nodeName)!;
	const nodeType = workflow.nodeTypes.getByNameAndVersion(node.type, node.typeVersion) as INodeType;
	let answered: { status: number; body: string; at: number } | undefined;
	const response = expressResponse((status, body) => {
		answered = { status, body, at: Date.now() };
	});
	const headers = Object.fromEntries(
		Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
	);
	const httpRequest = {
		method: 'POST',
		headers,
		query: request.query ?? {},
		params: {},
		body: request.rawBody.length ? (JSON.parse(request.rawBody.toString()) as unknown) : {},
		rawBody: request.rawBody,
	};
	const webhookAdditionalData = {
		...additionalData,
		httpRequest,
		httpResponse: response,
	} as unknown as IWorkflowExecuteAdditionalData;
	const webhookData: IWebhookData = {
		httpMethod: 'POST',
		node: node.name,
		path: nodeType.description.webhooks![0].path as string,
		webhookDescription: nodeType.description.webhooks![0],
		workflowId: workflow.id,
		workflowExecuteAdditionalData: webhookAdditionalData,
	};
	const context = new WebhookContext(
		workflow,
		node,
		webhookAdditionalData,
		'manual',
		webhookData,
		[],
		runExecutionData,
	);
	const result = await nodeType.webhook!.call(context);
	if (!result.noWebhookResponse)
		response.status(200).json(result.webhookResponse ?? { message: 'Workflow was started' });
	return {
		result,
		status: answered?.status ?? 0,
		body: answered?.body ?? '',
		headers: response.headers,
		answeredAt: answered?.at ?? Date.now(),
	};
}

export async function startResumeServer(): Promise<ResumeServer> {
	const waiting = new Map<string, Registration>();
	const received: ResumeServer['received'] = [];

	const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
		const url = new URL(req.url ?? '/', 'http://127.0.0.1');
		const chunks: Buffer[] = [];
		for await (const chunk of req) chunks.push(chunk as Buffer);
		const rawBody = Buffer.concat(chunks);
		const executionId = url.pathname.replace(/^\/webhook-waiting\//, '').split('/')[0];
		const answer = (status: number, body: unknown) => {
			received.push({ executionId, status, body: rawBody.toString() });
			res.writeHead(status, { 'content-type': 'application/json' });
			res.end(JSON.stringify(body));
		};
		const registration = waiting.get(executionId);
		if (req.method !== 'POST' || !url.pathname.startsWith('/webhook-waiting/') || !registration) {
			answer(404, { message: `The execution "${executionId}" does not exist or does not wait.` });
			return;
		}
		if (registration.resumed) {
			answer(409, { message: `The execution "${executionId}" is running already.` });
			return;
		}
		try {
			const { workflow, additionalData, run } = registration;
			// As n8n's WaitingWebhooks: each request works on the stored execution with the waiting
			// node's last run taken out of its run data (preserveInputOverride), so a webhook cannot
			// read what the node output before the wait.
			const seen = structuredClone(run.data);
			const runs = seen.resultData.runData[seen.resultData.lastNodeExecuted!];
			const popped = runs?.pop();
			if (popped?.inputOverride) runs?.push({ ...popped, data: undefined });
			const call = await callNodeWebhook(
				workflow,
				registration.nodeName,
				additionalData,
				{
					query: Object.fromEntries(url.searchParams),
					headers: req.headers as Record<string, string>,
					rawBody,
				},
				seen,
			);
			const result = call.result;
			// Another callback's webhook call resumed it meanwhile: this one meets a running execution.
			if (result.workflowData && registration.resumed) {
				answer(409, { message: `The execution "${executionId}" is running already.` });
				return;
			}
			answer(call.status, JSON.parse(call.body || '{}'));
			if (!result.workflowData) return;
			registration.resumed = true;

			// As n8n resumes: the waiting node is disabled and passes the webhook's data on.
			waiting.delete(executionId);
			const data = run.data;
			const entry = data.executionData!.nodeExecutionStack[0];
			entry.node.disabled = true;
			data.waitTill = undefined;
			data.resultData.runData[data.resultData.lastNodeExecuted!]?.pop();
			entry.data.main = result.workflowData;
			const hooks = new ExecutionLifecycleHooks('manual', executionId, workflow as never);
			const done = createDeferredPromise<IRun>();
			hooks.addHandler('workflowExecuteAfter', (finished) => done.resolve(finished));
			const resumedData = { ...additionalData, hooks } as IWorkflowExecuteAdditionalData;
			await new WorkflowExecute(resumedData, 'manual', data).processRunExecutionData(workflow);
			registration.resolve(await done.promise);
		} catch (error) {
			if (!res.headersSent) answer(500, { message: (error as Error).message });
			registration.reject(error as Error);
		}
	};

	const server = http.createServer((req, res) => {
		handle(req, res).catch(() => res.destroy());
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

	return {
		baseUrl,
		received,
		register(execution) {
			const finished = createDeferredPromise<IRun>();
			waiting.set(execution.executionId, {
				...execution,
				resumed: false,
				resolve: finished.resolve,
				reject: finished.reject,
			});
			return finished.promise;
		},
		async stop() {
			server.closeAllConnections();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}
