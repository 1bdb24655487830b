/**
 * Dead letters of a connection: listing, and replay onto the queue they came from. Replay is idempotent: a letter
 * is claimed (`replayed_at`) before it is sent, so two concurrent replays never send it twice. A failed action is
 * put back to `queued` so its replay runs it again.
 */

import { and, desc, eq, isNull, lt } from "drizzle-orm";
import type { Database } from "../db/client";
import { tenantDb } from "../db/placement";
import { actions, deadLetters } from "../db/schema";
import type { Env } from "../env";
import { describeError } from "../lib/errors";
import { log } from "../lib/log";
import { QUEUE_NAMES } from "../lib/queue-names";
import { writeSyncLog } from "../lib/sync-log";

export type DeadLetterRow = typeof deadLetters.$inferSelect;

/** A page of a connection's dead letters, newest first. */
export async function listDeadLetters(
  env: Env,
  connection: { id: string; workspaceId: string },
  options: { cursor?: number; limit: number },
) {
  const rows = await (await tenantDb(env, connection.workspaceId))
    .select()
    .from(deadLetters)
    .where(
      and(eq(deadLetters.connectionId, connection.id), options.cursor ? lt(deadLetters.id, options.cursor) : undefined),
    )
    .orderBy(desc(deadLetters.id))
    .limit(options.limit + 1);
  const page = rows.slice(0, options.limit);
  return { items: page, nextCursor: rows.length > options.limit ? String(page.at(-1)!.id) : null };
}

/** Re-queues every dead letter of the connection not replayed yet; returns how many were sent. */
export async function replayDeadLetters(env: Env, connection: { id: string; workspaceId: string }): Promise<number> {
  const db = await tenantDb(env, connection.workspaceId);
  let replayed = 0;
  for (;;) {
    const pending = await db
      .select()
      .from(deadLetters)
      .where(and(eq(deadLetters.connectionId, connection.id), isNull(deadLetters.replayedAt)))
      .orderBy(deadLetters.id)
      .limit(100);
    if (pending.length === 0) break;
    for (const letter of pending) {
      const claimed = await db
        .update(deadLetters)
        .set({ replayedAt: Date.now() })
        .where(and(eq(deadLetters.id, letter.id), isNull(deadLetters.replayedAt)))
        .returning({ id: deadLetters.id });
      if (claimed.length === 0) continue; // another replay took it
      try {
        await send(env, db, letter);
        replayed++;
      } catch (error) {
        await db.update(deadLetters).set({ replayedAt: null }).where(eq(deadLetters.id, letter.id));
        log({
          level: "error",
          msg: "dead letter not replayed",
          connection_id: connection.id,
          outcome: "failed",
          error: describeError(error),
        });
        throw error;
      }
    }
  }
  await writeSyncLog(db, {
    connectionId: connection.id,
    workspaceId: connection.workspaceId,
    direction: "out",
    outcome: "pending",
    objectType: "connection",
    action: "replay",
    detail: `replayed ${replayed} dead letter(s)`,
  });
  return replayed;
}

async function send(env: Env, db: Database, letter: DeadLetterRow): Promise<void> {
  const body = JSON.parse(letter.body) as Record<string, unknown>;
  if (letter.queue === QUEUE_NAMES.inbound) {
    await env.INBOUND.send(body as never);
    return;
  }
  if (letter.queue === QUEUE_NAMES.jobs) {
    await env.JOBS.send(body as never);
    return;
  }
  if (typeof body.action_id === "string") {
    await db
      .update(actions)
      .set({ status: "queued", detail: "replayed from the dead-letter record", updatedAt: Date.now() })
      .where(and(eq(actions.id, body.action_id), eq(actions.status, "failed")));
  }
  await env.OUTBOUND.send(body as never);
}
