import net from 'node:net';
import type pg from 'pg';

/**
 * A protocol CancelRequest (PostgreSQL's, which PgBouncer forwards) for the statement running on
 * `client`: a new connection that sends the backend's key and is closed by the server. Written,
 * then left for the server to close: PgBouncer drops a cancel whose sender has already half-closed.
 */
export function sendCancelRequest(client: pg.PoolClient, timeoutMs: number): void {
  const { host, port, processID, secretKey } = client as pg.PoolClient & {
    host: string;
    port: number;
    processID: number | null;
    secretKey: number | null;
  };
  if (processID === null || secretKey === null) return;
  const packet = Buffer.alloc(16);
  packet.writeInt32BE(16, 0);
  packet.writeInt32BE(80877102, 4);
  packet.writeInt32BE(processID, 8);
  packet.writeInt32BE(secretKey, 12);
  const socket = host.startsWith('/') ? net.connect(`${host}/.s.PGSQL.${port}`) : net.connect(port, host);
  socket.setTimeout(timeoutMs, () => socket.destroy());
  socket.on('error', () => undefined);
  socket.on('connect', () => socket.write(packet));
}
