/* eslint-disable -- not shipped: `n8n-node lint` checks the package's code, eslint.tests.config.mjs this file */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

import { systemClock, type Clock } from './clock';
import { failureOf, type Scene } from './scene';
import {
	configFrom,
	emptyStats,
	type CallbackDelivery,
	type EmulatorConfig,
	type EmulatorOptions,
	type Fault,
	type Session,
	type Task,
	type TaskStatus,
} from './types';
import { signWebhook } from './webhook';

/**
 * What the emulated account holds (sessions, tasks, audio, callbacks sent, faults to serve, the
 * figures) and how a task moves on: every route reads and changes it.
 */
export class EmulatorState {
	config: EmulatorConfig;
	readonly clock: Clock;
	readonly sessions = new Map<string, Session>();
	readonly tasks = new Map<string, Task>();
	readonly tasksByExternalId = new Map<string, Task>();
	readonly audios = new Map<string, { durationMs: number; createdAt: number; wav: Buffer }>();
	readonly callbacks: CallbackDelivery[] = [];
	faults: Fault[] = [];
	stats = emptyStats();
	baseUrl = '';
	readonly pendingTimers = new Set<NodeJS.Timeout>();
	/** Every API key and signed token a request carried: secrets that must not show up elsewhere. */
	readonly seenTokens = new Set<string>();
	/** Start times of the API requests answered in the last second (the account's rate). */
	recentRequests: number[] = [];
	/** A reseller's job id -> what it stands for: an identify result, or one of our tasks. */
	readonly resellerJobs = new Map<
		string,
		{ model: string; createdAt: number; identify?: unknown; taskId?: string }
	>();
	/** The result size given at start: it holds over a later `configure`. */
	readonly startResultBytes?: number;

	constructor(options: EmulatorOptions) {
		this.config = configFrom(options);
		this.clock = options.clock ?? systemClock;
		this.startResultBytes = options.resultBytes;
	}

	later = (ms: number, fn: () => void): void => {
		const timer = setTimeout(() => {
			this.pendingTimers.delete(timer);
			fn();
		}, ms);
		this.pendingTimers.add(timer);
	};

	/** Tasks failed so far per failing video and step (`failTimes`: a fault that passes). */
	readonly failuresServed = new Map<string, number>();
	passingFailure = (scene: Scene): string | undefined => {
		const reason = failureOf(scene);
		if (reason === undefined || scene.failTimes === undefined) return reason;
		const key = `${scene.origin ?? ''}#${scene.step}`;
		const served = this.failuresServed.get(key) ?? 0;
		if (served >= scene.failTimes) return undefined;
		this.failuresServed.set(key, served + 1);
		return reason;
	};

	running = (): number =>
		[...this.tasks.values()].filter((t) => t.status === 'submitted' || t.status === 'processing')
			.length;

	taskObject = (task: Task): Record<string, unknown> => {
		const video = task.session.video;
		const result =
			task.status === 'succeed'
				? {
						videos: [
							{
								id: `${task.task_id}1`,
								url:
									this.config.resultVideoUrl ?? `${this.baseUrl}/media/results/${task.task_id}.mp4`,
								...(task.watermark
									? {
											watermark_url:
												this.config.resultVideoUrl ??
												`${this.baseUrl}/media/results/${task.task_id}-watermark.mp4`,
										}
									: {}),
								duration: (task.resultMs / 1000).toFixed(3),
							},
						],
					}
				: {};
		return {
			task_id: task.task_id,
			task_status: task.status,
			task_status_msg: task.statusMsg,
			task_info: {
				external_task_id: task.external_task_id ?? '',
				parent_video: {
					id: video.id,
					url: video.url,
					duration: (task.session.scene.durationMs / 1000).toFixed(3),
				},
			},
			task_result: result,
			watermark_info: { enabled: task.watermark },
			final_unit_deduction: task.status === 'succeed' ? task.units : '0',
			created_at: task.createdAt,
			updated_at: task.updatedAt,
		};
	};

	deliverCallback = (task: Task): void => {
		if (!task.callbackUrl) return;
		const body = JSON.stringify(this.taskObject(task));
		const headers: Record<string, string> = { 'content-type': 'application/json' };
		if (this.config.webhookSecret) {
			const id = `msg_${randomUUID()}`;
			const timestamp = Math.floor(this.clock.now() / 1000);
			headers['webhook-id'] = id;
			headers['webhook-timestamp'] = String(timestamp);
			headers['webhook-signature'] = signWebhook(this.config.webhookSecret, id, timestamp, body);
		}
		const delivery: CallbackDelivery = {
			url: task.callbackUrl,
			taskId: task.task_id,
			status: task.status,
			attempts: 0,
			delivered: false,
			headers,
			body,
		};
		this.callbacks.push(delivery);
		const attempt = (): void => {
			delivery.attempts++;
			const target = new URL(delivery.url);
			const client = target.protocol === 'https:' ? https : http;
			const req = client.request(target, { method: 'POST', headers, timeout: 10000 }, (res) => {
				res.resume();
				if ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300) delivery.delivered = true;
				else retry();
			});
			req.on('timeout', () => req.destroy(new Error('timeout')));
			req.on('error', retry);
			req.end(body);
		};
		const retry = (): void => {
			const delay = this.config.callbackRetryDelaysMs[delivery.attempts - 1];
			if (delay !== undefined) this.later(delay, attempt);
		};
		attempt();
	};

	setStatus = (task: Task, status: TaskStatus, at: number): void => {
		task.status = status;
		task.updatedAt = at;
		if (status === 'failed') task.statusMsg = task.failMessage ?? 'Lip sync failed';
		this.deliverCallback(task);
	};

	tick = (): void => {
		const now = this.clock.now();
		for (const task of this.tasks.values()) {
			if (task.status === 'submitted' && now >= task.createdAt + this.config.submittedMs) {
				this.setStatus(task, 'processing', task.createdAt + this.config.submittedMs);
			}
			if (task.status === 'processing' && now >= task.createdAt + task.taskTimeMs) {
				this.setStatus(
					task,
					task.failMessage ? 'failed' : 'succeed',
					task.createdAt + task.taskTimeMs,
				);
			}
		}
	};
}
