import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, Repository } from 'typeorm';
import { type Sql, sqlOf } from '../config/sql.js';
import { OAuthClientEntity } from './oauth-client.entity.js';

@Injectable()
export class ClientsRepository {
  private readonly repo: Repository<OAuthClientEntity>;

  private readonly sql: Sql;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.repo = dataSource.getRepository(OAuthClientEntity);
    this.sql = sqlOf(dataSource);
  }

  /** On every token request: one plain parameterised query. */
  async findById(id: string): Promise<OAuthClientEntity | null> {
    const rows = await this.sql<{ id: string; name: string; secret_hash: string; scopes: string[]; disabled: boolean; created_at: Date; secret_rotated_at: Date | null; token_generation: number }>(
      'SELECT id, name, secret_hash, scopes, disabled, created_at, secret_rotated_at, token_generation FROM oauth_clients WHERE id = $1', [id]);
    const row = rows[0];
    if (row === undefined) return null;
    const client = new OAuthClientEntity();
    client.id = row.id;
    client.name = row.name;
    client.secretHash = row.secret_hash;
    client.scopes = row.scopes;
    client.disabled = row.disabled;
    client.createdAt = row.created_at;
    client.secretRotatedAt = row.secret_rotated_at;
    client.tokenGeneration = row.token_generation;
    return client;
  }

  list(): Promise<OAuthClientEntity[]> {
    return this.repo.find({ order: { createdAt: 'ASC' } });
  }

  async insert(client: OAuthClientEntity): Promise<void> {
    await this.repo.insert(client);
  }

  async setDisabled(id: string, disabled: boolean): Promise<boolean> {
    const result = await this.repo.update({ id }, { disabled });
    return (result.affected ?? 0) > 0;
  }

  /** A new secret; with `revokeTokens`, tokens issued before stop working too. */
  async setSecretHash(id: string, secretHash: string, revokeTokens: boolean): Promise<boolean> {
    const rows = await this.sql(
      `UPDATE oauth_clients SET secret_hash = $2, secret_rotated_at = now(),
              token_generation = token_generation + CASE WHEN $3 THEN 1 ELSE 0 END
        WHERE id = $1 RETURNING id`,
      [id, secretHash, revokeTokens],
    );
    return rows.length > 0;
  }
}
