import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, Repository } from 'typeorm';
import { OAuthClientEntity } from './oauth-client.entity.js';

@Injectable()
export class ClientsRepository {
  private readonly repo: Repository<OAuthClientEntity>;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.repo = dataSource.getRepository(OAuthClientEntity);
  }

  findById(id: string): Promise<OAuthClientEntity | null> {
    return this.repo.findOneBy({ id });
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

  async setSecretHash(id: string, secretHash: string): Promise<boolean> {
    const result = await this.repo.update({ id }, { secretHash, secretRotatedAt: new Date() });
    return (result.affected ?? 0) > 0;
  }
}
