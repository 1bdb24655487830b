/**
 * Resync: queue every user passing the connection's segment filter, one page per OUTBOUND message so a workspace of
 * any size is walked without a long-running request. Each user's object then syncs only what differs.
 */
import { and, asc, count, eq, gt } from "drizzle-orm";
import { findConnectionById } from "../connections/repository";
import type { Database } from "../db/client";
import { controlDb, tenantDb } from "../db/placement";
import { users } from "../db/schema";
import type { Env } from "../env";
import { inSegments } from "../graph/users";
import { sendAll } from "../lib/queue-batches";
import { writeSyncLog } from "../lib/sync-log";
import type { ResyncMessage, SyncMessage } from "./outbound-message";

const PAGE_SIZE = 500;

/** Starts a resync of `connectionId`; returns how many users will be queued. */
export async function startResync(
  env: Env,
  connection: { id: string; workspaceId: string; segments: string[] },
): Promise<number> {
  const db = await tenantDb(env, connection.workspaceId);
  const [row] = await db
    .select({ n: count() })
    .from(users)
    .where(and(eq(users.workspaceId, connection.workspaceId), inSegments(connection.segments)));
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
  const connection = await findConnectionById(controlDb(env), message.connection_id);
  if (!connection) return;
  const db = await tenantDb(env, connection.workspaceId);
  if (!connection.destination.enabled || connection.status === "disconnected") {
    await logPage(db, connection, "skipped", "resync stopped: the destination is off or disconnected");
    return;
  }
  const page = await db
    .select({ pk: users.pk })
    .from(users)
    .where(
      and(
        eq(users.workspaceId, connection.workspaceId),
        gt(users.pk, message.after_pk),
        inSegments(connection.destination.segments),
      ),
    )
    .orderBy(asc(users.pk))
    .limit(PAGE_SIZE);
  await sendAll(
    env.OUTBOUND,
    page.map((user): SyncMessage => ({ kind: "user", connection_id: connection.id, local_pk: user.pk })),
  );
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
