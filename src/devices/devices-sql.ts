/**
 * SQL about the devices table for other modules' statements, so that a statement written elsewhere
 * (recovery codes) can depend on a user's devices without naming the table. With
 * devices.repository.ts, device-batches.ts and statements/, the only code that knows it.
 */

/**
 * A condition: the user has a device for this client, held (FOR KEY SHARE) until the statement
 * commits, so a concurrent erasure of the user's devices waits for it, then sees what it wrote.
 */
export const userHasDeviceSql = (clientId: string, userId: string): string =>
  `EXISTS (SELECT 1 FROM devices WHERE client_id = ${clientId} AND user_id = ${userId} LIMIT 1 FOR KEY SHARE)`;
