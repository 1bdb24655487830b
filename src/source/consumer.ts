/** The source consumer (Intercom → CDP). */
import type { Env } from "../env";

/** Consumes a batch of INBOUND messages. */
export async function consumeInbound(batch: MessageBatch, _env: Env, _ctx: ExecutionContext): Promise<void> {
  batch.ackAll();
}
