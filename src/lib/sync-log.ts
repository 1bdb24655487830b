/**
 * The sync log: every outcome of either direction is a row in `sync_logs` (read by the logs API) and a structured
 * console line with the same fields (read by `wrangler tail`).
 */
import type { Database } from "../db/client";
import { type Direction, type SyncOutcome, syncLogs } from "../db/schema";
import { log } from "./log";

export interface SyncLogEntry {
  connectionId: string | null;
  workspaceId: string | null;
  direction: Direction;
  outcome: SyncOutcome;
  objectType: string;
  objectId?: string | null;
  intercomId?: string | null;
  email?: string | null;
  action?: string | null;
  detail?: string | null;
  durationMs?: number;
}

const WARN_OUTCOMES: ReadonlySet<SyncOutcome> = new Set(["failed", "conflict", "dead_letter", "parked"]);

/** The insert for one sync-log row, to run alone or inside a `db.batch`. */
export function syncLogInsert(db: Database, entry: SyncLogEntry, now = Date.now()) {
  return db.insert(syncLogs).values({
    connectionId: entry.connectionId,
    workspaceId: entry.workspaceId,
    direction: entry.direction,
    outcome: entry.outcome,
    objectType: entry.objectType,
    objectId: entry.objectId ?? null,
    intercomId: entry.intercomId ?? null,
    email: entry.email ?? null,
    action: entry.action ?? null,
    detail: entry.detail ?? null,
    createdAt: now,
  });
}

/** The console twin of a sync-log row. */
export function logSyncOutcome(entry: SyncLogEntry): void {
  log({
    level: WARN_OUTCOMES.has(entry.outcome) ? "warn" : "info",
    msg: `${entry.direction === "in" ? "source" : "destination"} ${entry.objectType} ${entry.outcome}`,
    connection_id: entry.connectionId,
    workspace_id: entry.workspaceId,
    direction: entry.direction,
    object_type: entry.objectType,
    object_id: entry.objectId ?? null,
    intercom_id: entry.intercomId ?? null,
    action: entry.action ?? null,
    outcome: entry.outcome,
    detail: entry.detail ?? undefined,
    duration_ms: entry.durationMs,
  });
}

/** Writes a sync-log row and its console twin. */
export async function writeSyncLog(db: Database, entry: SyncLogEntry): Promise<void> {
  await syncLogInsert(db, entry);
  logSyncOutcome(entry);
}
