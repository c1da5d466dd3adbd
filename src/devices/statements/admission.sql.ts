import { insertAuditEvents, isoText, sql } from '../../audit/audit-sql.js';
import { SqlParams } from '../../database/sql-params.js';
import { deviceNameKey, nameTakenSql } from '../device-name.js';
import type { AdmissionInput } from '../device-batches.js';
import { withinDeviceLimitSql } from './device-limit.sql.js';

/**
 * The create-time check of a new registration against the user's active devices (name free by its
 * key, a slot left in user_device_counts, the counter activation takes its slots from), and its
 * REGISTRATION_CREATED event, written only when the check passes. Activation checks both again,
 * atomically (activation.sql.ts).
 */
export function admissionStatement(inputs: AdmissionInput[]): { text: string; values: unknown[] } {
  const p = new SqlParams();
  const column = <T>(f: (i: AdmissionInput) => T, type: string) => p.add(inputs.map(f), type);
  const text = `WITH input AS (
         SELECT * FROM unnest(${column((i) => i.id, 'uuid[]')}, ${column((i) => i.clientId, 'uuid[]')}, ${column((i) => i.userId, 'text[]')},
                              ${column((i) => i.deviceName, 'text[]')}, ${column((i) => deviceNameKey(i.deviceName), 'text[]')}, ${column((i) => i.maxActive, 'int[]')},
                              ${column((i) => i.expiresAt, 'timestamptz[]')}, ${column((i) => i.requestId, 'text[]')}, ${column((i) => i.at, 'timestamptz[]')})
           WITH ORDINALITY AS i(id, client_id, user_id, name, name_key, max_active, expires_at, request_id, at, n)
       ), summary AS (
         SELECT i.*, CASE
                  WHEN EXISTS (SELECT 1 FROM devices d WHERE d.client_id = i.client_id AND d.user_id = i.user_id AND d.status = 'ACTIVE' AND ${nameTakenSql('i.name_key', 'i.name')}) THEN 'NAME_TAKEN'
                  WHEN NOT ${withinDeviceLimitSql(
                    'coalesce((SELECT c.active FROM user_device_counts c WHERE c.client_id = i.client_id AND c.user_id = i.user_id), 0)',
                    '1',
                    'i.max_active',
                  )} THEN 'LIMIT_REACHED'
                  ELSE 'OK' END AS outcome
           FROM input i
       ), audit AS (
         ${insertAuditEvents(
           {
             clientId: sql('s.client_id'),
             userId: sql('s.user_id'),
             deviceId: sql('s.id'),
             type: 'REGISTRATION_CREATED',
             requestId: sql('s.request_id'),
             detail: sql(`jsonb_build_object('deviceName', s.name, 'expiresAt', ${isoText('s.expires_at')})`),
             at: sql('s.at'),
           },
           `FROM summary s WHERE s.outcome = 'OK'`,
         )}
       )
       SELECT outcome FROM summary ORDER BY n`;
  return { text, values: p.values };
}
