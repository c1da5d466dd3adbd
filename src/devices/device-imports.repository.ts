import { Injectable } from '@nestjs/common';
import { Database } from '../database/database.js';
import { importStatement, type ImportOutcome, type ImportRow, RECOUNT } from './statements/import.sql.js';

export type { ImportOutcome, ImportRow };

/** Imported devices (statements/import.sql.ts), for the API route and the bulk import alike. */
@Injectable()
export class DeviceImportsRepository {
  constructor(private readonly db: Database) {}

  /** Each row's outcome, in order; one transaction per call. */
  insert(clientId: string, maxPerUser: number, rows: ImportRow[], requestId: string | null): Promise<ImportOutcome[]> {
    if (rows.length === 0) return Promise.resolve([]);
    const statement = importStatement(clientId, maxPerUser, rows, requestId);
    return this.db.transaction(async (tx) => {
      const outcomes = await tx.query<{ outcome: ImportOutcome }>(statement.text, statement.values, { timeoutMs: 60_000 });
      await tx.query(RECOUNT, [clientId, [...new Set(rows.map((r) => r.device.userId))]], { timeoutMs: 60_000 });
      return outcomes.map((o) => o.outcome);
    });
  }
}
