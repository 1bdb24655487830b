/**
 * The company half of the reconciliation sweep. Intercom cannot search companies by update time, so about once an
 * hour the sweep scrolls over every company (`GET /companies/scroll`, one call per 50), keeps those updated since the
 * last company sweep (with the same overlap as contacts) and not captured yet, and feeds them through INBOUND as
 * `company.updated` notifications. A scroll cannot resume after a minute, so a run reads at most `MAX_SCROLL_PAGES`.
 */
import type { IntercomClient } from "intercom-client";
import type { Connection } from "../../connections/repository";
import type { Database } from "../../db/client";
import type { Env } from "../../env";
import { scrollCompanies } from "../../intercom/gateway";
import { log } from "../../lib/log";
import type { InboundMessage } from "../inbound-message";
import { feedUncaptured, recordSweep } from "./feed";

/** A company sweep runs when the last one's lower bound is at least this old. */
export const COMPANY_SWEEP_EVERY_SECONDS = 60 * 60;
/** 20,000 companies a run; beyond that a run covers the companies Intercom lists first (logged). */
export const MAX_SCROLL_PAGES = 400;

export interface CompanySweepResult {
  seen: number;
  queued: number;
  alreadyCaptured: number;
  sweptUntil: number;
  complete: boolean;
}

/** Whether a company sweep is due, and from which `updated_at` (Unix seconds) it captures (pure). */
export function companySweepPlan(
  sweptUntil: number | null,
  nowSeconds: number,
  firstLookbackSeconds: number,
): { due: boolean; from: number } {
  if (sweptUntil === null) return { due: true, from: nowSeconds - firstLookbackSeconds };
  return { due: nowSeconds - sweptUntil >= COMPANY_SWEEP_EVERY_SECONDS, from: sweptUntil };
}

/** Scrolls the connection's companies and queues those updated since `from` that were not captured yet. */
export async function sweepCompanies(
  env: Env,
  db: Database,
  client: IntercomClient,
  connection: Connection,
  options: { from: number; now: number; overlapSeconds: number },
): Promise<CompanySweepResult> {
  const appId = connection.appId!;
  const startedAt = Math.floor(options.now / 1000);
  const result: CompanySweepResult = {
    seen: 0,
    queued: 0,
    alreadyCaptured: 0,
    sweptUntil: startedAt - options.overlapSeconds,
    complete: false,
  };
  let scrollParam: string | null = null;
  for (let page = 0; page < MAX_SCROLL_PAGES; page++) {
    const answer = await scrollCompanies(client, scrollParam);
    const companies = answer.items;
    if (companies.length === 0) {
      result.complete = true;
      break;
    }
    const fed = await feedUncaptured(env, db, connection.id, "company", companies, options.from, (company, updatedAt) =>
      sweptCompanyNotification(appId, company, updatedAt, options.now),
    );
    result.seen += fed.seen;
    result.alreadyCaptured += fed.alreadyCaptured;
    result.queued += fed.queued;
    scrollParam = answer.next;
    if (!scrollParam) {
      result.complete = true;
      break;
    }
  }
  // An incomplete scroll still moves on: re-reading the same first pages every run would never reach the rest.
  await recordSweep(
    db,
    connection,
    { companiesSweptUntil: result.sweptUntil },
    {
      action: "sweep_companies",
      queued: result.queued,
      detail:
        `reconciliation sweep: ${result.seen} companies updated since ${new Date(options.from * 1000).toISOString()}, ` +
        `${result.alreadyCaptured} already captured, ${result.queued} queued` +
        (result.complete ? "" : `; stopped after ${MAX_SCROLL_PAGES} pages, companies beyond them were not read`),
    },
  );
  log({
    msg: "reconciliation sweep of companies",
    connection_id: connection.id,
    outcome: result.complete ? "done" : "partial",
    seen: result.seen,
    queued: result.queued,
  });
  return result;
}

/** A company read by the sweep as an INBOUND message: its own id per state, so each state is processed once. */
export function sweptCompanyNotification(
  appId: string,
  company: Record<string, unknown>,
  updatedAt: number,
  now: number,
): InboundMessage {
  return {
    received_at: now,
    app_id: appId,
    origin: "sweep",
    notification: {
      id: `sweep:company:${String(company.id)}:${updatedAt}`,
      topic: "company.updated",
      created_at: updatedAt,
      item: company,
    },
  };
}
