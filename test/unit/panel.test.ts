import type { INodeProperties } from 'n8n-workflow';

import { OPERATIONS } from '../../nodes/KlingLipSync/actions/operations';
import { KlingLipSync } from '../../nodes/KlingLipSync/KlingLipSync.node';
import { readmeOperations } from '../../scripts/e2e/readme';
import { KlingLipSyncTrigger } from '../../nodes/KlingLipSyncTrigger/KlingLipSyncTrigger.node';

/** Every text the panel can show for a field: its name, description, hint and options'. */
const texts = (property: INodeProperties): string[] => [
	property.displayName,
	property.description ?? '',
	property.hint ?? '',
	...(property.options ?? []).flatMap((option) =>
		'displayName' in option && 'type' in option
			? texts(option as INodeProperties)
			: [
					'name' in option ? String(option.name) : '',
					'description' in option ? String(option.description ?? '') : '',
				],
	),
];

const shownFor = (operation: string): INodeProperties[] =>
	new KlingLipSync().description.properties.filter((property) => {
		const operations = property.displayOptions?.show?.operation;
		return operations === undefined || operations.includes(operation);
	});

describe('the panel says only what is true where it shows', () => {
	const { hints = [] } = new KlingLipSync().description;

	it('a wait-mode hint names one operation and one mode; the trigger is suggested only for Lip Sync', () => {
		const waitHints = hints.filter((hint) => /waitMode/.test(hint.displayCondition ?? ''));
		expect(waitHints.length).toBe(4);
		for (const hint of waitHints) {
			const [, operation] =
				/\$parameter\["operation"\] === "(\w+)"/.exec(hint.displayCondition ?? '') ?? [];
			expect(
				/\$parameter\["waitMode"\] === "(poll|callback)"/.test(hint.displayCondition ?? ''),
			).toBe(true);
			if (/Trigger/.test(hint.message)) expect(operation).toBe('lipSync');
			// Dub Dialogue has no Wait for Completion switch: its hint's condition does not ask for one.
			if (operation === 'dubDialogue')
				expect(hint.displayCondition).not.toMatch(/waitForCompletion/);
		}
	});

	it('Dub Dialogue and Lip Sync Video never tell the user to turn Wait for Completion off', () => {
		for (const operation of ['dubDialogue', 'lipSyncVideo']) {
			const said = shownFor(operation).flatMap(texts).join('\n');
			expect(said).not.toMatch(/Wait for Completion off|turn off Wait for Completion/i);
			expect(said).not.toMatch(/Lip Sync Trigger/);
		}
	});

	it('the file rules show with a file, not with a Kling Audio ID', () => {
		const audio = shownFor('lipSync').filter(
			(property) => property.displayOptions?.show?.audioSource,
		);
		const byId = audio.find((property) => property.name === 'audioId');
		expect(byId?.hint).not.toMatch(/MP3/);
		for (const name of ['audioUrl', 'audioBinaryPropertyName', 'audioBase64']) {
			expect(audio.find((property) => property.name === name)?.hint).toMatch(
				/MP3, WAV, M4A or AAC/,
			);
		}
	});

	it("the trigger's Verify Callbacks By is a field of the trigger, not its authentication", () => {
		// n8n's editor takes a field for the node's authentication (and hides it from the panel)
		// when every value of it decides which credential shows.
		const { credentials = [], properties } = new KlingLipSyncTrigger().description;
		const values = credentials.flatMap(
			(credential) => credential.displayOptions?.show?.verification ?? [],
		);
		const field = properties.find((property) => property.name === 'verification');
		const options = (field?.options ?? []).map((option) =>
			'value' in option ? option.value : undefined,
		);
		expect(options.every((value) => values.includes(value as string))).toBe(false);
	});
});

describe("README's Actions table", () => {
	it('names every operation with the action the nodes panel lists, and no other', () => {
		const fromTable = Object.values(OPERATIONS).map(({ name, action }) => [name, action]);
		expect(readmeOperations().sort()).toEqual(fromTable.sort());
	});
});
