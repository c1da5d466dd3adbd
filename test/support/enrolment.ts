import pg from 'pg';
import { type TestApp, type TestEnvironment } from './harness.js';
import { sleep } from './otp.js';

/** Enrolment traffic for outage tests: statuses recorded, recovery awaited, activations checked in Postgres. */

/** Creates and activates devices for fresh users until stopped, recording every status. */
export function enrolmentLoop(app: TestApp, token: string) {
  const statuses: number[] = [];
  const activated: string[] = [];
  let stopped = false;
  const done = (async () => {
    for (let i = 0; !stopped; i++) {
      const userId = `failover-${i}`;
      const created = await app.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: 'Phone' });
      statuses.push(created.status);
      if (created.status !== 201) {
        await sleep(50);
        continue;
      }
      const { authId, secret } = created.body as { authId: string; secret: string };
      const r = await app.call('POST', `/v1/users/${userId}/devices/${authId}/activate`, token, { otp: app.code(secret) });
      statuses.push(r.status);
      if (r.status === 200) activated.push(authId);
    }
  })();
  return {
    statuses,
    activated,
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

/** Waits until a create and an activation succeed again. */
export async function recovered(app: TestApp, token: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (let i = 0; Date.now() - started < timeoutMs; i++) {
    const created = await app.call('POST', `/v1/users/recovery-${started}-${i}/devices`, token, { deviceType: 'TOTP', deviceName: 'Phone' });
    if (created.status === 201) {
      const { authId, secret } = created.body as { authId: string; secret: string };
      const r = await app.call('POST', `/v1/users/recovery-${started}-${i}/devices/${authId}/activate`, token, { otp: app.code(secret) });
      if (r.status === 200 && (await app.fetch('/health/ready')).status === 200) return Date.now() - started;
    }
    await sleep(100);
  }
  throw new Error(`no recovery within ${timeoutMs} ms`);
}

export async function inPostgres(env: TestEnvironment, ids: string[]): Promise<number> {
  const db = new pg.Client({ connectionString: env.databaseUrl });
  await db.connect();
  const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM devices WHERE id = ANY($1::uuid[])', [ids]);
  await db.end();
  return Number(rows[0].n);
}
