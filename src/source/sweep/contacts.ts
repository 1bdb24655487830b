/**
 * The contact half of the reconciliation sweep, one page per invocation: search the contacts updated since the last
 * sweep (with an overlap), queue those not captured yet, then continue with the next page (up to `MAX_PAGES` a run;
 * the next run continues where this one stopped) or close the run and, when due, start the company half.
 */
import type { IntercomClient } from "intercom-client";
import type { Connection } from "../../connections/repository";
import type { Env } from "../../env";
import { searchContactsUpdatedAfter } from "../../intercom/gateway";
import { log } from "../../lib/log";
import { companySweepPlan } from "./companies";
import { feedPage, recordSweep, type SweepDatabases } from "./feed";
import { NO_TOTALS, type SweepMessage } from "./messages";

/** Re-read this much before the last sweep's end: a contact updated within the same second may have been missed. */
export const OVERLAP_SECONDS = 10 * 60;
/** A first sweep looks back this far: Intercom keeps retrying undelivered notifications for 2 hours. */
export const FIRST_LOOKBACK_SECONDS = 3 * 60 * 60;
export const PAGE_SIZE = 150;
export const MAX_PAGES = 20;
const DAY_SECONDS = 86_400;

/**
 * The search window of a sweep (pure). Intercom matches dates by day, and `>` starts on the day after the given
 * time, so the query asks for "after the day before" and the exact lower bound is applied to the results.
 */
export function sweepWindow(sweptUntil: number | null, nowSeconds: number): { from: number; queryAfter: number } {
  const from = sweptUntil === null ? nowSeconds - FIRST_LOOKBACK_SECONDS : sweptUntil - OVERLAP_SECONDS;
  return { from, queryAfter: from - DAY_SECONDS };
}

/** Reads and feeds one page of contacts; returns the next message of this connection's run, if any. */
export async function sweepContactsPage(
  env: Env,
  dbs: SweepDatabases,
  client: IntercomClient,
  connection: Connection,
  message: SweepMessage,
): Promise<SweepMessage | null> {
  const nowSeconds = Math.floor(message.run_at / 1000);
  const from = message.from ?? sweepWindow(connection.sweptUntil, nowSeconds).from;
  const answer = await searchContactsUpdatedAfter(client, {
    after: from - DAY_SECONDS,
    perPage: PAGE_SIZE,
    ...(message.cursor ? { startingAfter: message.cursor } : {}),
  });
  const totals = await feedPage(env, dbs.db, connection, "contact", answer.items, from, message.totals, message.run_at);
  const page = message.page + 1;
  if (answer.next && page < MAX_PAGES) return { ...message, from, cursor: answer.next, page, totals };

  const complete = answer.next === null;
  const newest = Math.max(from, totals.newest ?? from);
  // A complete sweep covers everything up to now; an interrupted one continues after the newest item it read.
  const sweptUntil = complete ? Math.max(newest, nowSeconds - OVERLAP_SECONDS) : newest;
  await recordSweep(
    dbs,
    connection,
    { sweptUntil },
    {
      action: "sweep",
      queued: totals.queued,
      detail:
        `reconciliation sweep: ${totals.seen} contacts updated since ${new Date(from * 1000).toISOString()}, ` +
        `${totals.already_captured} already captured, ${totals.queued} queued${complete ? "" : "; continues next run"}`,
    },
  );
  log({
    msg: "reconciliation sweep",
    connection_id: connection.id,
    outcome: "done",
    seen: totals.seen,
    queued: totals.queued,
    pages: page,
  });
  const companies = companySweepPlan(connection.companiesSweptUntil, nowSeconds, FIRST_LOOKBACK_SECONDS);
  if (!companies.due) return null;
  return { ...message, phase: "companies", from: companies.from, cursor: null, page: 0, totals: NO_TOTALS };
}
