import type { IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import type { RuleViolation } from '../helpers/validation';
import { FEATURE_NAMES, type Feature } from '../transport/providers';
import type { LipSyncApi } from '../transport/types';

/** Turns a broken rule into the error n8n shows on the parameter, before anything is sent. */
export function failOn(this: IExecuteFunctions, itemIndex: number, violation: RuleViolation): void {
	if (violation) throw new NodeOperationError(this.getNode(), violation, { itemIndex });
}

/** Says plainly that the credential's provider cannot do what was asked. */
export function unsupported(
	this: IExecuteFunctions,
	itemIndex: number,
	api: LipSyncApi,
	feature: Feature,
): NodeOperationError {
	return new NodeOperationError(
		this.getNode(),
		`${api.provider} does not support ${FEATURE_NAMES[feature]}`,
		{
			itemIndex,
			description: 'This is a limit of the provider chosen in the credential, not of the node.',
		},
	);
}

/** Refuses, before any call, what the credential's provider cannot do. */
export function requireSupport(
	this: IExecuteFunctions,
	itemIndex: number,
	api: LipSyncApi,
	feature: Feature,
): void {
	if (!api.supports[feature]) throw unsupported.call(this, itemIndex, api, feature);
}
