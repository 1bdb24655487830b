/**
 * Resync: queue every user passing the connection's segment filter, one page per OUTBOUND message so a workspace of
 * any size is walked without a long-running request. Each user's object then syncs only what differs.
 */
import { and, asc, count, eq, gt, type SQL, sql } from "drizzle-orm";
import { type Database, database } from "../db/client";
import { connections, users } from "../db/schema";
import type { Env } from "../env";
import { writeSyncLog } from "../lib/sync-log";
import type { ResyncMessage, SyncMessage } from "./outbound-message";

const PAGE_SIZE = 500;
const SEND_BATCH = 100;

/** Starts a resync of `connectionId`; returns how many users will be queued. */
export async function startResync(
  env: Env,
  connection: { id: string; workspaceId: string; segments: string[] },
): Promise<number> {
  const db = database(env.DB);
  const [row] = await db
    .select({ n: count() })
    .from(users)
    .where(and(eq(users.workspaceId, connection.workspaceId), segmentCondition(connection.segments)));
  const queued = row?.n ?? 0;
  await env.OUTBOUND.send({ kind: "resync", connection_id: connection.id, after_pk: 0 } satisfies ResyncMessage);
  await writeSyncLog(db, {
    connectionId: connection.id,
    workspaceId: connection.workspaceId,
    direction: "out",
    outcome: "pending",
    objectType: "connection",
    action: "resync",
    detail: `resync started: ${queued} users pass the segment filter`,
  });
  return queued;
}

/** Queues one page of users after `after_pk`, then the next page. */
export async function queueResyncPage(env: Env, message: ResyncMessage): Promise<void> {
  const db = database(env.DB);
  const connection = await db.select().from(connections).where(eq(connections.id, message.connection_id)).get();
  if (!connection?.destination.enabled || connection.status === "disconnected") {
    if (connection) await logPage(db, connection, "skipped", "resync stopped: the destination is off or disconnected");
    return;
  }
  const page = await db
    .select({ pk: users.pk })
    .from(users)
    .where(
      and(
        eq(users.workspaceId, connection.workspaceId),
        gt(users.pk, message.after_pk),
        segmentCondition(connection.destination.segments),
      ),
    )
    .orderBy(asc(users.pk))
    .limit(PAGE_SIZE);
  const messages = page.map((user) => ({
    body: { kind: "user", connection_id: connection.id, local_pk: user.pk } satisfies SyncMessage,
  }));
  for (let i = 0; i < messages.length; i += SEND_BATCH) await env.OUTBOUND.sendBatch(messages.slice(i, i + SEND_BATCH));
  const last = page.at(-1)?.pk;
  if (page.length === PAGE_SIZE && last !== undefined) {
    await env.OUTBOUND.send({ kind: "resync", connection_id: connection.id, after_pk: last } satisfies ResyncMessage);
  }
  const done = page.length < PAGE_SIZE;
  await logPage(
    db,
    connection,
    done ? "synced" : "pending",
    `resync queued ${page.length} users${done ? "; all users queued" : ` up to #${last}`}`,
  );
}

/** Users in at least one of `segments` (every user when empty), evaluated in SQL over the JSON column. */
export function segmentCondition(segments: readonly string[]): SQL | undefined {
  if (segments.length === 0) return undefined;
  return sql`exists (select 1 from json_each(${users.segments}) where json_each.value in (select value from json_each(${JSON.stringify(segments)})))`;
}

async function logPage(
  db: Database,
  connection: { id: string; workspaceId: string },
  outcome: "synced" | "pending" | "skipped",
  detail: string,
): Promise<void> {
  await writeSyncLog(db, {
    connectionId: connection.id,
    workspaceId: connection.workspaceId,
    direction: "out",
    outcome,
    objectType: "connection",
    action: "resync",
    detail,
  });
}
