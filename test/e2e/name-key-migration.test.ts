import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { runMigrations } from '../../src/database/migrations.js';
import { deviceNameKey } from '../../src/devices/device-name.js';
import { NameKeyBackfill } from '../../src/devices/name-key-backfill.js';
import { MIGRATIONS } from '../../src/migrations/index.js';
import { createEnvironment, destroyEnvironment, startApp, type TestApp, type TestEnvironment } from '../support/harness.js';

const BEFORE_KEYS = MIGRATIONS.slice(
  0,
  MIGRATIONS.findIndex((m) => m.name === 'DeviceNameKeys1764300000000'),
);

describe('device name keys on an existing database (rolling upgrade)', () => {
  let env: TestEnvironment;
  let db: pg.Client;
  let app: TestApp;
  let clientId: string;
  let token: string;
  const userId = 'upgraded-user';

  /** A device as the previous version writes it: no name_key. */
  const oldInsert = async (name: string) => {
    const id = randomUUID();
    await db.query(
      `INSERT INTO devices (id, client_id, user_id, device_type, device_name, sealed_secret, key_id, algorithm, digits, period, status, failure_count, created_at, activated_at)
       VALUES ($1, $2, $3, 'TOTP', $4, 'v1.k.x.y.z', 'k', 'SHA1', 6, 30, 'ACTIVE', 0, now(), now())`,
      [id, clientId, userId, name],
    );
    return id;
  };
  const keyOf = async (id: string) =>
    (await db.query<{ name_key: string | null }>('SELECT name_key FROM devices WHERE id = $1', [id])).rows[0].name_key;

  before(async () => {
    env = await createEnvironment();
    await runMigrations(env.databaseUrl, BEFORE_KEYS);
    db = new pg.Client({ connectionString: env.databaseUrl });
    await db.connect();
    clientId = randomUUID();
    await db.query(`INSERT INTO oauth_clients (id, name, secret_hash, scopes) VALUES ($1, 'old', 'x', '{devices:write,devices:read,otp:verify}')`, [
      clientId,
    ]);
  });
  after(async () => {
    await app.close();
    await db.end();
    await destroyEnvironment(env);
  });

  it('adds the keys without a rewrite, fills them in the background, and keeps old writers working', async () => {
    const phone = await oldInsert('Phone');
    const lookalike = await oldInsert('Phоne'); // Cyrillic о: allowed before, its key collides now
    const tablet = await oldInsert('Tablet');
    app = await startApp(env); // runs the remaining migrations; the backfill starts in the background
    const backfill = app.app.get(NameKeyBackfill);
    await backfill.fillMissing();
    assert.equal(await keyOf(phone), deviceNameKey('Phone'));
    assert.equal(await keyOf(lookalike), `${deviceNameKey('Phone')}:${lookalike}`, 'both keep their names');
    assert.equal(await keyOf(tablet), deviceNameKey('Tablet'));

    // A replica of the previous version during the deploy: inserts without a key, renames without one.
    const laptop = await oldInsert('Laptop');
    await db.query(`UPDATE devices SET device_name = 'Desk tablet' WHERE id = $1`, [tablet]);
    assert.equal(await keyOf(tablet), null, 'a rename that leaves the key cleared it');
    // Unkeyed rows still hold their names, ignoring case, until the backfill reaches them.
    const service = await app.createClient();
    await db.query('UPDATE devices SET client_id = $1 WHERE client_id = $2', [service.clientId, clientId]);
    token = await app.token(service);
    const clash = await app.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: 'LAPTOP' });
    assert.equal(clash.status, 409);
    assert.equal(await backfill.fillMissing(), 2);
    assert.equal(await keyOf(laptop), deviceNameKey('Laptop'));
    assert.equal(await keyOf(tablet), deviceNameKey('Desk tablet'));
    for (const name of ['phone', 'Phone', 'lAptop', 'Desk  Tablet']) {
      const r = await app.call('POST', `/v1/users/${userId}/devices`, token, { deviceType: 'TOTP', deviceName: name });
      assert.equal(r.status, 409, name);
    }
  });
});
