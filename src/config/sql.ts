import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';

/** Runs one parameterised statement and returns its rows (for SELECT and for … RETURNING alike). */
export type Sql = <T>(text: string, parameters: unknown[], options?: { prepare?: boolean }) => Promise<T[]>;

const names = new Map<string, string>();
const nameOf = (text: string): string => {
  let name = names.get(text);
  if (name === undefined) {
    name = `s_${createHash('sha1').update(text).digest('hex').slice(0, 16)}`;
    names.set(text, name);
  }
  return name;
};

/**
 * Single statements on the hot paths go straight to the pool TypeORM created (same connections,
 * same timeouts): the profile showed TypeORM's per-query machinery (query runner, broadcaster)
 * costing more than the statement itself. Statements are prepared (named) by default, so Postgres
 * parses and plans each once per connection instead of on every request. Used by repositories only.
 */
export function sqlOf(dataSource: DataSource): Sql {
  return async <T>(text: string, parameters: unknown[], options: { prepare?: boolean } = {}): Promise<T[]> => {
    const pool = (dataSource.driver as unknown as { master?: Pool }).master;
    if (pool === undefined) throw new Error('Driver not Connected');
    const query = options.prepare === false ? { text, values: parameters } : { name: nameOf(text), text, values: parameters };
    return (await pool.query(query)).rows as T[];
  };
}
