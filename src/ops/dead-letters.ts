/**
 * Dead-letter consumers: a message that exhausted its retries on INBOUND or OUTBOUND lands here and is recorded in
 * `dead_letters` (listed and replayed through the admin API) plus a sync-log row, so nothing is lost silently.
 */

import { findByAppId, findConnectionById } from "../connections/repository";
import type { Database } from "../db/client";
import { controlDb, tenantDb } from "../db/placement";
import { deadLetters } from "../db/schema";
import type { Env } from "../env";
import { describeError } from "../lib/errors";
import { log } from "../lib/log";
import { originalQueue, QUEUE_NAMES } from "../lib/queue-names";
import { type SyncLogEntry, writeSyncLog } from "../lib/sync-log";

/** Records each dead letter once (by queue message id), then acknowledges it. */
export async function recordDeadLetters(batch: MessageBatch, env: Env): Promise<void> {
  const control = controlDb(env);
  const queue = originalQueue(batch.queue);
  for (const message of batch.messages) {
    try {
      const { connectionId, workspaceId } = await owningConnection(control, message.body);
      // Kept with the workspace's data; a message of no known workspace goes to the control database.
      const db = workspaceId ? await tenantDb(env, workspaceId) : control;
      const entry: SyncLogEntry = {
        connectionId,
        workspaceId,
        direction: directionOf(queue, message.body),
        outcome: "dead_letter",
        objectType: "message",
        objectId: message.id,
        action: queue,
        detail: `exhausted its retries on ${queue}; list and replay it with the dead-letters API`,
      };
      const inserted = await db
        .insert(deadLetters)
        .values({
          queue,
          connectionId,
          body: JSON.stringify(message.body ?? null),
          messageId: message.id,
          createdAt: Date.now(),
        })
        .onConflictDoNothing()
        .returning({ id: deadLetters.id });
      if (inserted.length > 0) {
        await writeSyncLog(db, entry);
      }
      message.ack();
    } catch (error) {
      log({
        level: "error",
        msg: "could not record a dead letter; retrying",
        queue,
        message_id: message.id,
        error: describeError(error),
      });
      message.retry({ delaySeconds: 30 });
    }
  }
}

/**
 * Records work given up outside a queue (a Durable Object that exhausted its retries) as a dead letter of `queue`,
 * with the message that replays it.
 */
export async function recordDeadLetter(
  db: Database,
  letter: { queue: string; connectionId: string | null; workspaceId: string | null; body: unknown; detail: string },
): Promise<void> {
  const messageId = `dead:${crypto.randomUUID()}`;
  await db.insert(deadLetters).values({
    queue: letter.queue,
    connectionId: letter.connectionId,
    body: JSON.stringify(letter.body),
    messageId,
    createdAt: Date.now(),
  });
  const entry: SyncLogEntry = {
    connectionId: letter.connectionId,
    workspaceId: letter.workspaceId,
    direction: directionOf(letter.queue, letter.body),
    outcome: "dead_letter",
    objectType: "message",
    objectId: messageId,
    action: letter.queue,
    detail: letter.detail,
  };
  await writeSyncLog(db, entry);
}

/** The connection a message belongs to: named in outbound messages, found by `app_id` for inbound ones. */
async function owningConnection(
  db: Database,
  body: unknown,
): Promise<{ connectionId: string | null; workspaceId: string | null }> {
  if (typeof body !== "object" || body === null) return { connectionId: null, workspaceId: null };
  const record = body as Record<string, unknown>;
  const byId = typeof record.connection_id === "string" ? record.connection_id : null;
  const appId = typeof record.app_id === "string" ? record.app_id : null;
  if (!byId && !appId) return { connectionId: null, workspaceId: null };
  const row = byId ? await findConnectionById(db, byId) : await findByAppId(db, appId!);
  return { connectionId: row?.id ?? byId, workspaceId: row?.workspaceId ?? null };
}

/** Which direction a dead letter belongs to: INBOUND's and the sweep's are the source's, the rest the destination's. */
function directionOf(queue: string, body: unknown): "in" | "out" {
  if (queue === QUEUE_NAMES.inbound) return "in";
  const kind = typeof body === "object" && body !== null ? (body as { kind?: unknown }).kind : undefined;
  return queue === QUEUE_NAMES.jobs && kind === "sweep" ? "in" : "out";
}
