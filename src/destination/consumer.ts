/**
 * The destination consumer (CDP → Intercom): hands each OUTBOUND message to its object's Durable Object, which
 * coalesces and runs the work; resync pages are expanded into one message per user.
 */
import { database } from "../db/client";
import type { Env } from "../env";
import { recordDeadLetter } from "../ops/dead-letters";
import { QUEUE_NAMES } from "../queues";
import { log } from "../lib/log";
import { backoff } from "./retry-policy";
import { OutboundMessage, syncObjectName } from "./outbound-message";
import { queueResyncPage } from "./resync";

/** Consumes a batch of OUTBOUND messages; a message that cannot be handed over is retried with backoff. */
export async function consumeOutbound(batch: MessageBatch, env: Env, _ctx: ExecutionContext): Promise<void> {
  await Promise.all(
    batch.messages.map(async (message) => {
      const parsed = OutboundMessage.safeParse(message.body);
      if (!parsed.success) {
        // Kept for inspection in the dead-letter record: it cannot be processed, but it is not lost.
        await recordDeadLetter(database(env.DB), {
          queue: QUEUE_NAMES.outbound,
          connectionId: null,
          workspaceId: null,
          body: message.body,
          detail: `malformed outbound message: ${parsed.error.issues.map((issue) => issue.message).join("; ")}`,
        });
        message.ack();
        return;
      }
      try {
        const body = parsed.data;
        if (body.kind === "resync") await queueResyncPage(env, body);
        else await env.CONTACT_SYNC.getByName(syncObjectName(body)).enqueue(body);
        message.ack();
      } catch (error) {
        log({ level: "warn", msg: "outbound message not handed over; retrying", outcome: "retrying", message_id: message.id, error: String(error) });
        message.retry({ delaySeconds: Math.ceil(backoff(message.attempts, Math.random()) / 1000) });
      }
    }),
  );
}
