/**
 * The per-user limit on active devices, written once for the statements that apply it.
 * user_device_counts keeps each user's number of active devices (their slots): admission checks it
 * (admission.sql.ts), activation and import take slots from it (activation.sql.ts, import.sql.ts).
 */

/** SQL: whether a user with `active` active devices may have `adding` more under the limit `max`. */
export const withinDeviceLimitSql = (active: string, adding: string, max: string): string => `${active} + ${adding} <= ${max}`;

export interface SlotRequest {
  /** The FROM clause (and joins) of the rows that want slots. */
  from: string;
  clientId: string;
  userId: string;
  /** How many slots the row's user wants: all of them or none. */
  count: string;
  /** The limit, over the `from` row. */
  max: string;
  /** The limit, over the user's counter row `c` (when it exists). */
  maxForCounter: string;
}

/**
 * SQL for a data-modifying CTE: takes the slots each row wants while its user stays within the
 * limit, counter rows in (client, user) order; returns the client_id and user_id of those that got
 * them. A user may appear once (ON CONFLICT cannot update a row twice).
 */
export const takeSlotsSql = (r: SlotRequest): string => `INSERT INTO user_device_counts AS c (client_id, user_id, active)
         SELECT ${r.clientId}, ${r.userId}, ${r.count} ${r.from} WHERE ${withinDeviceLimitSql('0', r.count, r.max)} ORDER BY 1, 2
         ON CONFLICT (client_id, user_id) DO UPDATE SET active = c.active + excluded.active
          WHERE ${withinDeviceLimitSql('c.active', 'excluded.active', r.maxForCounter)}
         RETURNING client_id, user_id`;
