/**
 * Accepting CDP actions (add_tag, remove_tag, trigger_event): validation happened in the route; here the user and
 * connection are resolved, the action is recorded once per idempotency key, and handed to the user's ContactSync
 * object through OUTBOUND.
 */

import { and, eq } from "drizzle-orm";
import { connectionsOfWorkspace, findConnection } from "../connections/repository";
import type { Database } from "../db/client";
import { controlDb, tenantDb } from "../db/placement";
import { type ActionType, actions } from "../db/schema";
import type { Env } from "../env";
import { findUser } from "../graph/users";
import { describeError, RefusedError } from "../lib/errors";
import { log } from "../lib/log";
import type { SyncMessage } from "./outbound-message";

export interface ActionRequest {
  user_id?: string;
  email?: string;
  type: ActionType;
  tag?: string;
  event?: { name: string; metadata?: Record<string, unknown>; occurred_at?: string };
  idempotency_key?: string;
  connection_id?: string;
}

/** Records the action (or finds the one with the same idempotency key) and queues it; returns its id. */
export async function acceptAction(
  env: Env,
  workspaceId: string,
  request: ActionRequest,
): Promise<{ id: string; repeated: boolean }> {
  const db = await tenantDb(env, workspaceId);
  if (request.idempotency_key) {
    const existing = await byIdempotencyKey(db, workspaceId, request.idempotency_key);
    if (existing) return { id: existing.id, repeated: true };
  }
  const user = await findUser(db, workspaceId, { userId: request.user_id ?? null, email: request.email ?? null });
  if (!user) throw new RefusedError("not_found", "No such user: identify the user with PUT /v1/users first.");
  const connectionId = await targetConnection(controlDb(env), workspaceId, request.connection_id);
  const now = Date.now();
  const payload = request.type === "trigger_event" ? { event: request.event } : { tag: request.tag };
  const [inserted] = await db
    .insert(actions)
    .values({
      id: crypto.randomUUID(),
      workspaceId,
      connectionId,
      userPk: user.pk,
      type: request.type,
      payload,
      idempotencyKey: request.idempotency_key ?? null,
      status: "queued",
      acceptedAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing()
    .returning({ id: actions.id });
  if (!inserted) {
    // A concurrent request with the same key won the insert: it is the same action.
    const existing = await byIdempotencyKey(db, workspaceId, request.idempotency_key!);
    return { id: existing!.id, repeated: true };
  }
  try {
    await env.OUTBOUND.send({
      kind: "user",
      connection_id: connectionId,
      local_pk: user.pk,
      action_id: inserted.id,
    } satisfies SyncMessage);
  } catch (error) {
    await db.delete(actions).where(eq(actions.id, inserted.id));
    log({
      level: "error",
      msg: "action not queued",
      workspace_id: workspaceId,
      outcome: "failed",
      error: describeError(error),
    });
    throw new RefusedError(
      "unavailable",
      "The action could not be queued; nothing was recorded. Retry with the same idempotency_key.",
    );
  }
  log({
    msg: "action accepted",
    workspace_id: workspaceId,
    connection_id: connectionId,
    object_type: "action",
    object_id: inserted.id,
    action: request.type,
    outcome: "queued",
  });
  return { id: inserted.id, repeated: false };
}

/** An action of the workspace; refused as not found otherwise. */
export async function getAction(env: Env, workspaceId: string, id: string) {
  const row = await (await tenantDb(env, workspaceId))
    .select()
    .from(actions)
    .where(and(eq(actions.id, id), eq(actions.workspaceId, workspaceId)))
    .get();
  if (!row) throw new RefusedError("not_found", "No such action.");
  return row;
}

async function byIdempotencyKey(db: Database, workspaceId: string, key: string) {
  return db
    .select({ id: actions.id })
    .from(actions)
    .where(and(eq(actions.workspaceId, workspaceId), eq(actions.idempotencyKey, key)))
    .get();
}

/** The named connection, or the workspace's only one; it must be connected with its destination on (409 otherwise). */
async function targetConnection(db: Database, workspaceId: string, connectionId: string | undefined): Promise<string> {
  const named = connectionId ? await findConnection(db, workspaceId, connectionId) : null;
  const rows = connectionId
    ? named
      ? [named]
      : []
    : await connectionsOfWorkspace(db, workspaceId, ["connected", "revoked", "error"]);
  if (connectionId && rows.length === 0) throw new RefusedError("not_found", `No connection "${connectionId}".`);
  if (rows.length === 0) throw new RefusedError("conflict", "This workspace has no Intercom connection.");
  const usable = rows.filter((row) => row.status === "connected" && row.destination.enabled);
  if (usable.length === 1) return usable[0]!.id;
  if (usable.length > 1) {
    throw new RefusedError("invalid", "Several connections have their destination on: name one.", [
      { path: "connection_id", message: `one of ${usable.map((row) => row.id).join(", ")}` },
    ]);
  }
  const row = rows[0]!;
  if (row.status !== "connected") {
    throw new RefusedError(
      "conflict",
      `Connection "${row.name}" is ${row.status}: reconnect it before sending actions.`,
    );
  }
  throw new RefusedError("conflict", `Connection "${row.name}" has its destination switched off.`);
}
