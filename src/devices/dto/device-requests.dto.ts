import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsDefined, IsOptional, IsString, Length, Matches, ValidateBy } from 'class-validator';
import { DEVICE_NAME_MAX_CODE_POINTS, deviceNameProblem, normalizeDeviceName } from '../device-name.js';

const trim = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? value.trim() : value);
// Printable: no control, format, surrogate or unassigned code points (Unicode category C).
const PRINTABLE = /^[^\p{C}]+$/u;

/** A device name: NFC, trimmed, 1-64 printable code points (devices/device-name.ts). */
const DeviceName = (example: string, description?: string) =>
  applyDecorators(
    ApiProperty({ example, minLength: 1, maxLength: DEVICE_NAME_MAX_CODE_POINTS, description }),
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? normalizeDeviceName(value) : value)),
    IsDefined(),
    IsString(),
    ValidateBy({
      name: 'isDeviceName',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && deviceNameProblem(value) === undefined,
        defaultMessage: (args) => (typeof args?.value === 'string' ? deviceNameProblem(args.value) : undefined) ?? 'deviceName must be a string',
      },
    }),
  );

export class CreateDeviceDto {
  @ApiProperty({ enum: ['TOTP'], example: 'TOTP', description: 'Only TOTP for now (400 UNSUPPORTED_DEVICE_TYPE otherwise)' })
  @IsDefined()
  @IsString()
  deviceType: string;

  @DeviceName(
    'My phone',
    "NFC-normalised and trimmed; 1-64 code points; unique among the user's active devices, ignoring case and look-alike characters (UTS #39)",
  )
  deviceName: string;

  @ApiPropertyOptional({
    example: 'ada@example.com',
    minLength: 1,
    maxLength: 128,
    description: 'Label in the authenticator app; defaults to userId',
  })
  @Transform(trim)
  @IsOptional()
  @IsString()
  @Length(1, 128)
  @Matches(PRINTABLE, { message: 'accountName must contain printable characters only' })
  accountName?: string;
}

export class RenameDeviceDto {
  @DeviceName('Work phone')
  deviceName: string;
}

export class OtpDto {
  @ApiProperty({ example: '523471', pattern: '^[0-9]{6,8}$', description: "Digits only, as many as the device's policy (6 by default)" })
  @IsDefined()
  @IsString()
  @Matches(/^\d{6,8}$/, { message: 'otp must be 6 to 8 digits' })
  otp: string;
}

export class ResyncDto {
  @ApiProperty({ example: '523471', pattern: '^[0-9]{6,8}$', description: 'A code the device shows' })
  @IsDefined()
  @IsString()
  @Matches(/^\d{6,8}$/, { message: 'otp1 must be 6 to 8 digits' })
  otp1: string;

  @ApiProperty({ example: '104337', pattern: '^[0-9]{6,8}$', description: 'The next code it shows (the following time step)' })
  @IsDefined()
  @IsString()
  @Matches(/^\d{6,8}$/, { message: 'otp2 must be 6 to 8 digits' })
  otp2: string;
}
