import { ApiProperty } from '@nestjs/swagger';
import { CODES_EXAMPLE } from '../../recovery/dto/recovery-codes.dto.js';

export const DEVICE_STATUSES = ['PENDING_ACTIVATION', 'ACTIVE', 'LOCKED'] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

const ID_EXAMPLE = '0063f27c-787b-4046-8b8e-a75e241b5ea6';
const Success = () => ApiProperty({ enum: ['SUCCESS'], example: 'SUCCESS' });

export class CreatedRegistrationDto {
  @ApiProperty({ format: 'uuid', example: ID_EXAMPLE, description: "The registration's id; the device keeps it once activated" })
  authId: string;

  @Success()
  status: 'SUCCESS';

  @ApiProperty({ example: 'Please get the OTP from registered device to authenticate' })
  message: string;

  @ApiProperty({
    example: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
    pattern: '^[A-Z2-7]+$',
    description: 'Base32, no padding. Returned here and never again.',
  })
  secret: string;

  @ApiProperty({
    example: 'otpauth://totp/Acme:ada%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Acme&algorithm=SHA1&digits=6&period=30',
    pattern: '^otpauth://totp/',
  })
  registrationUri: string;

  @ApiProperty({ example: `/v1/users/ada/devices/${ID_EXAMPLE}/qr`, description: 'Relative to the service' })
  qrCodeUrl: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-22T10:10:00.000Z' })
  expiresAt: string;
}

export class OtpAcceptedDto {
  @Success()
  status: 'SUCCESS';

  @ApiProperty({ example: 'OTP has been validated successfully' })
  message: string;

  @ApiProperty({ format: 'uuid', example: ID_EXAMPLE, description: 'The device that accepted the code' })
  deviceId: string;
}

export class ActivatedDeviceDto extends OtpAcceptedDto {
  @ApiProperty({
    type: [String],
    required: false,
    example: CODES_EXAMPLE,
    description:
      'Only when the user (for this client) has no recovery codes yet, as with their first device: ' +
      '10 one-time codes, shown once. Absent otherwise, also when they could not be stored just now: ' +
      'GET …/recovery-codes tells (remainingCodes 0, createdAt null), POST …/recovery-codes issues them',
  })
  recoveryCodes?: string[];
}

export class DeviceDto {
  @ApiProperty({ format: 'uuid', example: ID_EXAMPLE })
  deviceId: string;

  @ApiProperty({ enum: ['TOTP'], example: 'TOTP' })
  deviceType: 'TOTP';

  @ApiProperty({ example: 'My phone', minLength: 1, maxLength: 64 })
  deviceName: string;

  @ApiProperty({ enum: DEVICE_STATUSES, example: 'ACTIVE' })
  status: DeviceStatus;

  @ApiProperty({ format: 'date-time', example: '2026-11-22T10:00:00.000Z' })
  createdAt: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-22T10:01:12.000Z', nullable: true, type: String, description: 'Null while pending' })
  activatedAt: string | null;

  @ApiProperty({ format: 'date-time', example: '2026-11-23T08:30:00.000Z', nullable: true, type: String })
  lastUsedAt: string | null;

  @ApiProperty({ format: 'date-time', example: null, nullable: true, type: String, description: 'Pending registrations only: when it expires' })
  expiresAt: string | null;
}

export class DeviceEnvelopeDto {
  @Success()
  status: 'SUCCESS';

  @ApiProperty({ example: 'Device found' })
  message: string;

  @ApiProperty({ type: DeviceDto })
  device: DeviceDto;
}

export class DeviceListDto {
  @Success()
  status: 'SUCCESS';

  @ApiProperty({ example: '2 device(s)' })
  message: string;

  @ApiProperty({ type: [DeviceDto] })
  devices: DeviceDto[];

  @ApiProperty({ nullable: true, type: String, example: null, description: 'Pass as cursor for the next page; null on the last page' })
  nextCursor: string | null;
}
