/** Routes a queue batch to its consumer by queue name. */

import { consumeOutbound } from "./destination/consumer";
import type { Env } from "./env";
import { log } from "./lib/log";
import { recordDeadLetters } from "./ops/dead-letters";
import { consumeInbound } from "./source/consumer";

export const QUEUE_NAMES = {
  inbound: "intercom-inbound",
  outbound: "intercom-outbound",
  inboundDead: "intercom-inbound-dlq",
  outboundDead: "intercom-outbound-dlq",
} as const;

/** The queue a dead-letter queue's messages were first sent to. */
export function originalQueue(deadLetterQueue: string): string {
  return deadLetterQueue.replace(/-dlq$/, "");
}

/** The `queue` handler: one consumer per queue. */
export async function handleQueueBatch(batch: MessageBatch, env: Env, ctx: ExecutionContext): Promise<void> {
  if (batch.queue.endsWith("-dlq")) return recordDeadLetters(batch, env);
  if (batch.queue === QUEUE_NAMES.inbound) return consumeInbound(batch, env, ctx);
  if (batch.queue === QUEUE_NAMES.outbound) return consumeOutbound(batch, env, ctx);
  log({ level: "error", msg: "message from an unknown queue left for retry", queue: batch.queue });
  batch.retryAll();
}
