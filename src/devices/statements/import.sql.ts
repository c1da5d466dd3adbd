import { insertAuditEvents, sql } from '../../audit/audit-sql.js';
import { SqlParams } from '../../database/sql-params.js';
import type { Device } from '../device.js';
import { deviceNameKey, nameTakenSql } from '../device-name.js';
import { takeSlotsSql } from './device-limit.sql.js';

export interface ImportRow {
  device: Device;
  externalId: string | null;
}

export type ImportOutcome = 'IMPORTED' | 'EXISTS' | 'NAME_TAKEN' | 'LIMIT_REACHED';

/**
 * Imported devices (one client, any number of users) with their DEVICE_IMPORTED events, in one
 * statement: rows whose external id the client has already imported, or whose name the user's
 * active devices already have, are left out; the users' device counts take all of a user's rows
 * or none (the limit); then devices and events are written. Answers each row's outcome, in input
 * order. The input must not repeat an external id or a user's name (the caller checks).
 */
export function importStatement(
  clientId: string,
  maxPerUser: number,
  rows: ImportRow[],
  requestId: string | null,
): { text: string; values: unknown[] } {
  const p = new SqlParams();
  const col = <T>(f: (r: ImportRow) => T, type: string) =>
    p.add(
      rows.map((r) => f(r)),
      type,
    );
  const client = p.add(clientId, 'uuid');
  const max = p.add(maxPerUser, 'int');
  const text = `WITH input AS (
         SELECT * FROM unnest(${col((r) => r.device.id, 'uuid[]')}, ${col((r) => r.device.userId, 'text[]')}, ${col((r) => r.device.deviceName, 'text[]')},
                              ${col((r) => deviceNameKey(r.device.deviceName), 'text[]')}, ${col((r) => r.device.sealedSecret, 'text[]')},
                              ${col((r) => r.device.keyId, 'text[]')}, ${col((r) => r.device.algorithm, 'text[]')}, ${col((r) => r.device.digits, 'int[]')},
                              ${col((r) => r.device.period, 'int[]')}, ${col((r) => r.device.window, 'int[]')}, ${col((r) => r.device.lastUsedStep, 'bigint[]')},
                              ${col((r) => r.externalId, 'text[]')}, ${col((r) => r.device.activatedAt, 'timestamptz[]')})
                WITH ORDINALITY AS i(id, user_id, device_name, name_key, sealed_secret, key_id, algorithm, digits, period, totp_window, last_used_step,
                                     external_id, at, n)
       ), judged AS (
         SELECT i.*,
                EXISTS (SELECT 1 FROM devices d WHERE d.client_id = ${client} AND d.external_id = i.external_id) AS known,
                EXISTS (SELECT 1 FROM devices d WHERE d.client_id = ${client} AND d.user_id = i.user_id AND d.status = 'ACTIVE'
                                AND ${nameTakenSql('i.name_key', 'i.device_name')}) AS taken
           FROM input i
       ), wanted AS (
         SELECT user_id, count(*)::int AS k FROM judged WHERE NOT known AND NOT taken GROUP BY user_id
       ), slot AS (
         ${takeSlotsSql({ from: 'FROM wanted', clientId: client, userId: 'user_id', count: 'k', max, maxForCounter: max })}
       ), device AS (
         INSERT INTO devices (id, client_id, user_id, device_type, device_name, name_key, sealed_secret, key_id, algorithm, digits, period, totp_window,
                              status, last_used_step, failure_count, locked_until, created_at, activated_at, last_used_at, external_id)
         SELECT j.id, ${client}, j.user_id, 'TOTP', j.device_name, j.name_key, j.sealed_secret, j.key_id, j.algorithm, j.digits, j.period, j.totp_window,
                'ACTIVE', j.last_used_step, 0, NULL, j.at, j.at, NULL, j.external_id
           FROM judged j JOIN slot s ON s.user_id = j.user_id
          WHERE NOT j.known AND NOT j.taken
         ON CONFLICT DO NOTHING
         RETURNING id, user_id, device_name, external_id, activated_at
       ), audit AS (
         ${insertAuditEvents(
           {
             clientId: sql(client),
             userId: sql('d.user_id'),
             deviceId: sql('d.id'),
             type: 'DEVICE_IMPORTED',
             requestId: sql(p.add(requestId, 'text')),
             detail: sql(`jsonb_strip_nulls(jsonb_build_object('deviceName', d.device_name, 'externalId', d.external_id))`),
             at: sql('d.activated_at'),
           },
           'FROM device d',
         )}
       )
       SELECT CASE WHEN d.id IS NOT NULL THEN 'IMPORTED' WHEN j.known THEN 'EXISTS' WHEN j.taken THEN 'NAME_TAKEN'
                   WHEN NOT EXISTS (SELECT 1 FROM slot s WHERE s.user_id = j.user_id) THEN 'LIMIT_REACHED' ELSE 'NAME_TAKEN' END AS outcome,
              NOT j.known AND NOT j.taken AND EXISTS (SELECT 1 FROM slot s WHERE s.user_id = j.user_id) AS slotted, j.user_id
         FROM judged j LEFT JOIN device d ON d.id = j.id
        ORDER BY j.n`;
  return { text, values: p.values };
}

/**
 * A row the insert skipped at the last moment (its name taken by a concurrent activation) took a
 * slot in its user's count that it did not use: given back, relative to whatever the count is now.
 */
export const GIVE_BACK = `UPDATE user_device_counts c SET active = c.active - g.n
  FROM unnest($2::text[], $3::int[]) AS g(user_id, n) WHERE c.client_id = $1 AND c.user_id = g.user_id`;

/** One import at a time per client: concurrent runs see each other's rows instead of racing them. */
export const IMPORT_LOCK = `SELECT pg_advisory_xact_lock(hashtextextended('device-import:' || $1::text, 0))`;
