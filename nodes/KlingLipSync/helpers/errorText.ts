import type { IDataObject } from 'n8n-workflow';
import { isDataObject } from './json';

/** What an error (or anything thrown) says. */
export const messageOf = (error: unknown): string =>
	error instanceof Error ? error.message : String(error);

/** Anything thrown, as an Error. */
export const asError = (error: unknown): Error =>
	error instanceof Error ? error : new Error(String(error));

/** The `context` n8n's errors carry (empty for others). */
export function contextOf(error: unknown): IDataObject {
	if (typeof error !== 'object' || error === null || !('context' in error)) return {};
	return isDataObject(error.context) ? { ...error.context } : {};
}

/** The description n8n shows under an error's message (n8n's errors have one; others get one). */
export function descriptionOf(error: unknown): string | undefined {
	if (typeof error !== 'object' || error === null || !('description' in error)) return undefined;
	return typeof error.description === 'string' && error.description ? error.description : undefined;
}

/** Adds a note to an error's description (after what it says already). */
export function addToDescription(error: Error, note: string): void {
	const before = descriptionOf(error);
	Object.assign(error, { description: before ? `${before} ${note}` : note });
}
