import type { IDataObject } from 'n8n-workflow';

/**
 * JSON as the APIs send it, parsed so that no id loses digits: Kling's ids are 18-digit numbers,
 * documented as strings but seen as bare JSON numbers, which JSON.parse rounds silently
 * (800000001000007932 -> 800000001000008000). An integer literal too large to be exact as a
 * JavaScript number is read as its digits, a string; every other value parses as usual.
 */
export function parseJsonKeepingBigIntegers(text: string): unknown {
	return JSON.parse(quoteBigIntegers(text));
}

/** Whether an integer literal (optional minus, digits only) is beyond a double's exact range. */
const isUnsafeInteger = (literal: string): boolean => !Number.isSafeInteger(Number(literal));

/** The text with every unsafe integer literal outside strings wrapped in quotes. */
function quoteBigIntegers(text: string): string {
	let out = '';
	let copiedUpTo = 0;
	for (let index = 0; index < text.length; index++) {
		const char = text[index];
		if (char === '"') {
			// Skip the string, escapes included.
			for (index++; index < text.length && text[index] !== '"'; index++)
				if (text[index] === '\\') index++;
			continue;
		}
		if (char !== '-' && (char < '0' || char > '9')) continue;
		let end = index + 1;
		while (end < text.length && /[0-9.eE+-]/.test(text[end])) end++;
		const literal = text.slice(index, end);
		if (/^-?\d+$/.test(literal) && isUnsafeInteger(literal)) {
			out += `${text.slice(copiedUpTo, index)}"${literal}"`;
			copiedUpTo = end;
		}
		index = end - 1;
	}
	return copiedUpTo === 0 ? text : out + text.slice(copiedUpTo);
}

/** Whether a value (a parameter, say) names a key of a table: the table's own, not inherited. */
export const isKeyOf = <Table extends object>(
	table: Table,
	value: unknown,
): value is Extract<keyof Table, string> =>
	typeof value === 'string' && Object.hasOwn(table, value);

/** A JSON object (not an array, not null), as n8n types one. */
export const isDataObject = (value: unknown): value is IDataObject =>
	typeof value === 'object' && value !== null && !Array.isArray(value);
