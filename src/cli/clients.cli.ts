import { parseArgs } from 'node:util';
import { ClientInputError } from '../auth/clients.service.js';
import { UUID_V4 } from '../config/config.js';
import { compatibilityWarning, effectivePolicy, type PolicyOverrides } from '../auth/client-policy.js';
import { loadConfigOrExit } from '../config/config.js';
import { describeFailure, withClientsService } from './cli-context.js';

const USAGE = `Usage:
  npm run client:create -- --name "Acme web" --scopes "devices:write devices:read otp:verify"
  npm run client:list
  npm run client:disable -- --client-id <uuid>
  npm run client:rotate-secret -- --client-id <uuid> [--keep-tokens]
    (by default the client's tokens issued before the rotation stop working at once;
     --keep-tokens lets them run until they expire)
  npm run client:policy -- <uuid> [--algorithm SHA1|SHA256|SHA512] [--digits 6|8] [--period 30|60]
    [--window 0-3] [--issuer "Acme"] [--max-pending 1-100] [--max-active 1-100] [--reset]
    (for new devices of this client; devices already created keep theirs; --reset drops every
     override first; with no option, shows the policy)`;

const POLICY_OPTIONS = {
  algorithm: { type: 'string' },
  digits: { type: 'string' },
  period: { type: 'string' },
  window: { type: 'string' },
  issuer: { type: 'string' },
  'max-pending': { type: 'string' },
  'max-active': { type: 'string' },
  reset: { type: 'boolean' },
} as const;

/** The policy options given (numbers as numbers; a non-number stays NaN and is refused by name). */
function policyChanges(v: Partial<Record<keyof typeof POLICY_OPTIONS, string | boolean>>): PolicyOverrides {
  const num = (x: string | boolean | undefined) => (typeof x === 'string' ? (/^\d+$/.test(x) ? Number(x) : NaN) : undefined);
  const changes: PolicyOverrides = {
    algorithm: typeof v.algorithm === 'string' ? (v.algorithm.toUpperCase() as PolicyOverrides['algorithm']) : undefined,
    digits: num(v.digits) as PolicyOverrides['digits'],
    period: num(v.period) as PolicyOverrides['period'],
    window: num(v.window),
    issuer: typeof v.issuer === 'string' ? v.issuer : undefined,
    maxPendingPerUser: num(v['max-pending']),
    maxActivePerUser: num(v['max-active']),
  };
  return Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
}

const out = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      name: { type: 'string' },
      scopes: { type: 'string' },
      'client-id': { type: 'string' },
      'keep-tokens': { type: 'boolean' },
      ...POLICY_OPTIONS,
    },
    strict: true,
    allowPositionals: command === 'policy',
  });
  const clientId = values['client-id'] ?? positionals[0];
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
    case 'list': {
      const config = loadConfigOrExit();
      const clients = await withClientsService((service) => service.list());
      out(clients.map((c) => ({ ...c, effectivePolicy: effectivePolicy(config, c.policy) })));
      return;
    }
    case 'policy': {
      const id = requireId();
      const config = loadConfigOrExit();
      const overrides = await withClientsService((clients) => clients.setPolicy(id, policyChanges(values), values.reset === true));
      const policy = effectivePolicy(config, overrides);
      out({ clientId: id, overrides, effectivePolicy: policy });
      const warning = compatibilityWarning(policy);
      if (warning !== undefined) process.stderr.write(`${warning}\n`);
      return;
    }
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
