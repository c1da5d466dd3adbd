import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';

/** Runs one parameterised statement and returns its rows (for SELECT and for … RETURNING alike). */
export type Sql = <T>(text: string, parameters: unknown[]) => Promise<T[]>;

/**
 * Single statements on the hot paths go straight to the pool TypeORM created (same connections,
 * same timeouts): the profile showed TypeORM's per-query machinery (query runner, broadcaster)
 * costing more than the statement itself. Used by repositories only.
 */
export function sqlOf(dataSource: DataSource): Sql {
  return async <T>(text: string, parameters: unknown[]): Promise<T[]> => {
    const pool = (dataSource.driver as unknown as { master?: Pool }).master;
    if (pool === undefined) throw new Error('Driver not Connected');
    return (await pool.query(text, parameters)).rows as T[];
  };
}
