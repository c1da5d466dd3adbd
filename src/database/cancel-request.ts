import net from 'node:net';
import type pg from 'pg';

/** Where a pooled connection's server is, and the key that cancels what its backend runs. */
interface BackendKey {
  host: string;
  port: number;
  processID: number;
  secretKey: number;
}

/**
 * The one read of a library's internals in the service. node-postgres keeps the backend's cancel
 * key (BackendKeyData: processID, secretKey) in untyped fields of its client, and has no public way
 * to cancel the statement of a pooled client: its undocumented Client#cancel(client, query) also
 * needs the running query object, which is internal too. Typed here, once; if a pg release renames
 * the fields this answers undefined, no cancel is sent and the connection is dropped at the grace
 * period instead (test/e2e/database.test.ts fails: the statement keeps running).
 */
function backendKey(client: pg.PoolClient): BackendKey | undefined {
  const internals = client as pg.PoolClient & { host?: unknown; port?: unknown; processID?: unknown; secretKey?: unknown };
  const { host, port, processID, secretKey } = internals;
  if (typeof host !== 'string' || typeof port !== 'number' || typeof processID !== 'number' || typeof secretKey !== 'number') return undefined;
  return { host, port, processID, secretKey };
}

/**
 * A protocol CancelRequest (PostgreSQL's, which PgBouncer forwards) for the statement running on
 * `client`: a new connection that sends the backend's key and is closed by the server. Written,
 * then left for the server to close: PgBouncer drops a cancel whose sender has already half-closed.
 */
export function sendCancelRequest(client: pg.PoolClient, timeoutMs: number): void {
  const key = backendKey(client);
  if (key === undefined) return;
  const packet = Buffer.alloc(16);
  packet.writeInt32BE(16, 0);
  packet.writeInt32BE(80877102, 4);
  packet.writeInt32BE(key.processID, 8);
  packet.writeInt32BE(key.secretKey, 12);
  const socket = key.host.startsWith('/') ? net.connect(`${key.host}/.s.PGSQL.${key.port}`) : net.connect(key.port, key.host);
  socket.setTimeout(timeoutMs, () => socket.destroy());
  socket.on('error', () => undefined);
  socket.on('connect', () => socket.write(packet));
}
