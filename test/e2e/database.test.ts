import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { DependencyUnavailableError } from '../../src/common/domain-error.js';
import { DatabaseError } from '../../src/database/database-errors.js';
import { Database } from '../../src/database/database.js';
import { createLogger } from '../../src/common/logger.js';
import { createEnvironment, destroyEnvironment, type TestEnvironment } from '../support/harness.js';

describe('Database (the one way to Postgres)', () => {
  let env: TestEnvironment;
  let admin: pg.Client;
  before(async () => {
    env = await createEnvironment();
    admin = new pg.Client({ connectionString: env.databaseUrl });
    await admin.connect();
  });
  after(async () => {
    await admin.end();
    await destroyEnvironment(env);
  });

  for (const preparedStatements of [true, false]) {
    it(`stops a statement at its deadline with a cancel request and answers 503 (prepared statements ${preparedStatements ? 'on' : 'off'})`, async () => {
      const db = new Database({ url: env.databaseUrl, poolSize: 2, timeoutMs: 300, preparedStatements, logger: createLogger('silent') });
      try {
        const started = Date.now();
        const failure = await db.query('SELECT pg_sleep(5)', []).catch((error: unknown) => error);
        assert.ok(failure instanceof DependencyUnavailableError, String(failure));
        assert.ok(Date.now() - started < 1000, `${Date.now() - started} ms`);
        const running = await admin.query(
          `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query LIKE 'SELECT pg_sleep(5)%'`,
        );
        assert.equal(running.rowCount, 0);
        // The pool goes on: the cancelled connection was dropped, not reused.
        assert.deepEqual(await db.query<{ n: number }>('SELECT $1::int AS n', [7]), [{ n: 7 }]);
      } finally {
        await db.close();
      }
    });
  }

  it('keeps a constraint error without its row data, and answers an unreachable database with 503 in time', async () => {
    const db = new Database({ url: env.databaseUrl, poolSize: 2, timeoutMs: 1000, preparedStatements: true, logger: createLogger('silent') });
    await db.query('CREATE TABLE t (v text CHECK (length(v) < 3))', []);
    const failure = await db.query('INSERT INTO t VALUES ($1)', ['secret-value']).catch((error: unknown) => error);
    assert.ok(failure instanceof DatabaseError);
    assert.equal(failure.code, '23514');
    assert.ok(!JSON.stringify({ ...failure, message: failure.message }).includes('secret-value'));
    await db.close();
    const nowhere = new Database({
      url: 'postgres://postgres@127.0.0.1:1/x',
      poolSize: 1,
      timeoutMs: 500,
      preparedStatements: true,
      logger: createLogger('silent'),
    });
    const started = Date.now();
    assert.ok((await nowhere.query('SELECT 1', []).catch((error: unknown) => error)) instanceof DependencyUnavailableError);
    assert.ok(Date.now() - started < 1500);
    await nowhere.close();
  });
});
