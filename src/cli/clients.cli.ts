import { parseArgs } from 'node:util';
import { ClientInputError } from '../auth/clients.service.js';
import { UUID_V4 } from '../config/config.js';
import { describeFailure, withClientsService } from './cli-context.js';

const USAGE = `Usage:
  npm run client:create -- --name "Acme web" --scopes "devices:write devices:read otp:verify"
  npm run client:list
  npm run client:disable -- --client-id <uuid>
  npm run client:rotate-secret -- --client-id <uuid> [--keep-tokens]
    (by default the client's tokens issued before the rotation stop working at once;
     --keep-tokens lets them run until they expire)`;

const out = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  const { values } = parseArgs({
    args: rest,
    options: { name: { type: 'string' }, scopes: { type: 'string' }, 'client-id': { type: 'string' }, 'keep-tokens': { type: 'boolean' } },
    strict: true,
  });
  const clientId = values['client-id'];
  const requireId = (): string => {
    if (clientId === undefined || !UUID_V4.test(clientId)) throw new ClientInputError('--client-id <uuid> is required');
    return clientId.toLowerCase();
  };
  switch (command) {
    case 'create': {
      if (values.name === undefined || values.scopes === undefined) throw new ClientInputError('--name and --scopes are required');
      const { name, scopes } = values;
      out(await withClientsService((clients) => clients.create(name, scopes)));
      return;
    }
    case 'list':
      out(await withClientsService((clients) => clients.list()));
      return;
    case 'disable': {
      const id = requireId();
      await withClientsService((clients) => clients.disable(id));
      out({ clientId: id, disabled: true });
      return;
    }
    case 'rotate-secret': {
      const id = requireId();
      out(await withClientsService((clients) => clients.rotateSecret(id, { keepTokens: values['keep-tokens'] === true })));
      return;
    }
    default:
      throw new ClientInputError(`Unknown command "${command ?? ''}"`);
  }
}

main().catch((error: unknown) => {
  if (error instanceof ClientInputError || (error instanceof TypeError && 'code' in error)) {
    process.stderr.write(`${error.message}\n\n${USAGE}\n`);
  } else {
    process.stderr.write(`${describeFailure(error)}\n`);
  }
  process.exit(1);
});
