/**
 * The reconciliation sweep. Intercom pauses webhook deliveries after many errors and drops notifications it could
 * not deliver within 2 hours, so the cron starts, for each connected connection whose source is on, a sweep run on the
 * JOBS queue: contacts updated since the last run (contacts.ts), then about hourly every company (companies.ts),
 * each page its own invocation. Searches spend the workspace's shared rate budget. A failing page is logged and ends
 * that connection's run (the next run retries from the same point); other connections are not touched.
 */
import { type Connection, connectionsWithStatus, findConnectionById } from "../../connections/repository";
import { connectionToken, markRevoked } from "../../connections/tokens";
import { controlDb, tenantDb } from "../../db/placement";
import type { Env } from "../../env";
import { budgetedFetch } from "../../intercom/budgeted-fetch";
import { intercomClient } from "../../intercom/client";
import { failureOf } from "../../intercom/errors";
import { log } from "../../lib/log";
import { sendAll } from "../../lib/queue-batches";
import { writeSyncLog } from "../../lib/sync-log";
import { sweepCompaniesPage } from "./companies";
import { OVERLAP_SECONDS, sweepContactsPage } from "./contacts";
import type { SweepDatabases } from "./feed";
import { type SweepMessage, sweepStart } from "./messages";

/** The cron's part: one sweep run per connected connection whose source is on; returns how many were started. */
export async function scheduleSweeps(env: Env, now = Date.now()): Promise<number> {
  const due = (await connectionsWithStatus(controlDb(env), "connected")).filter(sweepable);
  await sendAll(
    env.JOBS,
    due.map((connection) => sweepStart(connection.id, now)),
  );
  log({ msg: "reconciliation sweeps started", outcome: "queued", connections: due.length });
  return due.length;
}

/** One page of one connection's sweep run (a JOBS message); queues the next page when there is one. */
export async function runSweepPage(env: Env, message: SweepMessage): Promise<void> {
  const control = controlDb(env);
  const connection = await findConnectionById(control, message.connection_id);
  if (!connection || !sweepable(connection)) {
    log({
      msg: "sweep page skipped: connection not connected or source off",
      connection_id: message.connection_id,
      outcome: "skipped",
    });
    return;
  }
  const dbs = { db: await tenantDb(env, connection.workspaceId), control };
  try {
    const token = await connectionToken(env, control, connection);
    const client = intercomClient(env, {
      token: token!,
      region: connection.region,
      fetch: budgetedFetch(env, connection.appId!),
    });
    const next =
      message.phase === "contacts"
        ? await sweepContactsPage(env, dbs, client, connection, message)
        : await sweepCompaniesPage(env, dbs, client, connection, message, OVERLAP_SECONDS);
    if (next) await env.JOBS.send(next);
  } catch (error) {
    await sweepFailed(dbs, connection, message, error);
  }
}

function sweepable(connection: Connection): boolean {
  return connection.status === "connected" && connection.source.enabled && !!connection.appId && !!connection.tokenJwe;
}

async function sweepFailed(
  dbs: SweepDatabases,
  connection: Connection,
  message: SweepMessage,
  error: unknown,
): Promise<void> {
  const failure = failureOf(error);
  if (failure.kind === "unauthorized") {
    await markRevoked(dbs.control, connection, `Intercom answered 401 to the sweep: ${failure.message}`);
  }
  await writeSyncLog(dbs.db, {
    connectionId: connection.id,
    workspaceId: connection.workspaceId,
    direction: "in",
    outcome: "failed",
    objectType: "connection",
    action: message.phase === "contacts" ? "sweep" : "sweep_companies",
    detail: `reconciliation sweep failed on page ${message.page + 1}: ${failure.message}; the next run retries from the same point`,
  });
}
