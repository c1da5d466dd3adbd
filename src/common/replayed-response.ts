import type { FastifyReply, FastifyRequest } from 'fastify';

/** A response as it went out, to be sent again as it was. */
export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Thrown to answer with a kept response (an earlier request with the same Idempotency-Key):
 * the one error filter sends it as it was, marked Idempotent-Replayed.
 */
export class ReplayedResponse extends Error {
  constructor(readonly response: StoredResponse) {
    super('replayed');
  }
}

export async function sendReplay(replayed: ReplayedResponse, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const { status, headers, body } = replayed.response;
  await reply
    .status(status)
    .headers({ ...headers, 'idempotent-replayed': 'true', 'x-request-id': request.id })
    .send(body);
}
