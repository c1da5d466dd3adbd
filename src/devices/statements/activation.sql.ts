import { insertAuditEvents, sql } from '../../audit/audit-sql.js';
import { SqlParams } from '../../database/sql-params.js';
import { deviceNameKey } from '../device-name.js';
import type { Device } from '../device.js';
import type { ActivationInput } from '../device-batches.js';
import { takeSlotsSql } from './device-limit.sql.js';

/**
 * Activated devices with their DEVICE_ACTIVATED events, in one statement: a slot is taken in
 * user_device_counts only while the user is under the limit (counter rows in (client, user)
 * order), then the device and its event are written. A duplicate id or name (the unique index on
 * the name key) fails the statement, which then runs input by input (batched-statements.ts) so the
 * repository can tell which.
 */
export function activationStatement(inputs: ActivationInput[]): { text: string; values: unknown[] } {
  const p = new SqlParams();
  const column = <T>(f: (d: Device) => T, type: string) =>
    p.add(
      inputs.map((i) => f(i.device)),
      type,
    );
  const text = `WITH input AS (
         SELECT * FROM unnest(${column((d) => d.id, 'uuid[]')}, ${column((d) => d.clientId, 'uuid[]')}, ${column((d) => d.userId, 'text[]')},
                              ${column((d) => d.deviceType, 'text[]')}, ${column((d) => d.deviceName, 'text[]')}, ${column((d) => deviceNameKey(d.deviceName), 'text[]')},
                              ${column((d) => d.sealedSecret, 'text[]')}, ${column((d) => d.keyId, 'text[]')}, ${column((d) => d.algorithm, 'text[]')},
                              ${column((d) => d.digits, 'int[]')}, ${column((d) => d.period, 'int[]')}, ${column((d) => d.window, 'int[]')}, ${column((d) => d.lastUsedStep, 'bigint[]')},
                              ${column((d) => d.createdAt, 'timestamptz[]')}, ${column((d) => d.activatedAt, 'timestamptz[]')},
                              ${p.add(
                                inputs.map((i) => i.maxPerUser),
                                'int[]',
                              )}, ${p.add(
                                inputs.map((i) => i.requestId),
                                'text[]',
                              )})
           AS i(id, client_id, user_id, device_type, device_name, name_key, sealed_secret, key_id, algorithm, digits, period, totp_window, last_used_step,
                created_at, activated_at, max_per_user, request_id)
       ), slot AS (
         ${takeSlotsSql({
           from: 'FROM input',
           clientId: 'client_id',
           userId: 'user_id',
           count: '1',
           max: 'max_per_user',
           maxForCounter: '(SELECT max_per_user FROM input i WHERE i.client_id = c.client_id AND i.user_id = c.user_id)',
         })}
       ), device AS (
         INSERT INTO devices (id, client_id, user_id, device_type, device_name, name_key, sealed_secret, key_id, algorithm, digits, period, totp_window, status,
                              last_used_step, failure_count, locked_until, created_at, activated_at, last_used_at)
         SELECT i.id, i.client_id, i.user_id, i.device_type, i.device_name, i.name_key, i.sealed_secret, i.key_id, i.algorithm, i.digits, i.period, i.totp_window, 'ACTIVE',
                i.last_used_step, 0, NULL, i.created_at, i.activated_at, NULL
           FROM input i JOIN slot s ON s.client_id = i.client_id AND s.user_id = i.user_id
         RETURNING id, client_id, user_id, device_name, activated_at
       ), audit AS (
         ${insertAuditEvents(
           {
             clientId: sql('d.client_id'),
             userId: sql('d.user_id'),
             deviceId: sql('d.id'),
             type: 'DEVICE_ACTIVATED',
             requestId: sql('i.request_id'),
             detail: sql(`jsonb_build_object('deviceName', d.device_name)`),
             at: sql('d.activated_at'),
           },
           'FROM device d JOIN input i ON i.id = d.id',
         )}
       )
       SELECT id FROM device`;
  return { text, values: p.values };
}
