/** What a destination step needs: the connection, an Intercom client on its rate budget, and D1. */
import { eq } from "drizzle-orm";
import type { IntercomClient } from "intercom-client";
import { connectionToken, markRevoked } from "../connections/service";
import { type Database, database } from "../db/client";
import { connections, parkedSyncs } from "../db/schema";
import type { Env } from "../env";
import { budgetedFetch } from "../intercom/budgeted-fetch";
import { intercomClient } from "../intercom/client";

export type ConnectionRow = typeof connections.$inferSelect;

export interface SyncContext {
  env: Env;
  db: Database;
  connection: ConnectionRow;
  client: IntercomClient;
}

export type ContextResult =
  | { usable: true; context: SyncContext }
  /** Work waits for a reconnect (`revoked`). */
  | { usable: false; park: true; reason: string; connection: ConnectionRow }
  /** Work is dropped: there is nothing to sync to. */
  | { usable: false; park: false; reason: string; connection: ConnectionRow | null };

/** Loads the connection and, when it can take writes, a client for it. */
export async function loadSyncContext(env: Env, connectionId: string): Promise<ContextResult> {
  const db = database(env.DB);
  const connection = (await db.select().from(connections).where(eq(connections.id, connectionId)).get()) ?? null;
  if (!connection) return { usable: false, park: false, reason: "the connection no longer exists", connection };
  if (connection.status === "revoked") {
    return { usable: false, park: true, reason: "the Intercom token was revoked; waiting for a reconnect", connection };
  }
  if (connection.status !== "connected" || !connection.tokenJwe || !connection.appId) {
    return { usable: false, park: false, reason: `the connection is ${connection.status}`, connection };
  }
  if (!connection.destination.enabled) {
    return { usable: false, park: false, reason: "the destination is switched off", connection };
  }
  const token = await connectionToken(env, db, connection);
  if (!token) return { usable: false, park: false, reason: "the connection has no token", connection };
  const client = intercomClient(env, { token, region: connection.region, fetch: budgetedFetch(env, connection.appId) });
  return { usable: true, context: { env, db, connection, client } };
}

/**
 * Marks the connection revoked (Intercom answered 401) and parks `kind`/`localPk` until it is connected again.
 * A connection reconnected meanwhile (another token) is not undone.
 */
export async function revokeAndPark(
  db: Database,
  connection: ConnectionRow,
  parked: { kind: string; localPk: number },
  detail: string,
): Promise<void> {
  await markRevoked(db, connection, detail);
  await park(db, connection.id, parked);
}

/** Records that `kind`/`localPk` waits for the connection to be restored. */
export async function park(
  db: Database,
  connectionId: string,
  parked: { kind: string; localPk: number },
): Promise<void> {
  await db
    .insert(parkedSyncs)
    .values({ connectionId, kind: parked.kind, localPk: parked.localPk, createdAt: Date.now() })
    .onConflictDoNothing();
}
