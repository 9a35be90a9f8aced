/**
 * n8n's waiting-webhook endpoint in small (packages/cli WaitingWebhooks + WebhookHelpers): a POST
 * to /webhook-waiting/<execution id> runs the waiting node's `webhook()` in n8n-core's real
 * WebhookContext; when it returns workflowData, the execution resumes in WorkflowExecute with the
 * waiting node disabled and fed that data, exactly as n8n resumes it. Non-final callbacks get
 * their answer and leave the execution waiting; a callback while it runs gets 409.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExecutionLifecycleHooks, WebhookContext, WorkflowExecute } from 'n8n-core';
import type { INodeType, IRun, IWebhookData, IWorkflowExecuteAdditionalData, Workflow } from 'n8n-workflow';
import { createDeferredPromise } from 'n8n-workflow';

export interface WaitingExecution {
	executionId: string;
	workflow: Workflow;
	nodeName: string;
	additionalData: IWorkflowExecuteAdditionalData;
	run: IRun;
}

interface Registration extends WaitingExecution {
	busy: boolean;
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

/** A minimal Express-like response over Node's, enough for webhook() code. */
function expressResponse(res: http.ServerResponse) {
	const adapter = {
		statusCode: 200,
		status(code: number) {
			adapter.statusCode = code;
			return adapter;
		},
		json(body: unknown) {
			res.writeHead(adapter.statusCode, { 'content-type': 'application/json' });
			res.end(JSON.stringify(body));
			return adapter;
		},
		send(body: unknown) {
			res.writeHead(adapter.statusCode);
			res.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
			return adapter;
		},
		end() {
			res.writeHead(adapter.statusCode);
			res.end();
			return adapter;
		},
		setHeader: (name: string, value: string) => res.setHeader(name, value),
		get headersSent() {
			return res.headersSent;
		},
	};
	return adapter;
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
		if (registration.busy) {
			answer(409, { message: `The execution "${executionId}" is running already.` });
			return;
		}
		registration.busy = true;
		try {
			const { workflow, additionalData, run } = registration;
			const node = workflow.getNode(registration.nodeName);
			const nodeType = workflow.nodeTypes.getByNameAndVersion(node!.type, node!.typeVersion) as INodeType;
			const response = expressResponse(res);
			const request = {
				method: 'POST',
				url: req.url,
				headers: req.headers,
				query: Object.fromEntries(url.searchParams),
				params: {},
				body: rawBody.length ? (JSON.parse(rawBody.toString()) as unknown) : {},
				rawBody,
			};
			const webhookAdditionalData = { ...additionalData, httpRequest: request, httpResponse: response } as unknown as IWorkflowExecuteAdditionalData;
			const webhookDescription = nodeType.description.webhooks![0];
			const webhookData: IWebhookData = {
				httpMethod: 'POST',
				node: node!.name,
				path: '',
				webhookDescription,
				workflowId: workflow.id,
				workflowExecuteAdditionalData: webhookAdditionalData,
			};
			const context = new WebhookContext(workflow, node!, webhookAdditionalData, 'manual', webhookData, [], run.data);
			const result = await nodeType.webhook!.call(context);
			received.push({ executionId, status: result.noWebhookResponse ? response.statusCode : 200, body: rawBody.toString() });
			if (!result.noWebhookResponse) response.status(200).json(result.webhookResponse ?? { message: 'Workflow was started' });
			if (!result.workflowData) return;

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
		} finally {
			registration.busy = false;
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
			waiting.set(execution.executionId, { ...execution, busy: false, resolve: finished.resolve, reject: finished.reject });
			return finished.promise;
		},
		async stop() {
			server.closeAllConnections();
			await new Promise<void>((resolve) => server.close(() => resolve()));
		},
	};
}
