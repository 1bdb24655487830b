/** Routes a queue batch to its consumer by queue name. */
import { consumeOutbound } from "./destination/consumer";
import type { Env } from "./env";
import { consumeJobs } from "./jobs/consumer";
import { log } from "./lib/log";
import { isDeadLetterQueue, QUEUE_NAMES } from "./lib/queue-names";
import { recordDeadLetters } from "./ops/dead-letters";
import { consumeInbound } from "./source/consumer";

/** The `queue` handler: one consumer per queue. */
export async function handleQueueBatch(batch: MessageBatch, env: Env, ctx: ExecutionContext): Promise<void> {
  if (isDeadLetterQueue(batch.queue)) return recordDeadLetters(batch, env);
  if (batch.queue === QUEUE_NAMES.inbound) return consumeInbound(batch, env, ctx);
  if (batch.queue === QUEUE_NAMES.outbound) return consumeOutbound(batch, env, ctx);
  if (batch.queue === QUEUE_NAMES.jobs) return consumeJobs(batch, env);
  log({ level: "error", msg: "message from an unknown queue left for retry", queue: batch.queue });
  batch.retryAll();
}
