/** What a destination step needs: the connection, an Intercom client on its rate budget, and D1. */
import type { IntercomClient } from "intercom-client";
import { type Connection, findConnectionById } from "../connections/repository";
import { connectionToken } from "../connections/tokens";
import type { Database } from "../db/client";
import { controlDb, tenantDb } from "../db/placement";
import type { Env } from "../env";
import { budgetedFetch } from "../intercom/budgeted-fetch";
import { intercomClient } from "../intercom/client";
import type { Lane } from "../intercom/rate-plan";

export interface SyncContext {
  env: Env;
  /** The database of the connection's workspace data (users, links, logs, actions…). */
  db: Database;
  /** The control database (the connection's own row). */
  control: Database;
  connection: Connection;
  client: IntercomClient;
}

export type ContextResult =
  | { usable: true; context: SyncContext }
  /** Work waits for a reconnect (`revoked`). */
  | { usable: false; park: true; reason: string; connection: Connection }
  /** Work is dropped: there is nothing to sync to. */
  | { usable: false; park: false; reason: string; connection: Connection | null };

/** Loads the connection and, when it can take writes, a client for it whose calls spend `lane`'s rate budget. */
export async function loadSyncContext(env: Env, connectionId: string, lane: Lane = "realtime"): Promise<ContextResult> {
  const control = controlDb(env);
  const connection = await findConnectionById(control, connectionId);
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
  const token = await connectionToken(env, control, connection);
  if (!token) return { usable: false, park: false, reason: "the connection has no token", connection };
  const client = intercomClient(env, {
    token,
    region: connection.region,
    fetch: budgetedFetch(env, connection.appId, lane),
  });
  const db = await tenantDb(env, connection.workspaceId);
  return { usable: true, context: { env, db, control, connection, client } };
}
