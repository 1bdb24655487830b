/**
 * The sync log: every outcome of either direction is a structured console line (read by `wrangler tail`) and, for
 * the logs API and the summary, either a row in `sync_logs` or a counter in `sync_log_counts`:
 * - `noop`, `duplicate` and `ignored` (the bulk of a busy connection's outcomes, and the least telling) are counted
 *   per connection and 5-minute window, not written row by row;
 * - every other outcome is a row, at most `LOG_ROWS_PER_DAY` per connection and UTC day; past that, rows are counted
 *   as `dropped` (per 5-minute window and direction) instead of written. The console line is printed either way.
 * See docs/capacity.md for what a row costs and why.
 */
import { env as workerEnv } from "cloudflare:workers";
import { getTableColumns, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../db/client";
import { type Direction, type SyncOutcome, syncLogCounts, syncLogs } from "../db/schema";
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
  /** Counted like `noop` (under its own outcome) instead of written as a row, unless it is a failure (imports). */
  counted?: boolean;
}

/** Outcomes counted per connection and window instead of written as rows (their console line stays). */
export const COUNTED_OUTCOMES: ReadonlySet<SyncOutcome> = new Set<SyncOutcome>(["noop", "duplicate", "ignored"]);
/** The window of the counters of `sync_log_counts`: the summary's "last hour" is 12 or 13 of them. */
export const COUNT_WINDOW_MS = 5 * 60_000;
const DAY_MS = 86_400_000;
export const DEFAULT_LOG_ROWS_PER_DAY = 50_000;

const WARN_OUTCOMES: ReadonlySet<SyncOutcome> = new Set(["failed", "conflict", "dead_letter", "parked"]);

/** `LOG_ROWS_PER_DAY` as a positive integer, 50,000 by default. */
export function logRowsPerDayOf(value: string | undefined): number {
  const rows = Number(value);
  return Number.isInteger(rows) && rows > 0 ? rows : DEFAULT_LOG_ROWS_PER_DAY;
}

/** The start of the counter window that holds `now`. */
export function countWindowOf(now: number): number {
  return now - (now % COUNT_WINDOW_MS);
}

/** The start of the UTC day that holds `now` (the daily cap's period). */
export function logDayOf(now: number): number {
  return now - (now % DAY_MS);
}

type Statements = [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]];

/**
 * The statements that record one outcome, to run in one `db.batch` (alone, or inside a caller's batch): a counter
 * upsert for a counted outcome; for any other, the row (written only while the connection is under its daily cap)
 * and the upsert of the daily `rows` count or, past the cap, of `dropped`. Both statements test the cap against
 * the same count, so inside one batch exactly one of "written" and "dropped" happens. (Two writers racing outside
 * one batch may both pass the cap by one row: the cap is a bound on volume, not an exact quota.)
 */
export function syncLogStatements(
  db: Database,
  entry: SyncLogEntry,
  now = Date.now(),
  rowsPerDay = logRowsPerDayOf((workerEnv as { LOG_ROWS_PER_DAY?: string }).LOG_ROWS_PER_DAY),
): Statements {
  const connectionId = entry.connectionId;
  // Rows of no connection (a notification of an unknown app) are rare and read by no per-connection API.
  if (connectionId === null) return [db.insert(syncLogs).values(rowOf(entry, now))];
  const window = countWindowOf(now);
  if (isCounted(entry))
    return [countStatement(db, { connectionId, direction: entry.direction, outcome: entry.outcome }, window, 1)];
  const day = logDayOf(now);
  const underCap = sql`(coalesce((SELECT n FROM sync_log_counts
      WHERE connection_id = ${connectionId} AND period = ${day} AND direction = '*' AND outcome = 'rows'), 0) < ${rowsPerDay})`;
  // drizzle's raw statements cannot join a batch: INSERT … SELECT and an upsert through its builder instead.
  const row: Record<string, unknown> = { ...rowOf(entry, now), id: null };
  const values = Object.keys(getTableColumns(syncLogs)).map((key) => sql`${row[key] ?? null}`);
  return [
    db.insert(syncLogs).select(sql`SELECT ${sql.join(values, sql`, `)} WHERE ${underCap}`),
    db
      .insert(syncLogCounts)
      .values({
        connectionId,
        period: sql`CASE WHEN ${underCap} THEN ${day} ELSE ${window} END`,
        direction: sql`CASE WHEN ${underCap} THEN '*' ELSE ${entry.direction} END`,
        outcome: sql`CASE WHEN ${underCap} THEN 'rows' ELSE 'dropped' END`,
        n: 1,
      })
      .onConflictDoUpdate({ target: COUNT_KEY, set: { n: sql`${syncLogCounts.n} + 1` } }),
  ];
}

const COUNT_KEY = [syncLogCounts.connectionId, syncLogCounts.period, syncLogCounts.direction, syncLogCounts.outcome];

/** Whether an outcome is counted in `sync_log_counts` instead of written as a row. */
function isCounted(entry: SyncLogEntry): boolean {
  return COUNTED_OUTCOMES.has(entry.outcome) || (entry.counted === true && entry.outcome !== "failed");
}

interface CountKey {
  connectionId: string;
  direction: Direction;
  outcome: SyncOutcome;
}

/** Adds `n` to one counter of a window (an update of a counter touches no index: one row written). */
function countStatement(db: Database, key: CountKey, window: number, n: number): BatchItem<"sqlite"> {
  return db
    .insert(syncLogCounts)
    .values({ ...key, period: window, n })
    .onConflictDoUpdate({ target: COUNT_KEY, set: { n: sql`${syncLogCounts.n} + excluded.n` } });
}

/**
 * The statements that record many outcomes in one batch: the rows as `syncLogStatements` writes them, and one upsert
 * per counter for all the counted outcomes (a queue batch of 25 imported contacts writes one counter row, not 25).
 */
export function syncLogBatchStatements(
  db: Database,
  entries: readonly SyncLogEntry[],
  now = Date.now(),
): BatchItem<"sqlite">[] {
  const statements: BatchItem<"sqlite">[] = [];
  const counts = new Map<string, CountKey & { n: number }>();
  for (const entry of entries) {
    const { connectionId, direction, outcome } = entry;
    if (connectionId === null || !isCounted(entry)) {
      statements.push(...syncLogStatements(db, entry, now));
      continue;
    }
    const id = JSON.stringify([connectionId, direction, outcome]);
    const count = counts.get(id);
    if (count) count.n += 1;
    else counts.set(id, { connectionId, direction, outcome, n: 1 });
  }
  const window = countWindowOf(now);
  for (const { n, ...key } of counts.values()) statements.push(countStatement(db, key, window, n));
  return statements;
}

function rowOf(entry: SyncLogEntry, now: number) {
  return {
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
  };
}

/** The console twin of a sync-log row (printed for every outcome, counted and dropped ones included). */
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

/** Records one outcome (row or counter, one D1 round trip) and prints its console twin. */
export async function writeSyncLog(db: Database, entry: SyncLogEntry, now = Date.now()): Promise<void> {
  await db.batch(syncLogStatements(db, entry, now));
  logSyncOutcome(entry);
}
