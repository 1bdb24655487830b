/**
 * The reconciliation sweep (cron): Intercom pauses webhook deliveries after many errors and drops notifications it
 * could not deliver within 2 hours, so for each connection whose source is on, the sweep searches the contacts
 * updated since the last sweep (with an overlap) and feeds those not captured yet through the same INBOUND pipeline
 * as webhooks. Searches spend the workspace's shared rate budget; a run reads at most `MAX_PAGES` pages and the next
 * run continues where it stopped. Companies follow about hourly (companies.ts).
 */
import { type Connection, connectionsWithStatus } from "../../connections/repository";
import { connectionToken, markRevoked } from "../../connections/tokens";
import { type Database, database } from "../../db/client";
import type { Env } from "../../env";
import { budgetedFetch } from "../../intercom/budgeted-fetch";
import { intercomClient } from "../../intercom/client";
import { failureOf } from "../../intercom/errors";
import { searchContactsUpdatedAfter } from "../../intercom/gateway";
import { log } from "../../lib/log";
import { writeSyncLog } from "../../lib/sync-log";
import type { InboundMessage } from "../inbound-message";
import { type CompanySweepResult, companySweepPlan, sweepCompanies } from "./companies";
import { feedUncaptured, recordSweep } from "./feed";

/** Re-read this much before the last sweep's end: a contact updated within the same second may have been missed. */
export const OVERLAP_SECONDS = 10 * 60;
/** A first sweep looks back this far: Intercom keeps retrying undelivered notifications for 2 hours. */
export const FIRST_LOOKBACK_SECONDS = 3 * 60 * 60;
const PAGE_SIZE = 150;
const MAX_PAGES = 20;
const DAY_SECONDS = 86_400;

export interface SweepResult {
  connectionId: string;
  seen: number;
  queued: number;
  alreadyCaptured: number;
  sweptUntil: number | null;
  complete: boolean;
  /** The company sweep of this run, or null when none was due. */
  companies: CompanySweepResult | null;
}

/** Sweeps every connected connection whose source is on; one failing connection does not stop the others. */
export async function runSweeps(env: Env, now = Date.now()): Promise<SweepResult[]> {
  const db = database(env.DB);
  const rows = await connectionsWithStatus(db, "connected");
  const results: SweepResult[] = [];
  for (const connection of rows) {
    if (!connection.source.enabled || !connection.appId || !connection.tokenJwe) continue;
    try {
      results.push(await sweepConnection(env, db, connection, now));
    } catch (error) {
      const failure = failureOf(error);
      if (failure.kind === "unauthorized")
        await markRevoked(db, connection, `Intercom answered 401 to the sweep: ${failure.message}`);
      await writeSyncLog(db, {
        connectionId: connection.id,
        workspaceId: connection.workspaceId,
        direction: "in",
        outcome: "failed",
        objectType: "connection",
        action: "sweep",
        detail: `reconciliation sweep failed: ${failure.message}; the next run retries from the same point`,
      });
    }
  }
  return results;
}

/**
 * The search window of a sweep (pure). Intercom matches dates by day, and `>` starts on the day after the given
 * time, so the query asks for "after the day before" and the exact lower bound is applied to the results.
 */
export function sweepWindow(sweptUntil: number | null, nowSeconds: number): { from: number; queryAfter: number } {
  const from = sweptUntil === null ? nowSeconds - FIRST_LOOKBACK_SECONDS : sweptUntil - OVERLAP_SECONDS;
  return { from, queryAfter: from - DAY_SECONDS };
}

async function sweepConnection(env: Env, db: Database, connection: Connection, now: number): Promise<SweepResult> {
  const token = await connectionToken(env, db, connection);
  const appId = connection.appId!;
  const client = intercomClient(env, { token: token!, region: connection.region, fetch: budgetedFetch(env, appId) });
  const window = sweepWindow(connection.sweptUntil, Math.floor(now / 1000));
  const result: SweepResult = {
    connectionId: connection.id,
    seen: 0,
    queued: 0,
    alreadyCaptured: 0,
    sweptUntil: connection.sweptUntil,
    complete: true,
    companies: null,
  };
  let startingAfter: string | null = null;
  let newest = window.from;
  for (let page = 0; page < MAX_PAGES; page++) {
    const answer = await searchContactsUpdatedAfter(client, {
      after: window.queryAfter,
      perPage: PAGE_SIZE,
      ...(startingAfter ? { startingAfter } : {}),
    });
    const fed = await feedUncaptured(
      env,
      db,
      connection.id,
      "contact",
      answer.items,
      window.from,
      (contact, updatedAt) => sweptNotification(appId, contact, updatedAt, now),
    );
    result.seen += fed.seen;
    result.alreadyCaptured += fed.alreadyCaptured;
    result.queued += fed.queued;
    if (fed.newest !== null) newest = Math.max(newest, fed.newest);
    startingAfter = answer.next;
    if (!startingAfter) break;
    if (page === MAX_PAGES - 1) result.complete = false;
  }
  // A complete sweep covers everything up to now; an interrupted one continues after the newest item it read.
  result.sweptUntil = result.complete ? Math.max(newest, Math.floor(now / 1000) - OVERLAP_SECONDS) : newest;
  await recordSweep(
    db,
    connection,
    { sweptUntil: result.sweptUntil },
    {
      action: "sweep",
      queued: result.queued,
      detail:
        `reconciliation sweep: ${result.seen} contacts updated since ${new Date(window.from * 1000).toISOString()}, ` +
        `${result.alreadyCaptured} already captured, ${result.queued} queued${result.complete ? "" : "; continues next run"}`,
    },
  );
  log({
    msg: "reconciliation sweep",
    connection_id: connection.id,
    outcome: "done",
    seen: result.seen,
    queued: result.queued,
  });
  const companies = companySweepPlan(connection.companiesSweptUntil, Math.floor(now / 1000), FIRST_LOOKBACK_SECONDS);
  if (companies.due) {
    result.companies = await sweepCompanies(env, db, client, connection, {
      from: companies.from,
      now,
      overlapSeconds: OVERLAP_SECONDS,
    });
  }
  return result;
}

/** A contact read by the sweep as an INBOUND message: its own id per state, so each state is processed once. */
export function sweptNotification(
  appId: string,
  contact: Record<string, unknown>,
  updatedAt: number,
  now: number,
): InboundMessage {
  return {
    received_at: now,
    app_id: appId,
    origin: "sweep",
    notification: {
      id: `sweep:${String(contact.id)}:${updatedAt}`,
      topic: contact.role === "lead" ? "contact.lead.updated" : "contact.user.updated",
      created_at: updatedAt,
      item: contact,
    },
  };
}
