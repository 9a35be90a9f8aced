import type { ICredentialType, INodeProperties } from 'n8n-workflow';

/**
 * The secret Kling signs task callbacks with (Standard Webhooks), for the Kling Lip Sync Trigger.
 * Kling has no call to check it against, so the trigger node tests its form (testedBy).
 */
export class KlingWebhookApi implements ICredentialType {
	name = 'klingWebhookApi';

	displayName = 'Kling Webhook API';

	icon = {
		light: 'file:../nodes/KlingLipSync/kling.svg',
		dark: 'file:../nodes/KlingLipSync/kling.dark.svg',
	} as const;

	documentationUrl =
		'https://github.com/n8n-nodes-kling-lipsync/n8n-nodes-kling-lipsync#kling-lip-sync-trigger';

	properties: INodeProperties[] = [
		{
			displayName: 'Webhook Secret',
			name: 'secret',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			placeholder: 'e.g. whsec_...',
			description:
				"The signing secret from Kling's console (it starts with whsec_). Callbacks without a valid signature are refused with 401.",
		},
	];
}
