/** What both halves of the reconciliation sweep do with a page of REST items: queue those not captured yet. */
import { saveSweepBound } from "../../connections/repository";
import type { Database } from "../../db/client";
import type { Env } from "../../env";
import { linkByIntercomId } from "../../graph/links";
import { sendAll } from "../../lib/queue-batches";
import { writeSyncLog } from "../../lib/sync-log";
import type { InboundMessage } from "../inbound-message";

export interface FedPage {
  seen: number;
  alreadyCaptured: number;
  queued: number;
  /** The newest `updated_at` (Unix seconds) among the items seen, or null when none was. */
  newest: number | null;
}

/**
 * Queues on INBOUND each item updated at or after `from` whose state is newer than what its link records; items
 * without a valid `updated_at` are left out.
 */
export async function feedUncaptured(
  env: Env,
  db: Database,
  connectionId: string,
  kind: "contact" | "company",
  items: Array<Record<string, unknown>>,
  from: number,
  toMessage: (item: Record<string, unknown>, updatedAt: number) => InboundMessage,
): Promise<FedPage> {
  const fed: FedPage = { seen: 0, alreadyCaptured: 0, queued: 0, newest: null };
  const messages: InboundMessage[] = [];
  for (const item of items) {
    const updatedAt = Number(item.updated_at);
    if (!Number.isFinite(updatedAt) || updatedAt < from) continue;
    fed.seen++;
    fed.newest = Math.max(fed.newest ?? updatedAt, updatedAt);
    const link = await linkByIntercomId(db, connectionId, kind, String(item.id));
    if (link?.remoteUpdatedAt && link.remoteUpdatedAt >= updatedAt * 1000) {
      fed.alreadyCaptured++;
      continue;
    }
    messages.push(toMessage(item, updatedAt));
  }
  await sendAll(env.INBOUND, messages);
  fed.queued = messages.length;
  return fed;
}

/** Saves a sweep's new lower bound (unless the connection was disconnected meanwhile) and writes its sync-log row. */
export async function recordSweep(
  db: Database,
  connection: { id: string; workspaceId: string },
  bound: { sweptUntil: number } | { companiesSweptUntil: number },
  run: { action: "sweep" | "sweep_companies"; queued: number; detail: string },
): Promise<void> {
  await saveSweepBound(db, connection.id, bound);
  await writeSyncLog(db, {
    connectionId: connection.id,
    workspaceId: connection.workspaceId,
    direction: "in",
    outcome: run.queued > 0 ? "pending" : "skipped",
    objectType: "connection",
    action: run.action,
    detail: run.detail,
  });
}
