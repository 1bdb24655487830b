/**
 * The destination consumer (CDP → Intercom): hands each OUTBOUND message to its object's Durable Object, which
 * coalesces and runs the work. Resyncs run in the bulk lane (JOBS queue, resync.ts); a `resync` page left on this
 * queue by an earlier version is acknowledged and logged (start the resync again: it is now a job with progress).
 */

import { controlDb } from "../db/placement";
import type { Env } from "../env";
import { describeError } from "../lib/errors";
import { log } from "../lib/log";
import { QUEUE_NAMES } from "../lib/queue-names";
import { recordDeadLetter } from "../ops/dead-letters";
import { resolveBatch } from "./batch-resolve";
import { contactSyncObject } from "./contact-sync";
import { OutboundMessage, type SyncMessage, syncObjectName } from "./outbound-message";
import { backoff } from "./plan/retry-policy";

/**
 * Consumes a batch of OUTBOUND messages: users not in the identity map yet are resolved with one search per
 * connection (batch-resolve.ts), then each message goes to its object. A message that cannot be handed over is
 * retried with backoff.
 */
export async function consumeOutbound(batch: MessageBatch, env: Env, _ctx: ExecutionContext): Promise<void> {
  injectChaos(env, batch);
  const parsed = batch.messages.map((message) => ({ message, parsed: OutboundMessage.safeParse(message.body) }));
  const hints = await absenceHints(
    env,
    parsed.flatMap(({ parsed }) => (parsed.success && parsed.data.kind !== "resync" ? [parsed.data] : [])),
  );
  await Promise.all(
    parsed.map(async ({ message, parsed }) => {
      if (!parsed.success) {
        // Kept for inspection in the dead-letter record: it cannot be processed, but it is not lost.
        await recordDeadLetter(controlDb(env), {
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
        if (body.kind === "resync") {
          log({
            level: "warn",
            msg: "legacy resync page dropped: resyncs are jobs on the JOBS queue now; start it again",
            connection_id: body.connection_id,
            outcome: "skipped",
          });
        } else {
          const checkedAt = body.kind === "user" ? hints.get(`${body.connection_id}:${body.local_pk}`) : undefined;
          const hinted = checkedAt ? { ...body, absent_checked_at: checkedAt } : body;
          await contactSyncObject(env, syncObjectName(body)).enqueue(hinted);
        }
        message.ack();
      } catch (error) {
        log({
          level: "warn",
          msg: "outbound message not handed over; retrying",
          outcome: "retrying",
          message_id: message.id,
          error: describeError(error),
        });
        message.retry({ delaySeconds: Math.ceil(backoff(message.attempts, Math.random()) / 1000) });
      }
    }),
  );
}

/** `connection:user pk` → when a batch search found no contact for that user. */
async function absenceHints(env: Env, messages: SyncMessage[]): Promise<Map<string, number>> {
  const hints = new Map<string, number>();
  const byConnection = new Map<string, SyncMessage[]>();
  for (const message of messages) {
    if (message.kind !== "user") continue;
    byConnection.set(message.connection_id, [...(byConnection.get(message.connection_id) ?? []), message]);
  }
  for (const [connectionId, group] of byConnection) {
    try {
      for (const message of await resolveBatch(env, connectionId, group)) {
        if (message.absent_checked_at) hints.set(`${connectionId}:${message.local_pk}`, message.absent_checked_at);
      }
    } catch (error) {
      log({
        level: "warn",
        msg: "batch resolution skipped",
        connection_id: connectionId,
        outcome: "skipped",
        error: describeError(error),
      });
    }
  }
  return hints;
}

/**
 * Chaos testing (staging, and the fault-drain test): with `CHAOS_OUTBOUND_FAILURE_RATE` set, that share of OUTBOUND
 * batches fails before any work, so the queue's retries and dead-letter path are exercised. Unset in production.
 */
function injectChaos(env: Env, batch: MessageBatch): void {
  const rate = Number(env.CHAOS_OUTBOUND_FAILURE_RATE ?? 0);
  if (rate > 0 && Math.random() < rate) {
    log({
      level: "warn",
      msg: "chaos: outbound batch failed on purpose",
      outcome: "retrying",
      messages: batch.messages.length,
    });
    throw new Error("chaos: injected outbound consumer failure");
  }
}
