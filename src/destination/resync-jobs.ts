/**
 * Storage of resync jobs (table `resync_jobs` in the workspace's data database): creating one (at most one running
 * per connection, enforced by a partial unique index), cancelling it, advancing its paging cursor, and counting each
 * user's outcome with one bounded UPDATE. A job turns `done` in whichever statement sees paging finished and every
 * queued user's outcome in: each statement is atomic, so the last one to land decides, whatever the order.
 */
import { and, desc, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { type ResyncJobState, resyncJobs } from "../db/schema";
import type { ResyncOutcome } from "./resync-messages";

export type ResyncJob = typeof resyncJobs.$inferSelect;

/** Outcomes counted so far. */
export function finishedCount(job: Pick<ResyncJob, "synced" | "noop" | "skipped" | "failed">): number {
  return job.synced + job.noop + job.skipped + job.failed;
}

/** The running job of a connection, if any. */
export async function runningJob(db: Database, connectionId: string): Promise<ResyncJob | null> {
  const [row] = await db
    .select()
    .from(resyncJobs)
    .where(and(eq(resyncJobs.connectionId, connectionId), eq(resyncJobs.state, "running")))
    .limit(1);
  return row ?? null;
}

/** The newest job of a connection (running or not), if any. */
export async function latestJob(db: Database, connectionId: string): Promise<ResyncJob | null> {
  const [row] = await db
    .select()
    .from(resyncJobs)
    .where(eq(resyncJobs.connectionId, connectionId))
    .orderBy(desc(resyncJobs.startedAt))
    .limit(1);
  return row ?? null;
}

/** A job by id. */
export async function jobById(db: Database, id: string): Promise<ResyncJob | null> {
  const [row] = await db.select().from(resyncJobs).where(eq(resyncJobs.id, id)).limit(1);
  return row ?? null;
}

/** Inserts a running job; null when the connection already has one (the partial unique index refused it). */
export async function insertRunningJob(
  db: Database,
  values: { connectionId: string; workspaceId: string; total: number },
  now = Date.now(),
): Promise<ResyncJob | null> {
  const row: ResyncJob = {
    id: crypto.randomUUID(),
    connectionId: values.connectionId,
    workspaceId: values.workspaceId,
    state: "running",
    total: values.total,
    queued: 0,
    synced: 0,
    noop: 0,
    skipped: 0,
    failed: 0,
    afterPk: 0,
    pagedAll: false,
    detail: null,
    startedAt: now,
    finishedAt: null,
    updatedAt: now,
  };
  try {
    await db.insert(resyncJobs).values(row);
  } catch (error) {
    if (/UNIQUE constraint failed/i.test(String(error instanceof Error ? `${error.message} ${error.cause}` : error))) {
      return null;
    }
    throw error;
  }
  return row;
}

/** Ends a running job (cancelled or failed); returns it as ended, or null when it was not running. */
export async function endJob(
  db: Database,
  id: string,
  state: Extract<ResyncJobState, "cancelled" | "failed">,
  detail: string,
  now = Date.now(),
): Promise<ResyncJob | null> {
  const [row] = await db
    .update(resyncJobs)
    .set({ state, detail, finishedAt: now, updatedAt: now })
    .where(and(eq(resyncJobs.id, id), eq(resyncJobs.state, "running")))
    .returning();
  return row ?? null;
}

/**
 * Records one page as queued: moves the cursor from `fromPk` to `toPk` (compare-and-set, so a page delivered twice
 * counts once) and adds `queued`. Returns false when the cursor had moved on or the job is no longer running.
 */
export async function advanceCursor(
  db: Database,
  id: string,
  page: { fromPk: number; toPk: number; queued: number; last: boolean },
  now = Date.now(),
): Promise<boolean> {
  const finished = sql`${resyncJobs.synced} + ${resyncJobs.noop} + ${resyncJobs.skipped} + ${resyncJobs.failed}`;
  const allIn = page.last ? sql`${finished} >= ${resyncJobs.queued} + ${page.queued}` : sql`0`;
  const rows = await db
    .update(resyncJobs)
    .set({
      afterPk: page.toPk,
      queued: sql`${resyncJobs.queued} + ${page.queued}`,
      pagedAll: page.last,
      updatedAt: now,
      state: sql`CASE WHEN ${allIn} THEN 'done' ELSE ${resyncJobs.state} END`,
      finishedAt: sql`CASE WHEN ${allIn} THEN ${now} ELSE ${resyncJobs.finishedAt} END`,
    })
    .where(and(eq(resyncJobs.id, id), eq(resyncJobs.state, "running"), eq(resyncJobs.afterPk, page.fromPk)))
    .returning({ id: resyncJobs.id });
  return rows.length > 0;
}

const COLUMN = {
  synced: resyncJobs.synced,
  noop: resyncJobs.noop,
  skipped: resyncJobs.skipped,
  failed: resyncJobs.failed,
} as const;

/**
 * Counts one user's outcome for job `id` (one UPDATE). Counted whatever the job's state, so a cancelled job still shows
 * what its users did; only a running job turns `done`.
 */
export async function countOutcome(db: Database, id: string, outcome: ResyncOutcome, now = Date.now()): Promise<void> {
  const finished = sql`${resyncJobs.synced} + ${resyncJobs.noop} + ${resyncJobs.skipped} + ${resyncJobs.failed} + 1`;
  const completes = sql`${resyncJobs.state} = 'running' AND ${resyncJobs.pagedAll} = 1 AND ${finished} >= ${resyncJobs.queued}`;
  const column = COLUMN[outcome];
  await db
    .update(resyncJobs)
    .set({
      [outcome]: sql`${column} + 1`,
      updatedAt: now,
      state: sql`CASE WHEN ${completes} THEN 'done' ELSE ${resyncJobs.state} END`,
      finishedAt: sql`CASE WHEN ${completes} THEN ${now} ELSE ${resyncJobs.finishedAt} END`,
    })
    .where(eq(resyncJobs.id, id));
}

/** Seconds left at the rate so far (outcomes per second since the start); null when not running or nothing is in. */
export function etaSeconds(job: ResyncJob, now = Date.now()): number | null {
  if (job.state !== "running") return null;
  const finished = finishedCount(job);
  const elapsed = (now - job.startedAt) / 1000;
  if (finished === 0 || elapsed <= 0) return null;
  const remaining = Math.max(0, Math.max(job.total, job.queued) - finished);
  return Math.ceil(remaining / (finished / elapsed));
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A job as the API shows it. */
export function resyncJobJson(job: ResyncJob, now = Date.now()) {
  return {
    id: job.id,
    connection_id: job.connectionId,
    state: job.state,
    total: job.total,
    queued: job.queued,
    synced: job.synced,
    noop: job.noop,
    skipped: job.skipped,
    failed: job.failed,
    paged_all: job.pagedAll,
    detail: job.detail,
    started_at: new Date(job.startedAt).toISOString(),
    finished_at: iso(job.finishedAt),
    updated_at: new Date(job.updatedAt).toISOString(),
    eta_seconds: etaSeconds(job, now),
  };
}
export type ResyncJobJson = ReturnType<typeof resyncJobJson>;
