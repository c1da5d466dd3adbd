import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { SigningKeyEntity } from './signing-key.entity.js';

const KEY_CREATION_LOCK = 734_201_338;

@Injectable()
export class SigningKeysRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  all(): Promise<SigningKeyEntity[]> {
    return this.dataSource.getRepository(SigningKeyEntity).find({ order: { createdAt: 'DESC' } });
  }

  /**
   * Returns the newest key, creating it with `make` when there is none. Serialised by an advisory
   * lock so replicas starting together agree on one key.
   */
  async newestOrCreate(make: () => SigningKeyEntity): Promise<SigningKeyEntity> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [KEY_CREATION_LOCK]);
      const repo = manager.getRepository(SigningKeyEntity);
      const [newest] = await repo.find({ order: { createdAt: 'DESC' }, take: 1 });
      if (newest !== undefined) return newest;
      const key = make();
      await repo.insert(key);
      return key;
    });
  }
}
