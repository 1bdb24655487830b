/**
 * The reads behind `GET /v1/connections/:id/summary`, cheap enough to poll every few seconds: one D1 batch of index
 * searches, each bounded.
 *
 * - Time windows become row-id bounds: the first sync-log row written at or after the instant, found through
 *   `sync_logs_time`; later rows have larger ids (autoincrement), so "the last hour" is `id >= bound`.
 * - Counts per outcome walk `(connection_id, outcome, id)` from the newest row down to the 24-hour bound, and stop
 *   at `COUNT_CAP` rows per outcome: a busy connection's count then reads "at least" the cap.
 * - Outcomes that are counted rather than logged row by row (`noop`, `duplicate`, `ignored`) and the rows dropped
 *   past `LOG_ROWS_PER_DAY` come from `sync_log_counts`, exact, in 5-minute windows: "the last hour" is the windows
 *   that started at most an hour ago, rounded down to a window (60 to 65 minutes), and likewise for 24 hours.
 * - The latest webhook, capture and sync are the newest row of one index range each.
 */
import type { SyncOutcome } from "../../db/schema";
import { COUNTED_OUTCOMES, countWindowOf, logDayOf } from "../../lib/sync-log";
import { OUTCOMES } from "./logs";

/** Rows read at most per outcome (and for parked work and dead letters); a count at the cap means "at least". */
export const COUNT_CAP = 10_000;
export const HOUR_MS = 60 * 60_000;
export const DAY_MS = 24 * HOUR_MS;

/** Statement text (exported for the query-plan test). */
export const SUMMARY_SQL = {
  /** Per direction, the rows of one outcome in the last 24 h (newest first, at most the cap) and how many in the last hour. */
  outcomeCounts: `SELECT direction, count(*) AS day, coalesce(sum(id >= (SELECT id FROM sync_logs INDEXED BY sync_logs_time WHERE created_at >= ? ORDER BY created_at LIMIT 1)), 0) AS hour
    FROM (SELECT direction, id FROM sync_logs INDEXED BY sync_logs_outcome
          WHERE connection_id = ? AND outcome = ?
            AND id >= (SELECT id FROM sync_logs INDEXED BY sync_logs_time WHERE created_at >= ? ORDER BY created_at LIMIT 1)
          ORDER BY id DESC LIMIT ?)
    GROUP BY direction`,
  /** Counted outcomes and dropped rows per direction, in the 5-minute windows of the last 24 h and of the last hour. */
  counted: `SELECT direction, outcome, sum(n) AS day, coalesce(sum(CASE WHEN period >= ? THEN n END), 0) AS hour
    FROM sync_log_counts WHERE connection_id = ? AND period >= ? AND outcome IN ('noop', 'duplicate', 'ignored', 'dropped')
    GROUP BY direction, outcome`,
  /** Sync-log rows written today (UTC), the count the daily cap compares with. */
  rowsToday: `SELECT n FROM sync_log_counts WHERE connection_id = ? AND period = ? AND direction = '*' AND outcome = 'rows'`,
  /** The newest notification from Intercom the consumer logged (sweep bookkeeping rows are `connection` rows). */
  lastWebhook: `SELECT created_at FROM sync_logs INDEXED BY sync_logs_direction
    WHERE connection_id = ? AND direction = 'in' AND object_type <> 'connection' ORDER BY id DESC LIMIT 1`,
  /** The newest row of one outcome. */
  lastOutcome: `SELECT created_at, direction, object_type, object_id, action, detail FROM sync_logs INDEXED BY sync_logs_outcome
    WHERE connection_id = ? AND outcome = ? ORDER BY id DESC LIMIT 1`,
  parked: `SELECT kind, count(*) AS n FROM (SELECT kind FROM parked_syncs WHERE connection_id = ? LIMIT ?) GROUP BY kind`,
  deadLetters: `SELECT count(*) AS total, coalesce(sum(replayed_at IS NULL), 0) AS pending, max(created_at) AS latest
    FROM (SELECT replayed_at, created_at FROM dead_letters INDEXED BY dead_letters_connection
          WHERE connection_id = ? ORDER BY id DESC LIMIT ?)`,
} as const;

export interface OutcomeCount {
  direction: "in" | "out";
  outcome: SyncOutcome;
  lastHour: number;
  last24h: number;
}

export interface LatestRow {
  at: number;
  direction: "in" | "out";
  objectType: string;
  objectId: string | null;
  action: string | null;
  detail: string | null;
}

export interface SummaryReads {
  counts: OutcomeCount[];
  /** Sync-log rows not written because the connection reached its daily cap (counted per direction). */
  dropped: { lastHour: number; last24h: number };
  /** Sync-log rows written today (UTC). */
  rowsToday: number;
  /** Outcomes whose 24-hour rows reached the cap: their counts are lower bounds. */
  cappedOutcomes: SyncOutcome[];
  lastWebhookAt: number | null;
  lastCapture: LatestRow | null;
  lastSync: LatestRow | null;
  lastFailure: LatestRow | null;
  parked: { users: number; accounts: number; capped: boolean };
  deadLetters: { total: number; pending: number; latestAt: number | null; capped: boolean };
}

interface LatestSqlRow {
  created_at: number;
  direction: "in" | "out";
  object_type: string;
  object_id: string | null;
  action: string | null;
  detail: string | null;
}

const latest = (row: LatestSqlRow | undefined): LatestRow | null =>
  row
    ? {
        at: row.created_at,
        direction: row.direction,
        objectType: row.object_type,
        objectId: row.object_id,
        action: row.action,
        detail: row.detail,
      }
    : null;

/** Reads every figure of a connection's summary in one batch; `cap` bounds each count (a test lowers it). */
export async function readSummary(
  db: D1Database,
  connectionId: string,
  now = Date.now(),
  cap = COUNT_CAP,
): Promise<SummaryReads> {
  const hourAgo = now - HOUR_MS;
  const dayAgo = now - DAY_MS;
  const logged = OUTCOMES.filter((outcome) => !COUNTED_OUTCOMES.has(outcome));
  const countStatements = logged.map((outcome) =>
    db.prepare(SUMMARY_SQL.outcomeCounts).bind(hourAgo, connectionId, outcome, dayAgo, cap),
  );
  const results = await db.batch<Record<string, unknown>>([
    ...countStatements,
    db.prepare(SUMMARY_SQL.counted).bind(countWindowOf(hourAgo), connectionId, countWindowOf(dayAgo)),
    db.prepare(SUMMARY_SQL.rowsToday).bind(connectionId, logDayOf(now)),
    db.prepare(SUMMARY_SQL.lastWebhook).bind(connectionId),
    db.prepare(SUMMARY_SQL.lastOutcome).bind(connectionId, "captured"),
    db.prepare(SUMMARY_SQL.lastOutcome).bind(connectionId, "synced"),
    db.prepare(SUMMARY_SQL.lastOutcome).bind(connectionId, "failed"),
    db.prepare(SUMMARY_SQL.parked).bind(connectionId, cap),
    db.prepare(SUMMARY_SQL.deadLetters).bind(connectionId, cap),
  ]);
  const counts: OutcomeCount[] = [];
  const cappedOutcomes: SyncOutcome[] = [];
  logged.forEach((outcome, index) => {
    const rows = results[index]!.results as Array<{ direction: "in" | "out"; day: number; hour: number }>;
    let total = 0;
    for (const row of rows) {
      total += row.day;
      counts.push({ direction: row.direction, outcome, lastHour: row.hour, last24h: row.day });
    }
    if (total >= cap) cappedOutcomes.push(outcome);
  });
  const rest = results.slice(logged.length).map((result) => result.results);
  const [countedRows, rowsTodayRows, webhook, capture, sync, failure, parkedRows, deadLetterRows] = rest as [
    Array<{ direction: "in" | "out"; outcome: SyncOutcome | "dropped"; day: number; hour: number }>,
    Array<{ n: number }>,
    Array<{ created_at: number }>,
    LatestSqlRow[],
    LatestSqlRow[],
    LatestSqlRow[],
    Array<{ kind: string; n: number }>,
    Array<{ total: number; pending: number; latest: number | null }>,
  ];
  const dropped = { lastHour: 0, last24h: 0 };
  for (const row of countedRows) {
    if (row.outcome === "dropped") {
      dropped.lastHour += row.hour;
      dropped.last24h += row.day;
    } else counts.push({ direction: row.direction, outcome: row.outcome, lastHour: row.hour, last24h: row.day });
  }
  const parkedOf = (kind: string) => parkedRows.find((row) => row.kind === kind)?.n ?? 0;
  const parkedTotal = parkedRows.reduce((sum, row) => sum + row.n, 0);
  const letters = deadLetterRows[0] ?? { total: 0, pending: 0, latest: null };
  return {
    counts,
    dropped,
    rowsToday: rowsTodayRows[0]?.n ?? 0,
    cappedOutcomes,
    lastWebhookAt: webhook[0]?.created_at ?? null,
    lastCapture: latest(capture[0]),
    lastSync: latest(sync[0]),
    lastFailure: latest(failure[0]),
    parked: { users: parkedOf("user"), accounts: parkedOf("account"), capped: parkedTotal >= cap },
    deadLetters: {
      total: letters.total,
      pending: letters.pending,
      latestAt: letters.latest,
      capped: letters.total >= cap,
    },
  };
}
