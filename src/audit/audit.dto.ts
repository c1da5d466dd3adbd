import { ApiProperty } from '@nestjs/swagger';
import { AUDIT_EVENT_TYPES, type AuditEventType } from './audit-event.js';

export class AuditEventDto {
  @ApiProperty({ example: '6c1f0d8e-2b0e-4f7a-9a53-0a3c1c5d2e11' })
  eventId: string;

  @ApiProperty({ enum: AUDIT_EVENT_TYPES, example: 'OTP_VERIFIED' })
  type: AuditEventType;

  @ApiProperty({ example: 'ada' })
  userId: string;

  @ApiProperty({ example: '0063f27c-787b-4046-8b8e-a75e241b5ea6', nullable: true, type: String })
  deviceId: string | null;

  @ApiProperty({ example: '7b8e0c2a-…', nullable: true, type: String })
  requestId: string | null;

  @ApiProperty({ example: { deviceName: 'My phone' }, description: 'Non-secret facts of the event' })
  detail: Record<string, string | number>;

  @ApiProperty({ example: '2026-11-22T10:00:00.000Z' })
  createdAt: string;
}

export class AuditEventsPageDto {
  @ApiProperty({ example: 'SUCCESS' })
  status: 'SUCCESS';

  @ApiProperty({ example: '2 event(s)' })
  message: string;

  @ApiProperty({ type: [AuditEventDto] })
  events: AuditEventDto[];

  @ApiProperty({ nullable: true, type: String, example: 'MTIz', description: 'Pass as cursor for the next page; null on the last page' })
  nextCursor: string | null;
}
