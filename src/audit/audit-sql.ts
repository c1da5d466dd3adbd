import { AUDIT_EVENT_TYPES, type AuditEventType } from './audit-event.js';

/** An SQL expression (a column of another CTE, a CASE, …) rather than a literal value. */
export interface SqlExpression {
  sql: string;
}
export const sql = (text: string): SqlExpression => ({ sql: text });

/** Each column of the events to write, by name: an SQL expression over the row source. */
export interface AuditColumns {
  clientId: SqlExpression;
  userId: SqlExpression;
  deviceId: SqlExpression;
  type: AuditEventType | SqlExpression;
  requestId: SqlExpression;
  /** A jsonb expression, or NULL. */
  detail: SqlExpression;
  at: SqlExpression;
}

/**
 * The INSERT of audit events for a data-modifying CTE, so a change and the event recording it are
 * written by one statement (atomically, in one round trip): `from` is the rest of a SELECT (FROM …
 * WHERE …) over the rows that changed. The only place outside audit.repository.ts that knows the
 * audit_events table.
 */
export function insertAuditEvents(columns: AuditColumns, from: string): string {
  const type = typeof columns.type === 'string' ? literal(columns.type) : columns.type.sql;
  return `INSERT INTO audit_events (event_id, client_id, user_id, device_id, type, request_id, detail, created_at)
    SELECT gen_random_uuid(), ${columns.clientId.sql}, ${columns.userId.sql}, ${columns.deviceId.sql}, ${type}, ${columns.requestId.sql}, ${columns.detail.sql}, ${columns.at.sql}
    ${from}`;
}

const literal = (type: AuditEventType): string => {
  if (!(AUDIT_EVENT_TYPES as readonly string[]).includes(type)) throw new Error(`unknown audit event type ${type}`);
  return `'${type}'`;
};

/** An ISO-8601 UTC text for a timestamptz expression, as Date.toISOString writes it. */
export const isoText = (expression: string): string => `to_char(${expression} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
