/**
 * Sending many messages to a queue within Cloudflare Queues' limits: at most 100 messages and 256 KB per
 * `sendBatch`, 128 KB per message. Every producer that sends more than one message goes through `sendAll`.
 */

import { PLATFORM_LIMITS } from "../platform/limits";

/** Queues' limits (the platform-limits layer checks the same numbers). */
export const QUEUE_LIMITS = {
  messagesPerBatch: PLATFORM_LIMITS["queues.batch_messages"].max,
  batchBytes: PLATFORM_LIMITS["queues.batch_bytes"].max,
  messageBytes: PLATFORM_LIMITS["queues.message_bytes"].max,
} as const;

/** Room left for the queue's own per-message overhead when summing a batch. */
const PER_MESSAGE_OVERHEAD_BYTES = 100;

/** A message larger than a queue accepts; nothing of its batch was sent. */
export class QueueMessageTooLargeError extends Error {
  constructor(readonly bytes: number) {
    super(`a queue message of ${bytes} bytes exceeds the ${QUEUE_LIMITS.messageBytes}-byte limit`);
    this.name = "QueueMessageTooLargeError";
  }
}

const encoder = new TextEncoder();

/** Bytes of a message body as the queue counts them (its JSON). */
export function messageBytes(body: unknown): number {
  return encoder.encode(JSON.stringify(body)).byteLength;
}

/** Splits bodies into `sendBatch` calls that each fit the message-count and byte limits (pure). */
export function planBatches<T>(bodies: readonly T[]): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let currentBytes = 0;
  for (const body of bodies) {
    const bytes = messageBytes(body) + PER_MESSAGE_OVERHEAD_BYTES;
    if (bytes > QUEUE_LIMITS.messageBytes) throw new QueueMessageTooLargeError(bytes);
    const full = current.length >= QUEUE_LIMITS.messagesPerBatch || currentBytes + bytes > QUEUE_LIMITS.batchBytes;
    if (full && current.length > 0) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(body);
    currentBytes += bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Sends every body, as few `sendBatch` calls as the limits allow; returns how many were sent. */
export async function sendAll<T>(queue: Queue<T>, bodies: readonly T[]): Promise<number> {
  for (const batch of planBatches(bodies)) await queue.sendBatch(batch.map((body) => ({ body })));
  return bodies.length;
}
