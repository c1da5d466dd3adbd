import { ApiProperty } from '@nestjs/swagger';

export const DEVICE_STATUSES = ['PENDING_ACTIVATION', 'ACTIVE', 'LOCKED'] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];

export class CreatedRegistrationDto {
  @ApiProperty({ example: '0063f27c-787b-4046-8b8e-a75e241b5ea6' })
  authId: string;

  @ApiProperty({ example: 'SUCCESS' })
  status: 'SUCCESS';

  @ApiProperty({ example: 'Please get the OTP from registered device to authenticate' })
  message: string;

  @ApiProperty({ example: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', description: 'Base32, no padding. Returned here and never again.' })
  secret: string;

  @ApiProperty({
    example: 'otpauth://totp/Acme:ada%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Acme&algorithm=SHA1&digits=6&period=30',
  })
  registrationUri: string;

  @ApiProperty({ example: '/v1/users/ada/devices/0063f27c-787b-4046-8b8e-a75e241b5ea6/qr' })
  qrCodeUrl: string;

  @ApiProperty({ example: '2026-11-22T10:10:00.000Z' })
  expiresAt: string;
}

export class OtpAcceptedDto {
  @ApiProperty({ example: 'SUCCESS' })
  status: 'SUCCESS';

  @ApiProperty({ example: 'OTP has been validated successfully' })
  message: string;

  @ApiProperty({ example: '0063f27c-787b-4046-8b8e-a75e241b5ea6' })
  deviceId: string;
}

export class DeviceDto {
  @ApiProperty({ example: '0063f27c-787b-4046-8b8e-a75e241b5ea6' })
  deviceId: string;

  @ApiProperty({ example: 'TOTP' })
  deviceType: 'TOTP';

  @ApiProperty({ example: 'My phone' })
  deviceName: string;

  @ApiProperty({ enum: DEVICE_STATUSES, example: 'ACTIVE' })
  status: DeviceStatus;

  @ApiProperty({ example: '2026-11-22T10:00:00.000Z' })
  createdAt: string;

  @ApiProperty({ example: '2026-11-22T10:01:12.000Z', nullable: true, type: String })
  activatedAt: string | null;

  @ApiProperty({ example: '2026-11-23T08:30:00.000Z', nullable: true, type: String })
  lastUsedAt: string | null;

  @ApiProperty({ example: null, nullable: true, type: String, description: 'Pending registrations only: when it expires' })
  expiresAt: string | null;
}

export class DeviceEnvelopeDto {
  @ApiProperty({ example: 'SUCCESS' })
  status: 'SUCCESS';

  @ApiProperty({ example: 'Device found' })
  message: string;

  @ApiProperty({ type: DeviceDto })
  device: DeviceDto;
}

export class DeviceListDto {
  @ApiProperty({ example: 'SUCCESS' })
  status: 'SUCCESS';

  @ApiProperty({ example: '2 device(s)' })
  message: string;

  @ApiProperty({ type: [DeviceDto] })
  devices: DeviceDto[];

  @ApiProperty({ nullable: true, type: String, example: null, description: 'Pass as cursor for the next page; null on the last page' })
  nextCursor: string | null;
}
