import { Injectable } from '@nestjs/common';
import { Database } from '../database/database.js';
import type { PolicyOverrides } from './client-policy.js';
import type { OAuthClient } from './oauth-client.js';

interface ClientRow {
  id: string;
  name: string;
  secret_hash: string;
  scopes: string[];
  disabled: boolean;
  created_at: Date;
  secret_rotated_at: Date | null;
  token_generation: number;
  policy: PolicyOverrides;
}

const COLUMNS = 'id, name, secret_hash, scopes, disabled, created_at, secret_rotated_at, token_generation, policy';

const toClient = (r: ClientRow): OAuthClient => ({
  id: r.id,
  name: r.name,
  secretHash: r.secret_hash,
  scopes: r.scopes,
  disabled: r.disabled,
  createdAt: r.created_at,
  secretRotatedAt: r.secret_rotated_at,
  tokenGeneration: r.token_generation,
  policy: r.policy,
});

/** The oauth_clients table. */
@Injectable()
export class ClientsRepository {
  constructor(private readonly db: Database) {}

  async findById(id: string): Promise<OAuthClient | null> {
    const [row] = await this.db.query<ClientRow>(`SELECT ${COLUMNS} FROM oauth_clients WHERE id = $1`, [id]);
    return row === undefined ? null : toClient(row);
  }

  /** Which of `ids` are clients. */
  async existing(ids: string[]): Promise<string[]> {
    return (await this.db.query<{ id: string }>('SELECT id FROM oauth_clients WHERE id = ANY($1::uuid[])', [ids])).map((r) => r.id);
  }

  async list(): Promise<OAuthClient[]> {
    return (await this.db.query<ClientRow>(`SELECT ${COLUMNS} FROM oauth_clients ORDER BY created_at, id`, [])).map(toClient);
  }

  async insert(c: OAuthClient): Promise<void> {
    await this.db.query(`INSERT INTO oauth_clients (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
      c.id,
      c.name,
      c.secretHash,
      c.scopes,
      c.disabled,
      c.createdAt,
      c.secretRotatedAt,
      c.tokenGeneration,
      JSON.stringify(c.policy),
    ]);
  }

  /** Replaces the client's policy overrides. */
  async setPolicy(id: string, policy: PolicyOverrides): Promise<boolean> {
    return (await this.db.query('UPDATE oauth_clients SET policy = $2::jsonb WHERE id = $1 RETURNING id', [id, JSON.stringify(policy)])).length > 0;
  }

  async setDisabled(id: string, disabled: boolean): Promise<boolean> {
    return (await this.db.query('UPDATE oauth_clients SET disabled = $2 WHERE id = $1 RETURNING id', [id, disabled])).length > 0;
  }

  /** A new secret; with `revokeTokens`, the tokens issued before stop working too. */
  async setSecretHash(id: string, secretHash: string, revokeTokens: boolean, at: Date): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE oauth_clients SET secret_hash = $2, secret_rotated_at = $4, token_generation = token_generation + CASE WHEN $3 THEN 1 ELSE 0 END
        WHERE id = $1 RETURNING id`,
      [id, secretHash, revokeTokens, at],
    );
    return rows.length > 0;
  }
}
