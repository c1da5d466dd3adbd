import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsDefined, IsInt, IsIP, IsObject, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import type { LoginStatus } from '../login-request.js';

const PRINTABLE = /^[^\p{C}]*$/u;
const STATUSES: LoginStatus[] = ['PENDING', 'APPROVED', 'DENIED', 'EXPIRED', 'FAILED'];
const EXAMPLE_ID = '0b7d5c2e-8f1a-4c3b-9d6e-2a4f8c1e7b90';
const EXAMPLE_DEVICE = '5f0c9a8e-2b7d-4e61-9c3a-7d8e1f2a4b6c';

export class LoginDisplayDto {
  @ApiPropertyOptional({ example: 'Log in to Example Bank on the web', maxLength: 200, description: 'What the user is asked to approve' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(PRINTABLE, { message: 'message must contain printable characters only' })
  message?: string;

  @ApiPropertyOptional({ example: '203.0.113.7', description: "The browser's address, as the web app saw it (IPv4 or IPv6)" })
  @IsOptional()
  @IsIP()
  ip?: string;

  @ApiPropertyOptional({ example: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0', maxLength: 512, description: "The browser's user agent" })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  @Matches(PRINTABLE, { message: 'userAgent must contain printable characters only' })
  userAgent?: string;
}

export class CreateLoginRequestDto {
  @ApiPropertyOptional({ format: 'uuid', example: EXAMPLE_DEVICE, description: 'Only this active device may answer; any of the user’s otherwise' })
  @IsOptional()
  @IsUUID('4')
  deviceId?: string;

  @ApiPropertyOptional({ type: LoginDisplayDto, description: 'Context for the phone to show' })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => LoginDisplayDto)
  display?: LoginDisplayDto;
}

export class LoginDecisionDto {
  @ApiProperty({ format: 'uuid', example: EXAMPLE_DEVICE, description: 'The device whose secret computed the response' })
  @IsDefined()
  @IsUUID('4')
  deviceId: string;

  @ApiProperty({ example: '48219037', pattern: '^[0-9]{8}$', description: "The OCRA response (the payload's ocraSuite over its challenge)" })
  @IsDefined()
  @IsString()
  @Matches(/^[0-9]{8}$/, { message: 'response must be 8 digits' })
  response: string;
}

export class LoginWaitQueryDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: 25,
    default: 0,
    description: 'Long-poll: answer as soon as the status is no longer PENDING, or after this many seconds',
  })
  @IsOptional()
  // Plain decimal digits only ("0x10", "1e1" and " 1" are refused, not read as numbers).
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' && /^[0-9]{1,2}$/.test(value) ? Number(value) : value))
  @IsInt()
  @Min(0)
  @Max(25)
  waitSeconds?: number;
}

/** A login request as every route shows it; `status` is the request's status (API.md §11). */
export class LoginRequestDto {
  @ApiProperty({ enum: STATUSES, example: 'PENDING' })
  status: LoginStatus;

  @ApiProperty({ example: 'Waiting for the phone' })
  message: string;

  @ApiProperty({ format: 'uuid', example: EXAMPLE_ID })
  requestId: string;

  @ApiProperty({ example: 'ada' })
  userId: string;

  @ApiProperty({
    format: 'uuid',
    nullable: true,
    type: 'string',
    example: null,
    description: 'The device that decided it; before that, the device it is bound to (or null)',
  })
  deviceId: string | null;

  @ApiProperty({ format: 'date-time', example: '2026-11-29T10:02:00.000Z' })
  expiresAt: string;

  @ApiProperty({ type: LoginDisplayDto })
  display: LoginDisplayDto;

  @ApiProperty({ example: false, description: 'An approval is redeemed once (POST …/redeem)' })
  redeemed: boolean;
}

export class CreatedLoginRequestDto extends LoginRequestDto {
  @ApiProperty({ example: '9f3c1a7e5b2d4c6e8a0f1b3d5e7c9a2b4d6f8e0a', pattern: '^[0-9a-f]{40}$', description: 'The OCRA question (160 random bits)' })
  challenge: string;

  @ApiProperty({ example: 'OCRA-1:HOTP-SHA256-8:QH40', description: 'RFC 6287 suite the phone computes its response with' })
  ocraSuite: string;

  @ApiProperty({
    example: `totp-login://approve?requestId=${EXAMPLE_ID}&userId=ada&challenge=9f3c1a7e5b2d4c6e8a0f1b3d5e7c9a2b4d6f8e0a&ocraSuite=OCRA-1%3AHOTP-SHA256-8%3AQH40&issuer=TOTP+Service`,
    description: 'What the QR code holds, for the organisation’s app',
  })
  qrPayload: string;

  @ApiProperty({ example: `/v1/users/ada/login-requests/${EXAMPLE_ID}/qr`, description: 'The QR code (PNG, or SVG by Accept)' })
  qrCodeUrl: string;
}
