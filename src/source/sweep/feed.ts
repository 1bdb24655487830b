/**
 * What both halves of the reconciliation sweep do with a page of REST items: queue on INBOUND, projected like a
 * webhook's item, those not captured yet; and, at the end of a run, save where the next run starts.
 */
import { type Connection, saveSweepBound } from "../../connections/repository";
import type { Database } from "../../db/client";
import type { Env } from "../../env";
import { linksByIntercomIds } from "../../graph/links";
import { sendAll } from "../../lib/queue-batches";
import { writeSyncLog } from "../../lib/sync-log";
import { type InboundMessage, projectItem, readItemMessage } from "../inbound-message";
import type { SweepTotals } from "./messages";

/** The sweep's databases: the workspace's data (links, logs) and the control one (the connection's bounds). */
export interface SweepDatabases {
  db: Database;
  control: Database;
}

/** Which REST items of a page to queue (pure): updated at or after `from` and newer than their link records. */
export function uncapturedItems(
  items: ReadonlyArray<Record<string, unknown>>,
  from: number,
  recordedMs: ReadonlyMap<string, number | null>,
): { fresh: Array<{ item: Record<string, unknown>; updatedAt: number }>; seen: number; newest: number | null } {
  const fresh: Array<{ item: Record<string, unknown>; updatedAt: number }> = [];
  let seen = 0;
  let newest: number | null = null;
  for (const item of items) {
    const updatedAt = Number(item.updated_at);
    if (!Number.isFinite(updatedAt) || updatedAt < from) continue;
    seen++;
    newest = Math.max(newest ?? updatedAt, updatedAt);
    const recorded = recordedMs.get(String(item.id));
    if (recorded && recorded >= updatedAt * 1000) continue;
    fresh.push({ item, updatedAt });
  }
  return { fresh, seen, newest };
}

/**
 * Queues the page's uncaptured items (one link lookup for the whole page) and returns the run's totals with this
 * page added. Items without a valid `updated_at` are left out.
 */
export async function feedPage(
  env: Env,
  db: Database,
  connection: Connection,
  kind: "contact" | "company",
  items: ReadonlyArray<Record<string, unknown>>,
  from: number,
  totals: SweepTotals,
  now: number,
): Promise<SweepTotals> {
  const ids = items.map((item) => String(item.id));
  const links = await linksByIntercomIds(db, connection.id, kind, ids);
  const recorded = new Map([...links].map(([id, link]) => [id, link.remoteUpdatedAt]));
  const page = uncapturedItems(items, from, recorded);
  const appId = connection.appId!;
  await sendAll(
    env.INBOUND,
    page.fresh.map(({ item, updatedAt }) => sweptNotification(appId, kind, item, updatedAt, now)),
  );
  return {
    seen: totals.seen + page.seen,
    queued: totals.queued + page.fresh.length,
    already_captured: totals.already_captured + page.seen - page.fresh.length,
    newest: page.newest === null ? totals.newest : Math.max(totals.newest ?? page.newest, page.newest),
  };
}

/**
 * An item read by the sweep as an INBOUND message, projected like a webhook's: its own notification id per state, so
 * each state is processed once whatever path it arrives by.
 */
export function sweptNotification(
  appId: string,
  kind: "contact" | "company",
  item: Record<string, unknown>,
  updatedAt: number,
  now: number,
): InboundMessage {
  const contactTopic = item.role === "lead" ? "contact.lead.updated" : "contact.user.updated";
  return readItemMessage(appId, "sweep", now, {
    id: kind === "contact" ? `sweep:${String(item.id)}:${updatedAt}` : `sweep:company:${String(item.id)}:${updatedAt}`,
    topic: kind === "contact" ? contactTopic : "company.updated",
    created_at: updatedAt,
    item: projectItem(item),
  });
}

/** Saves a sweep's new lower bound (unless the connection was disconnected meanwhile) and writes its sync-log row. */
export async function recordSweep(
  dbs: SweepDatabases,
  connection: { id: string; workspaceId: string },
  bound: { sweptUntil: number } | { companiesSweptUntil: number },
  run: { action: "sweep" | "sweep_companies"; queued: number; detail: string },
): Promise<void> {
  await saveSweepBound(dbs.control, connection.id, bound);
  await writeSyncLog(dbs.db, {
    connectionId: connection.id,
    workspaceId: connection.workspaceId,
    direction: "in",
    outcome: run.queued > 0 ? "pending" : "skipped",
    objectType: "connection",
    action: run.action,
    detail: run.detail,
  });
}
