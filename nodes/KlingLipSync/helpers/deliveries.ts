import type { IDataObject } from 'n8n-workflow';

/** How many recent deliveries the trigger remembers to drop repeats (Kling retries callbacks). */
export const REMEMBERED_DELIVERIES = 500;

/** Whether a delivery key was recorded already (without recording it). */
export function wasDelivered(staticData: IDataObject, key: string): boolean {
	return Array.isArray(staticData.deliveries) && (staticData.deliveries as string[]).includes(key);
}

/**
 * Records a delivery key ("<task_id>:<status>") in the node's static data; false when it was
 * seen already. Oldest keys are forgotten first, so the data stays small.
 */
export function rememberDelivery(staticData: IDataObject, key: string): boolean {
	if (wasDelivered(staticData, key)) return false;
	const seen = Array.isArray(staticData.deliveries) ? (staticData.deliveries as string[]) : [];
	seen.push(key);
	staticData.deliveries = seen.slice(-REMEMBERED_DELIVERIES);
	return true;
}
