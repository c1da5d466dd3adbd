import { insertAuditEvents, isoText, sql } from '../../audit/audit-sql.js';
import { SqlParams } from '../../database/sql-params.js';
import type { AttemptInput } from '../device-batches.js';

/**
 * Decides each code on its locked device row: a locked device refuses without counting; a matching
 * step later than the last accepted one is accepted (count reset); anything else counts a failure,
 * the threshold-th of which locks the device and starts a clean count. The count is checked on the
 * locked row before a guess's outcome applies, so at most `threshold` wrong codes are decided per
 * lock period, however many arrive at once on however many replicas. Rows are locked in id order.
 * The audit events are written by the same statement.
 */
export function attemptStatement(inputs: AttemptInput[]): { text: string; values: unknown[] } {
  const p = new SqlParams();
  const column = <T>(f: (i: AttemptInput) => T, type: string) => p.add(inputs.map(f), type);
  const text = `WITH input AS (
       SELECT * FROM unnest(${column((i) => i.id, 'uuid[]')}, ${column((i) => i.clientId, 'uuid[]')}, ${column((i) => i.userId, 'text[]')},
                            ${column((i) => i.step, 'bigint[]')}, ${column((i) => i.now, 'timestamptz[]')}, ${column((i) => i.threshold, 'int[]')},
                            ${column((i) => i.lockSeconds, 'int[]')}, ${column((i) => i.requestId, 'text[]')}, ${column((i) => i.nowStep, 'bigint[]')},
                            ${column((i) => i.window, 'int[]')}, ${column((i) => i.maxDrift, 'int[]')}, ${column((i) => i.resync, 'bool[]')})
         AS i(id, client_id, user_id, step, at, threshold, lock_secs, request_id, now_step, win, max_drift, resync)
     ), target AS (
       SELECT d.id, d.last_used_step, d.failure_count, d.locked_until, i.client_id, i.user_id, i.at, i.threshold, i.lock_secs, i.request_id,
              i.now_step, i.max_drift, i.resync,
              -- A step counts only inside the window around the device's drift (or from a resync).
              CASE WHEN i.resync OR i.step BETWEEN i.now_step + d.drift - i.win AND i.now_step + d.drift + i.win THEN i.step END AS step
         FROM devices d JOIN input i ON d.id = i.id AND d.client_id = i.client_id AND d.user_id = i.user_id
        ORDER BY d.id
          FOR UPDATE OF d
     ), decided AS (
       SELECT t.*, o.outcome, o.outcome = 'ACCEPTED' AS ok, t.step IS NOT NULL AND o.outcome IN ('REJECTED', 'LOCKED_NOW') AS replay,
              CASE WHEN o.outcome = 'LOCKED_NOW' THEN t.at + make_interval(secs => t.lock_secs) END AS new_lock
         FROM target t CROSS JOIN LATERAL (SELECT CASE
                WHEN t.locked_until > t.at THEN 'LOCKED'
                WHEN t.step IS NOT NULL AND (t.last_used_step IS NULL OR t.last_used_step < t.step) THEN 'ACCEPTED'
                WHEN t.failure_count + 1 >= t.threshold THEN 'LOCKED_NOW'
                ELSE 'REJECTED' END AS outcome) o
     ), changed AS (
       UPDATE devices d SET
           last_used_step = CASE WHEN x.ok THEN x.step ELSE d.last_used_step END,
           drift = CASE WHEN x.ok THEN greatest(-x.max_drift, least(x.max_drift, x.step - x.now_step)) ELSE d.drift END,
           last_used_at = CASE WHEN x.ok THEN x.at ELSE d.last_used_at END,
           failure_count = CASE WHEN x.outcome = 'REJECTED' THEN x.failure_count + 1 ELSE 0 END,
           locked_until = x.new_lock
         FROM decided x WHERE d.id = x.id AND x.outcome <> 'LOCKED'
       RETURNING d.id
     ), audit AS (
       ${insertAuditEvents(
         {
           clientId: sql('x.client_id'),
           userId: sql('x.user_id'),
           deviceId: sql('x.id'),
           type: sql('e.type'),
           requestId: sql('x.request_id'),
           detail: sql(`CASE WHEN e.type = 'DEVICE_LOCKED' THEN jsonb_build_object('lockedUntil', ${isoText('x.new_lock')}) END`),
           at: sql('x.at'),
         },
         `FROM decided x CROSS JOIN LATERAL (VALUES (1, x.ok, CASE WHEN x.resync THEN 'DEVICE_RESYNCED' ELSE 'OTP_VERIFIED' END), (2, x.replay, 'REPLAY_REFUSED'),
                (3, x.outcome IN ('REJECTED', 'LOCKED_NOW'), 'VERIFICATION_FAILED'), (4, x.outcome = 'LOCKED_NOW', 'DEVICE_LOCKED')) AS e(n, happened, type)
          WHERE e.happened ORDER BY x.id, e.n`,
       )}
     )
     SELECT x.id, x.outcome, CASE x.outcome WHEN 'LOCKED_NOW' THEN x.new_lock WHEN 'LOCKED' THEN x.locked_until END AS locked_until, x.replay
       FROM decided x`;
  return { text, values: p.values };
}
