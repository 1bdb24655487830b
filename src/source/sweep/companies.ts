/**
 * The company half of the reconciliation sweep. Intercom cannot search companies by update time, so about once an
 * hour the sweep scrolls over every company (`GET /companies/scroll`, one call per 50), keeps those updated since the
 * last company sweep (with the same overlap as contacts) and not captured yet, and feeds them through INBOUND as
 * `company.updated` notifications, one scroll page per invocation. A scroll expires after a minute unused, so each
 * page queues the next at once; a run reads at most `MAX_SCROLL_PAGES`.
 */
import type { IntercomClient } from "intercom-client";
import type { Connection } from "../../connections/repository";
import type { Env } from "../../env";
import { scrollCompanies } from "../../intercom/gateway";
import { log } from "../../lib/log";
import { feedPage, recordSweep, type SweepDatabases } from "./feed";
import type { SweepMessage } from "./messages";

/** A company sweep runs when the last one's lower bound is at least this old. */
export const COMPANY_SWEEP_EVERY_SECONDS = 60 * 60;
/** 20,000 companies a run; beyond that a run covers the companies Intercom lists first (logged). */
export const MAX_SCROLL_PAGES = 400;

/** Whether a company sweep is due, and from which `updated_at` (Unix seconds) it captures (pure). */
export function companySweepPlan(
  sweptUntil: number | null,
  nowSeconds: number,
  firstLookbackSeconds: number,
): { due: boolean; from: number } {
  if (sweptUntil === null) return { due: true, from: nowSeconds - firstLookbackSeconds };
  return { due: nowSeconds - sweptUntil >= COMPANY_SWEEP_EVERY_SECONDS, from: sweptUntil };
}

/** Reads and feeds one page of the company scroll; returns the next message of this connection's run, if any. */
export async function sweepCompaniesPage(
  env: Env,
  dbs: SweepDatabases,
  client: IntercomClient,
  connection: Connection,
  message: SweepMessage,
  overlapSeconds: number,
): Promise<SweepMessage | null> {
  const from = message.from ?? Math.floor(message.run_at / 1000);
  const answer = await scrollCompanies(client, message.cursor);
  const totals = await feedPage(env, dbs.db, connection, "company", answer.items, from, message.totals, message.run_at);
  const page = message.page + 1;
  const complete = answer.items.length === 0 || answer.next === null;
  if (!complete && page < MAX_SCROLL_PAGES) return { ...message, from, cursor: answer.next, page, totals };

  // An incomplete scroll still moves on: re-reading the same first pages every run would never reach the rest.
  const sweptUntil = Math.floor(message.run_at / 1000) - overlapSeconds;
  await recordSweep(
    dbs,
    connection,
    { companiesSweptUntil: sweptUntil },
    {
      action: "sweep_companies",
      queued: totals.queued,
      detail:
        `reconciliation sweep: ${totals.seen} companies updated since ${new Date(from * 1000).toISOString()}, ` +
        `${totals.already_captured} already captured, ${totals.queued} queued` +
        (complete ? "" : `; stopped after ${MAX_SCROLL_PAGES} pages, companies beyond them were not read`),
    },
  );
  log({
    msg: "reconciliation sweep of companies",
    connection_id: connection.id,
    outcome: complete ? "done" : "partial",
    seen: totals.seen,
    queued: totals.queued,
    pages: page,
  });
  return null;
}
