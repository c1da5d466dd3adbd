import { Injectable } from '@nestjs/common';
import { Database } from '../database/database.js';
import { GIVE_BACK, IMPORT_LOCK, importStatement, type ImportOutcome, type ImportRow } from './statements/import.sql.js';

export type { ImportOutcome, ImportRow };

/** Imported devices (statements/import.sql.ts), for the API route and the bulk import alike. */
@Injectable()
export class DeviceImportsRepository {
  constructor(private readonly db: Database) {}

  /** Each row's outcome, in order; one transaction per call, one import per client at a time. */
  insert(clientId: string, maxPerUser: number, rows: ImportRow[], requestId: string | null): Promise<ImportOutcome[]> {
    if (rows.length === 0) return Promise.resolve([]);
    const statement = importStatement(clientId, maxPerUser, rows, requestId);
    return this.db.transaction(async (tx) => {
      await tx.query(IMPORT_LOCK, [clientId], { timeoutMs: 60_000 });
      const results = await tx.query<{ outcome: ImportOutcome; slotted: boolean; user_id: string }>(statement.text, statement.values, {
        timeoutMs: 60_000,
      });
      const unused = new Map<string, number>();
      for (const r of results) if (r.slotted && r.outcome !== 'IMPORTED') unused.set(r.user_id, (unused.get(r.user_id) ?? 0) + 1);
      if (unused.size > 0) await tx.query(GIVE_BACK, [clientId, [...unused.keys()], [...unused.values()]]);
      return results.map((r) => r.outcome);
    });
  }
}
