import { ApiProperty, type SchemaObject } from '@nestjs/swagger';
import { AUDIT_EVENT_DETAILS, AUDIT_EVENT_TYPES, type AuditEventType } from './audit-event.js';

export interface AuditEventDto {
  eventId: string;
  type: AuditEventType;
  userId: string;
  deviceId: string | null;
  requestId: string | null;
  detail: Record<string, string | number>;
  createdAt: string;
}

const schemaName = (type: AuditEventType) => `AuditEvent_${type}`;

/** One schema per event type (its `detail` typed), for the document's components. */
export const AUDIT_EVENT_SCHEMAS: Record<string, SchemaObject> = Object.fromEntries(
  AUDIT_EVENT_TYPES.map((type) => [
    schemaName(type),
    {
      type: 'object',
      required: ['eventId', 'type', 'userId', 'deviceId', 'requestId', 'detail', 'createdAt'],
      additionalProperties: false,
      properties: {
        eventId: { type: 'string', format: 'uuid' },
        type: { type: 'string', enum: [type] },
        userId: { type: 'string', example: 'ada' },
        deviceId: { type: 'string', format: 'uuid', nullable: true },
        requestId: { type: 'string', nullable: true, description: 'The request that caused it (null for the expiry sweep)' },
        detail: {
          type: 'object',
          additionalProperties: false,
          // Every fact is always written; deviceName is removed when the user is erased.
          required: Object.keys(AUDIT_EVENT_DETAILS[type]).filter((name) => name !== 'deviceName' && name !== 'reason' && name !== 'externalId'),
          description: 'Non-secret facts of the event; deviceName is removed when the user is erased (DELETE /v1/users/{userId})',
          properties: Object.fromEntries(
            Object.entries(AUDIT_EVENT_DETAILS[type]).map(([name, kind]) => [
              name,
              kind === 'date-time' || kind === 'uuid' ? { type: 'string', format: kind } : { type: kind },
            ]),
          ),
        },
        createdAt: { type: 'string', format: 'date-time' },
      },
    } satisfies SchemaObject,
  ]),
);

export class AuditEventsPageDto {
  @ApiProperty({ enum: ['SUCCESS'], example: 'SUCCESS' })
  status: 'SUCCESS';

  @ApiProperty({ example: '2 event(s)' })
  message: string;

  @ApiProperty({
    type: 'array',
    items: {
      oneOf: AUDIT_EVENT_TYPES.map((t) => ({ $ref: `#/components/schemas/${schemaName(t)}` })),
    },
    description: 'Newest first',
  })
  events: AuditEventDto[];

  @ApiProperty({ nullable: true, type: String, example: 'MTIz', description: 'Pass as cursor for the next page; null on the last page' })
  nextCursor: string | null;
}
