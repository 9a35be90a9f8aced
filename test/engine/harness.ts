/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
/**
 * Runs workflows through n8n's real engine (n8n-core's WorkflowExecute) in-process: real
 * expressions, parameter resolution, pairedItem, continueOnFail, credentials' `authenticate`,
 * binary data (memory or filesystem store) and the cancel signal. Our small equivalent of n8n's
 * unpublished NodeTestHarness (packages/core/nodes-testing).
 */
import { Container } from '@n8n/di';
import { createReadStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
	BinaryDataService,
	ErrorReporter,
	ExecutionLifecycleHooks,
	LoadOptionsContext,
	WorkflowExecute,
} from 'n8n-core';
import type { BinaryDataConfig } from 'n8n-core';
import type {
	ICredentialDataDecryptedObject,
	ICredentials,
	ICredentialType,
	IDataObject,
	IExecuteFunctions,
	IHttpRequestOptions,
	INode,
	INodeExecutionData,
	INodeListSearchResult,
	INodeParameters,
	INodeType,
	INodeTypes,
	IRun,
	IWorkflowExecuteAdditionalData,
	IVersionedNodeType,
} from 'n8n-workflow';
import {
	createDeferredPromise,
	createRunExecutionData,
	ICredentialsHelper,
	NodeHelpers,
	Workflow,
} from 'n8n-workflow';

import { KlingApi } from '../../credentials/KlingApi.credentials';
import { KlingWebhookApi } from '../../credentials/KlingWebhookApi.credentials';
import {
	callNodeWebhook,
	type ResumeServer,
	type WebhookCall,
	type WebhookRequest,
} from './resume';
import { assertNoSecrets, logMark, logSince, serialize } from './secrets';

/** n8n numbers executions; a new id per run, as the derived external_task_ids depend on it. */
let executionCount = Date.now();

export const NODE_TYPE = 'n8n-nodes-kling-lipsync.klingLipSync';
export const ITEMS_NODE_TYPE = 'test.items';

/** The test's start node: emits the items (and binary files) given in its parameters. */
class ItemsNode implements INodeType {
	description = {
		displayName: 'Test Items',
		name: ITEMS_NODE_TYPE,
		group: ['input'],
		version: 1,
		description: 'Emits test items',
		defaults: { name: 'Items' },
		inputs: ['main'],
		outputs: ['main'],
		properties: [
			{ displayName: 'Items', name: 'items', type: 'json', default: '[]' },
			{ displayName: 'Binary', name: 'binary', type: 'json', default: '[]' },
		],
	} as unknown as INodeType['description'];

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = JSON.parse(this.getNodeParameter('items', 0) as string) as IDataObject[];
		const binaries = JSON.parse(this.getNodeParameter('binary', 0) as string) as Array<{
			item: number;
			property: string;
			fileName: string;
			base64?: string;
			path?: string;
			mimeType: string;
		}>;
		const output: INodeExecutionData[] = items.map((json) => ({ json }));
		for (const file of binaries) {
			// A file on disk is streamed into the binary store: large batches never sit in memory here.
			const source = file.path
				? createReadStream(file.path)
				: Buffer.from(file.base64 ?? '', 'base64');
			const data = await this.helpers.prepareBinaryData(source, file.fileName, file.mimeType);
			output[file.item].binary = { ...output[file.item].binary, [file.property]: data };
		}
		return [output];
	}
}

// By file name: plain Node (ts-node in scripts/) would resolve "KlingLipSync.node" to the codex .json.
const { KlingLipSync } = require(
	path.join(__dirname, '..', '..', 'nodes', 'KlingLipSync', 'KlingLipSync.node.ts'),
) as typeof import('../../nodes/KlingLipSync/KlingLipSync.node');

/** The resource each operation belongs to, read from the node's panel (each resource's Operation list). */
const RESOURCE_OF: Record<string, string> = Object.fromEntries(
	new KlingLipSync().description.properties
		.filter((property) => property.name === 'operation')
		.flatMap((property) =>
			(property.options ?? []).map((option) => [
				'value' in option ? String(option.value) : '',
				String(property.displayOptions?.show?.resource?.[0]),
			]),
		),
);

function withResource(parameters: IDataObject): IDataObject {
	const operation = typeof parameters.operation === 'string' ? parameters.operation : 'lipSync';
	return parameters.resource === undefined
		? { resource: RESOURCE_OF[operation] ?? 'lipSync', ...parameters }
		: parameters;
}

const { KlingLipSyncTrigger } = require(
	path.join(__dirname, '..', '..', 'nodes', 'KlingLipSyncTrigger', 'KlingLipSyncTrigger.node.ts'),
) as typeof import('../../nodes/KlingLipSyncTrigger/KlingLipSyncTrigger.node');

export const TRIGGER_NODE_TYPE = 'n8n-nodes-kling-lipsync.klingLipSyncTrigger';

const nodeTypeMap: Record<string, INodeType | IVersionedNodeType> = {
	[NODE_TYPE]: new KlingLipSync(),
	[TRIGGER_NODE_TYPE]: new KlingLipSyncTrigger(),
	[ITEMS_NODE_TYPE]: new ItemsNode(),
};

const nodeTypes: INodeTypes = {
	getByName: (name) => nodeTypeMap[name],
	getByNameAndVersion: (name, version) =>
		NodeHelpers.getVersionedNodeType(nodeTypeMap[name], version),
	getKnownTypes: () => ({}),
};

const credentialTypes: Record<string, ICredentialType> = {
	klingApi: new KlingApi(),
	klingWebhookApi: new KlingWebhookApi(),
};

/** Hands the node the test's credential data and signs requests with the credential's own code. */
class TestCredentialsHelper extends ICredentialsHelper {
	constructor(private readonly data: Record<string, ICredentialDataDecryptedObject>) {
		super();
	}

	getParentTypes(): string[] {
		return [];
	}

	async authenticate(
		credentials: ICredentialDataDecryptedObject,
		typeName: string,
		requestOptions: IHttpRequestOptions,
	): Promise<IHttpRequestOptions> {
		const authenticate = credentialTypes[typeName]?.authenticate;
		const signed =
			typeof authenticate === 'function'
				? await authenticate(credentials, requestOptions)
				: requestOptions;
		// Every token the credential signs is a secret the run's data and log must not contain.
		const authorization = String(
			signed.headers?.Authorization ?? signed.headers?.authorization ?? '',
		);
		if (authorization) signedTokens.add(authorization.replace(/^Bearer\s+/i, ''));
		return signed;
	}

	async preAuthentication(): Promise<undefined> {
		return undefined;
	}

	async getCredentials(): Promise<ICredentials> {
		throw new Error('not used by the engine for decrypted credentials');
	}

	async getDecrypted(
		_additionalData: unknown,
		_nodeCredentials: unknown,
		type: string,
	): Promise<ICredentialDataDecryptedObject> {
		return this.data[type] ?? {};
	}

	async updateCredentials(): Promise<void> {}

	async updateCredentialsOauthTokenData(): Promise<void> {}

	getCredentialsProperties(type: string) {
		return credentialTypes[type]?.properties ?? [];
	}
}

const signedTokens = new Set<string>();

let filesystemStore: string | undefined;

/** Switches n8n's binary data to the filesystem store (as `N8N_DEFAULT_BINARY_DATA_MODE=filesystem`). */
export async function useFilesystemBinaryData(): Promise<string> {
	if (filesystemStore) return filesystemStore;
	filesystemStore = mkdtempSync(path.join(tmpdir(), 'kling-binary-'));
	const config = {
		mode: 'filesystem',
		availableModes: ['filesystem'],
		localStoragePath: filesystemStore,
		signingSecret: 'test-signing-secret',
		dbMaxFileSize: 512,
	} as unknown as BinaryDataConfig;
	const service = new BinaryDataService(config, Container.get(ErrorReporter), {
		debug() {},
		info() {},
		warn() {},
		error() {},
		scoped() {
			return this;
		},
	} as never);
	await service.init();
	Container.set(BinaryDataService, service);
	return filesystemStore;
}

export interface BinaryInput {
	item: number;
	property: string;
	fileName: string;
	/** The file's bytes, or `path`: a file on disk, streamed into the binary store. */
	bytes?: Buffer;
	path?: string;
	mimeType: string;
}

export interface RunOptions {
	parameters: IDataObject;
	items?: IDataObject[];
	binary?: BinaryInput[];
	credentials?: ICredentialDataDecryptedObject;
	continueOnFail?: boolean;
	/** Stops the execution (as the UI's stop button does) after this many ms. */
	cancelAfterMs?: number;
	/** Where a waiting execution's resume URL points (Callback wait mode). */
	resumeServer?: ResumeServer;
	/** The node's version (default 1). */
	typeVersion?: number;
}

export interface RunResult {
	run: IRun;
	/** The Kling node's output items (empty when it failed). */
	output: INodeExecutionData[];
	/** The error the Kling node ended with, if it did. */
	error?: { message: string; description?: string | null; context?: IDataObject; name?: string };
	status: IRun['status'];
	executionId?: string;
	/** For a waiting execution: resolves when a callback resumed it and it finished. */
	resumed?: () => Promise<RunResult>;
}

export type CredentialMode = 'accessKey' | 'apiKey' | 'klingProxy' | 'apimodels' | 'vtrix';

/** A credential pointing at the emulator: Kling with a key pair or an API key, or a /kling proxy. */
export function emulatorCredentials(
	baseUrl: string,
	mode: CredentialMode = 'accessKey',
): ICredentialDataDecryptedObject {
	if (mode === 'klingProxy')
		return { provider: 'klingProxy', apiKey: 'test-api-key', baseUrl: `${baseUrl}/kling/` };
	if (mode === 'apimodels')
		return { provider: 'apimodels', apiKey: 'test-api-key', apimodelsBaseUrl: baseUrl };
	if (mode === 'vtrix') return { provider: 'vtrix', apiKey: 'test-api-key', vtrixBaseUrl: baseUrl };
	return mode === 'apiKey'
		? { provider: 'kling', authType: 'apiKey', apiKey: 'test-api-key', region: 'custom', baseUrl }
		: {
				provider: 'kling',
				authType: 'accessKey',
				accessKey: 'test-access-key',
				secretKey: 'test-secret-key',
				region: 'custom',
				baseUrl,
			};
}

/** What n8n hands the engine besides the workflow: credentials, hooks and its URLs. */
function engineAdditionalData(
	credentials: Record<string, ICredentialDataDecryptedObject>,
	hooks: ExecutionLifecycleHooks,
	webhookWaitingBaseUrl = 'http://127.0.0.1/webhook-waiting',
): IWorkflowExecuteAdditionalData {
	return {
		credentialsHelper: new TestCredentialsHelper(credentials),
		hooks,
		currentNodeExecutionIndex: 0,
		restApiUrl: 'http://127.0.0.1/rest',
		instanceBaseUrl: 'http://127.0.0.1/',
		formWaitingBaseUrl: 'http://127.0.0.1/form-waiting',
		webhookBaseUrl: 'http://127.0.0.1/webhook',
		webhookWaitingBaseUrl,
		webhookTestBaseUrl: 'http://127.0.0.1/webhook-test',
		variables: {},
		executeWorkflow: async () => {
			throw new Error('not supported in tests');
		},
		getRunExecutionData: async () => undefined,
		logAiEvent: () => {},
		startRunnerTask: async () => {
			throw new Error('not supported in tests');
		},
	} as unknown as IWorkflowExecuteAdditionalData;
}

/** The Kling Lip Sync node as a workflow holds it, with the test's credential. */
function klingNodeWith(parameters: IDataObject | INodeParameters, typeVersion = 1): INode {
	return {
		id: 'kling',
		name: 'Kling',
		type: NODE_TYPE,
		typeVersion,
		position: [200, 0],
		parameters: withResource(parameters) as INode['parameters'],
		credentials: { klingApi: { id: '1', name: 'Kling account' } },
	};
}

/** Builds Items -> Kling Lip Sync and runs it in n8n's engine. */
export async function runKlingNode(options: RunOptions): Promise<RunResult> {
	const itemsNode: INode = {
		id: 'items',
		name: 'Items',
		type: ITEMS_NODE_TYPE,
		typeVersion: 1,
		position: [0, 0],
		parameters: {
			items: JSON.stringify(options.items ?? [{}]),
			binary: JSON.stringify(
				(options.binary ?? []).map((b) => ({
					...b,
					bytes: undefined,
					base64: b.bytes?.toString('base64'),
				})),
			),
		},
	};
	const klingNode: INode = {
		...klingNodeWith(options.parameters, options.typeVersion),
		...(options.continueOnFail ? { onError: 'continueRegularOutput' as const } : {}),
	};
	const workflow = new Workflow({
		id: 'test-workflow',
		name: 'Kling test',
		nodes: [itemsNode, klingNode],
		connections: { Items: { main: [[{ node: 'Kling', type: 'main', index: 0 }]] } },
		active: false,
		nodeTypes,
		settings: { executionOrder: 'v1' },
	});

	const executionId = String(++executionCount);
	const hooks = new ExecutionLifecycleHooks('manual', executionId, workflow as never);
	const done = createDeferredPromise<IRun>();
	hooks.addHandler('workflowExecuteAfter', (run) => done.resolve(run));
	const additionalData = {
		...engineAdditionalData(
			{ klingApi: options.credentials ?? {} },
			hooks,
			options.resumeServer ? `${options.resumeServer.baseUrl}/webhook-waiting` : undefined,
		),
		executionId,
	} as IWorkflowExecuteAdditionalData;

	const runExecutionData = createRunExecutionData({
		executionData: {
			nodeExecutionStack: [{ node: itemsNode, data: { main: [[{ json: {} }]] }, source: null }],
		},
	});
	signedTokens.clear();
	const logStart = logMark();
	const execution = new WorkflowExecute(
		additionalData,
		'manual',
		runExecutionData,
	).processRunExecutionData(workflow);
	let timer: NodeJS.Timeout | undefined;
	if (options.cancelAfterMs !== undefined)
		timer = setTimeout(() => execution.cancel(), options.cancelAfterMs);
	const run = await execution;
	if (timer) clearTimeout(timer);
	const finished = await Promise.race([done.promise, Promise.resolve(run)]);
	const result = { ...resultOf(finished, options, logStart), executionId };
	if (finished.status === 'waiting' && options.resumeServer) {
		const server = options.resumeServer;
		const resumed = server.register({
			executionId,
			workflow,
			nodeName: 'Kling',
			additionalData,
			run: finished,
		});
		resumed.catch(() => undefined); // a test that never awaits it must not crash on a rejection
		result.resumed = async () => resultOf(await resumed, options, logStart);
	}
	return result;
}

/** The Kling node's part of a run, after scanning it (and the log since `logStart`) for secrets. */
function resultOf(finished: IRun, options: RunOptions, logStart: number): RunResult {
	const runs = finished.data.resultData.runData.Kling ?? [];
	const taskData = runs[runs.length - 1];
	const error = (taskData?.error ?? finished.data.resultData.error) as RunResult['error'];
	const credentials = options.credentials ?? {};
	const secrets = [credentials.secretKey, credentials.apiKey, ...signedTokens].filter(
		(v): v is string => typeof v === 'string',
	);
	assertNoSecrets(
		"the Kling node's run data or n8n's log",
		serialize({
			kling: finished.data.resultData.runData.Kling,
			error: finished.data.resultData.error,
			log: logSince(logStart),
		}),
		secrets,
	);
	return {
		run: finished,
		output: taskData?.data?.main?.[0] ?? [],
		error: taskData?.error ? error : finished.data.resultData.error ? error : undefined,
		status: finished.status,
	};
}

/**
 * An active workflow with the Kling Lip Sync Trigger: each `deliver` is one HTTP request to its
 * webhook, run in n8n-core's WebhookContext; the workflow (and its static data) lives across calls.
 */
let triggerWorkflows = 0;

export function triggerWorkflow(
	parameters: IDataObject,
	credentials: Record<string, ICredentialDataDecryptedObject> = {},
) {
	const trigger: INode = {
		id: 'trigger',
		name: 'Trigger',
		type: TRIGGER_NODE_TYPE,
		typeVersion: 1,
		position: [0, 0],
		parameters: parameters as INode['parameters'],
		webhookId: 'kling-trigger-test',
		credentials: {
			klingApi: { id: '1', name: 'Kling account' },
			klingWebhookApi: { id: '2', name: 'Kling webhook' },
		},
	};
	// As n8n's webhook service: each request loads the workflow with its own copy of the stored
	// static data and writes it back when the request ends, if the node changed it.
	// Its own workflow and credential ids: the trigger's memory and read budget are per trigger and account.
	const id = `trigger-workflow-${++triggerWorkflows}`;
	trigger.credentials = {
		klingApi: { id: `account-${triggerWorkflows}`, name: 'Kling account' },
		klingWebhookApi: { id: '2', name: 'Kling webhook' },
	};
	let storedStaticData: IDataObject = {};
	const load = () =>
		new Workflow({
			id,
			name: 'Kling trigger test',
			nodes: [trigger],
			connections: {},
			active: true,
			nodeTypes,
			staticData: structuredClone(storedStaticData),
			settings: { executionOrder: 'v1' },
		});
	const workflow = load();
	const additionalData = engineAdditionalData(
		credentials,
		new ExecutionLifecycleHooks('webhook', 'trigger', workflow as never),
	);
	const secrets = Object.values(credentials).flatMap((data) =>
		[data.secret, data.secretKey, data.apiKey].filter((v): v is string => typeof v === 'string'),
	);
	return {
		workflow,
		/** The trigger's static data as n8n stored it after the last request. */
		staticData: () => (storedStaticData['node:Trigger'] ?? {}) as IDataObject,
		deliver: async (request: WebhookRequest): Promise<WebhookCall> => {
			const logStart = logMark();
			const loaded = load();
			const call = await callNodeWebhook(loaded, 'Trigger', additionalData, request, null);
			if (loaded.staticData.__dataChanged === true) {
				const saved = JSON.parse(JSON.stringify(loaded.staticData)) as IDataObject;
				delete saved.__dataChanged;
				storedStaticData = saved;
			}
			assertNoSecrets(
				"the trigger's answer, output or n8n's log",
				serialize({ call, log: logSince(logStart) }),
				secrets,
			);
			return call;
		},
	};
}

/**
 * Runs one of the Kling node's list searches (a From List mode in the editor) in n8n's own
 * load-options context, with the given credential.
 */
export async function searchList(
	method: 'searchTasks' | 'searchVoices',
	credentials: ICredentialDataDecryptedObject,
	filter?: string,
	paginationToken?: string,
	/** The node's parameters as the editor has them while the list is open. */
	current: INodeParameters = { operation: 'getTask' },
): Promise<INodeListSearchResult> {
	const node = klingNodeWith(current);
	const workflow = new Workflow({
		id: 'search',
		name: 'search',
		nodes: [node],
		connections: {},
		active: false,
		nodeTypes,
		settings: { executionOrder: 'v1' },
	});
	const hooks = new ExecutionLifecycleHooks('manual', 'search', workflow as never);
	const context = new LoadOptionsContext(
		workflow,
		node,
		{ ...engineAdditionalData({ klingApi: credentials }, hooks), currentNodeParameters: current },
		'parameters.taskId',
	);
	const search = new KlingLipSync().methods.listSearch[method];
	return await search.call(context, filter, paginationToken);
}
