import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { isDataObject } from '../helpers/json';
import {
	checkHttpUrl,
	checkId,
	checkMilliseconds,
	notANumber,
	type RuleViolation,
} from '../helpers/validation';
import { FEATURE_NAMES, type Feature } from '../transport/providers';
import type { LipSyncApi } from '../transport/types';

/** What a refusal by the node's own checks means: the remedy n8n shows under its message. */
const LOCAL_REFUSAL =
	'The node checked this before calling Kling: nothing was sent and nothing billed for this item. Correct the field and run it again.';

/**
 * One item's parameters, read and checked: each read returns a typed value, or throws the error
 * n8n shows on the item, naming the field and its rule, before anything is sent. `at` is where the
 * fields are (the node's own, or a list entry such as `speakers.speaker[1].`); `label` starts the
 * messages where the field names alone do not say whose they are ("Speaker 2: ").
 */
export class ItemParameters {
	constructor(
		readonly ctx: IExecuteFunctions,
		readonly itemIndex: number,
		readonly at = '',
		readonly label = '',
	) {}

	/** The same item's fields at another place (a list entry), with their own label. */
	within(at: string, label: string): ItemParameters {
		return new ItemParameters(this.ctx, this.itemIndex, `${this.at}${at}`, `${this.label}${label}`);
	}

	fail(violation: string): never {
		throw new NodeOperationError(this.ctx.getNode(), `${this.label}${violation}`, {
			itemIndex: this.itemIndex,
			description: LOCAL_REFUSAL,
		});
	}

	check(violation: RuleViolation): void {
		if (violation) this.fail(violation);
	}

	/**
	 * The value as n8n resolves it (expressions evaluated), unchecked. A field that may be unset
	 * needs a fallback (n8n refuses to read it otherwise), or is read from its `collection`.
	 */
	raw(name: string, fallback?: unknown): unknown {
		return this.ctx.getNodeParameter(`${this.at}${name}`, this.itemIndex, fallback);
	}

	text(name: string, fallback = ''): string {
		const value = this.raw(name, fallback);
		return value === undefined || value === null ? fallback : String(value);
	}

	flag(name: string, fallback = false): boolean {
		const value = this.raw(name, fallback);
		return value === undefined ? fallback : Boolean(value);
	}

	/** An id Kling issued (or the user's own), trimmed. */
	id(name: string, label: string, origin: 'issued' | 'yours' = 'issued'): string {
		const value = this.raw(name, '');
		this.check(checkId(label, value, origin));
		return String(value).trim();
	}

	url(name: string, label: string): string {
		const value = this.raw(name, '');
		this.check(checkHttpUrl(label, value));
		return String(value).trim();
	}

	/** Whole, non-negative milliseconds, at most `maxMs` (by default the longest video). */
	ms(name: string, label: string, maxMs?: number, fallback = 0): number {
		const value = this.raw(name, fallback);
		this.check(checkMilliseconds(label, value, maxMs));
		return Number(value);
	}

	/** A finite number; `what` says which (e.g. "a number from 0.8 to 2.0"). */
	number(name: string, label: string, what: string, fallback?: number): number {
		const value = this.raw(name, fallback);
		this.check(notANumber(label, value, what));
		return Number(value);
	}

	/** One of the panel's options for the field. */
	choice<Choice extends string>(
		name: string,
		label: string,
		allowed: readonly Choice[],
		fallback: Choice,
	): Choice {
		const value = this.raw(name, fallback);
		const found = allowed.find((option) => option === value);
		if (found === undefined) {
			const last = allowed[allowed.length - 1];
			const list =
				allowed.length > 2
					? `one of ${allowed.slice(0, -1).join(', ')} or ${last}`
					: allowed.join(' or ');
			this.fail(`${label} must be ${list} (got "${String(value).slice(0, 40)}")`);
		}
		return found;
	}

	/** Says plainly that the credential's provider cannot do what was asked. */
	unsupported(api: LipSyncApi, feature: Feature): NodeOperationError {
		return new NodeOperationError(
			this.ctx.getNode(),
			`${api.provider} does not support ${FEATURE_NAMES[feature]}`,
			{
				itemIndex: this.itemIndex,
				description: 'This is a limit of the provider chosen in the credential, not of the node.',
			},
		);
	}

	/** Refuses, before any call, what the credential's provider cannot do. */
	requireSupport(api: LipSyncApi, feature: Feature): void {
		if (!api.supports[feature]) throw this.unsupported(api, feature);
	}

	/** A collection (Options), as its fields are stored. */
	collection(name: string): IDataObject {
		const value = this.raw(name, {});
		return isDataObject(value) ? value : {};
	}
}
