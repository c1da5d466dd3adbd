import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

/**
 * An existing authenticator to import (API.md §12). Types here; the rules (base32 of 16-64 bytes,
 * the device-name rules, parameters) are the bulk import's too: devices/device-import.ts.
 */
export class ImportDeviceDto {
  @ApiProperty({ example: 'Phone (migrated)', minLength: 1, maxLength: 64, description: 'The device-name rules of create apply' })
  @IsString()
  @MaxLength(512)
  deviceName: string;

  @ApiProperty({
    example: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
    description: 'The shared secret, base32 (RFC 4648; case, spaces and padding do not matter), 16-64 bytes. Stored encrypted, never returned.',
    maxLength: 256,
  })
  @IsString()
  @MaxLength(256)
  secret: string;

  @ApiPropertyOptional({ enum: ['SHA1', 'SHA256', 'SHA512'], description: "Default: the client's policy" })
  @IsOptional()
  @IsIn(['SHA1', 'SHA256', 'SHA512'])
  algorithm?: 'SHA1' | 'SHA256' | 'SHA512';

  @ApiPropertyOptional({ type: 'integer', enum: [6, 8], description: "Default: the client's policy" })
  @IsOptional()
  @IsIn([6, 8])
  digits?: 6 | 8;

  @ApiPropertyOptional({ type: 'integer', minimum: 15, maximum: 120, description: "Seconds per step. Default: the client's policy" })
  @IsOptional()
  @IsInt()
  period?: number;

  @ApiPropertyOptional({
    example: '734102',
    pattern: '^[0-9]{6,8}$',
    description: 'A current code: the device is imported only if it verifies (its step is spent)',
  })
  @IsOptional()
  @IsString()
  @Matches(/^\d{6,8}$/, { message: 'otp must be 6 to 8 digits' })
  otp?: string;

  @ApiPropertyOptional({
    example: 'legacy-mfa-000123',
    maxLength: 128,
    description: 'Your id of this authenticator, unique per client: importing it again answers 409 DEVICE_ALREADY_IMPORTED',
  })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  externalId?: string;
}
