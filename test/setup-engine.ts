import { Container } from '@n8n/di';
// Not exported from n8n-core's index: its 60 s cleanup interval would keep jest from exiting.
import { SSHClientsManager } from 'n8n-core/dist/execution-engine/ssh-clients-manager';

import { recordN8nLog } from './engine/secrets';

recordN8nLog();

afterAll(() => {
	if (Container.has(SSHClientsManager)) Container.get(SSHClientsManager).onShutdown();
});
