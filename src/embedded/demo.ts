import type { INestApplication } from '@nestjs/common';
import { ClientsService } from '../auth/clients.service.js';
import { SCOPES } from '../auth/scopes.js';
import type { AppConfig } from '../config/config.js';
import type { EmbeddedState } from './embedded-database.js';

/**
 * Embedded mode: make sure the demo client exists, then say loudly what runs where, that this is
 * not for production, and how to get a token. Written to stdout on purpose: it is for a person.
 */
export async function announceEmbeddedMode(
  app: INestApplication,
  embedded: { state: EmbeddedState; databaseDir: string },
  config: AppConfig,
): Promise<void> {
  const clients = app.get(ClientsService);
  const { demoClientId: id, demoClientSecret: secret } = embedded.state;
  await clients.ensure('Demo client (embedded mode)', SCOPES.join(' '), { clientId: id, clientSecret: secret });
  const base = config.publicUrl;
  const line = '='.repeat(78);
  process.stdout.write(
    [
      '',
      line,
      '  TOTP device-registration service: EMBEDDED MODE, for trying it out. NOT FOR PRODUCTION.',
      '  (set DATABASE_URL, REDIS_URL and ENCRYPTION_KEY to run against real Postgres and Redis)',
      line,
      `  Postgres:       embedded, data in ${embedded.databaseDir} (kept across restarts)`,
      '  Pending regs:   in this process (lost on restart; Redis in production)',
      `  Swagger UI:     ${base}/docs   (Authorize with the demo client below)`,
      `  Login by QR:    ${base}/demo/login?userId=demo   (a demo web page; approve with npm run example:approve)`,
      `  Demo client id:     ${id}`,
      `  Demo client secret: ${secret}`,
      '',
      '  Get a token:',
      `    curl -s -u '${id}:${secret}' -d grant_type=client_credentials ${base}/oauth/token`,
      line,
      '',
    ].join('\n'),
  );
}
