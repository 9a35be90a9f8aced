import type { IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import type { RuleViolation } from '../../helpers/validation';

/** Turns a broken rule into the error n8n shows on the parameter, before anything is sent. */
export function failOn(this: IExecuteFunctions, itemIndex: number, violation: RuleViolation): void {
	if (violation) throw new NodeOperationError(this.getNode(), violation, { itemIndex });
}
