import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { validationError } from './domain-error.js';

export class PageQueryDto {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 20, description: 'Page size' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ pattern: '^[A-Za-z0-9_-]{1,200}$', description: "Opaque cursor from the previous page's nextCursor" })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,200}$/, { message: 'cursor is not a cursor this service issued' })
  cursor?: string;
}

export const DEFAULT_PAGE_SIZE = 20;

export const encodeCursor = (value: string): string => Buffer.from(value, 'utf8').toString('base64url');

/** Decodes a cursor and checks it with `valid`; a forged or stale-format cursor is a 400, never a 500. */
export function decodeCursor(cursor: string | undefined, valid: (value: string) => boolean): string | undefined {
  if (cursor === undefined) return undefined;
  const value = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!valid(value)) throw validationError([{ field: 'cursor', message: 'cursor is not a cursor this service issued' }]);
  return value;
}
