/**
 * Storage of import jobs (table `import_jobs` in the workspace's data database): creating one (at most one queued or
 * running per connection, enforced by a partial unique index), reading and listing them, recording a page
 * (compare-and-set on the page count, so a page delivered twice is recorded once), ending one.
 */
import { and, desc, eq, inArray, lt, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { type ImportJobState, type ImportOptions, type ImportPhase, importJobs } from "../../db/schema";
import { type Progress, plannedPhases, runnablePhase } from "./plan";

export type ImportJob = typeof importJobs.$inferSelect;

const ACTIVE: ImportJobState[] = ["queued", "running"];

/** The queued or running import of a connection, if any. */
export async function activeImport(db: Database, connectionId: string): Promise<ImportJob | null> {
  const [row] = await db
    .select()
    .from(importJobs)
    .where(and(eq(importJobs.connectionId, connectionId), inArray(importJobs.state, ACTIVE)))
    .limit(1);
  return row ?? null;
}

/** The newest imports of a connection, newest first. */
export async function listImports(db: Database, connectionId: string, limit = 20): Promise<ImportJob[]> {
  return db
    .select()
    .from(importJobs)
    .where(eq(importJobs.connectionId, connectionId))
    .orderBy(desc(importJobs.startedAt))
    .limit(limit);
}

/** The newest import of a connection, if any (one indexed read). */
export async function latestImport(db: Database, connectionId: string): Promise<ImportJob | null> {
  const [row] = await listImports(db, connectionId, 1);
  return row ?? null;
}

/** An import of a connection by id. */
export async function importById(db: Database, connectionId: string, id: string): Promise<ImportJob | null> {
  const [row] = await db
    .select()
    .from(importJobs)
    .where(and(eq(importJobs.id, id), eq(importJobs.connectionId, connectionId)))
    .limit(1);
  return row ?? null;
}

/** Inserts a queued import; null when the connection already has an active one (the partial unique index refused). */
export async function insertQueuedImport(
  db: Database,
  values: { connectionId: string; workspaceId: string; options: ImportOptions; phases?: ImportPhase[] },
  now = Date.now(),
): Promise<ImportJob | null> {
  // The caller passes the phases when settings or estimates shaped them (plan.ts phasesOf).
  const phases = values.phases ?? plannedPhases(values.options.objects);
  const row: ImportJob = {
    id: crypto.randomUUID(),
    connectionId: values.connectionId,
    workspaceId: values.workspaceId,
    state: "queued",
    options: values.options,
    phase: runnablePhase(phases),
    cursor: null,
    page: 0,
    phases,
    detail: null,
    startedAt: now,
    finishedAt: null,
    updatedAt: now,
  };
  try {
    await db.insert(importJobs).values(row);
  } catch (error) {
    if (/UNIQUE constraint failed/i.test(String(error instanceof Error ? `${error.message} ${error.cause}` : error))) {
      return null;
    }
    throw error;
  }
  return row;
}

/**
 * Records a page: the new progress, the page count moved from `fromPage` (compare-and-set), `running`, or `done` when
 * every phase is read. Returns the job as recorded, or null when the page was recorded already or the job ended.
 */
export async function recordPage(
  db: Database,
  id: string,
  fromPage: number,
  progress: Progress,
  now = Date.now(),
): Promise<ImportJob | null> {
  const done = progress.phase === null;
  const [row] = await db
    .update(importJobs)
    .set({
      phase: progress.phase,
      cursor: progress.cursor,
      phases: progress.phases,
      page: fromPage + 1,
      state: done ? "done" : "running",
      detail: null,
      finishedAt: done ? now : null,
      updatedAt: now,
    })
    .where(and(eq(importJobs.id, id), eq(importJobs.page, fromPage), inArray(importJobs.state, ACTIVE)))
    .returning();
  return row ?? null;
}

/** Notes why an active job waits (a revoked token, a busy scroll); it stays active. */
export async function noteWaiting(db: Database, id: string, detail: string, now = Date.now()): Promise<void> {
  await db
    .update(importJobs)
    .set({ detail, updatedAt: now })
    .where(and(eq(importJobs.id, id), inArray(importJobs.state, ACTIVE)));
}

/** Ends an active job (cancelled or failed); returns it as ended, or null when it was not active. */
export async function endImport(
  db: Database,
  id: string,
  state: Extract<ImportJobState, "cancelled" | "failed">,
  detail: string,
  now = Date.now(),
): Promise<ImportJob | null> {
  const [row] = await db
    .update(importJobs)
    .set({ state, detail, finishedAt: now, updatedAt: now })
    .where(and(eq(importJobs.id, id), inArray(importJobs.state, ACTIVE)))
    .returning();
  return row ?? null;
}

/** Active imports with no progress since `before` (the cron's stall check; a partial index keeps it small). */
export async function stalledImports(db: Database, before: number): Promise<ImportJob[]> {
  return (
    db
      .select()
      .from(importJobs)
      // The state as SQL text, not bound values: so the planner can use the partial index of active imports.
      .where(and(sql`${importJobs.state} IN ('queued', 'running')`, lt(importJobs.updatedAt, before)))
      .limit(50)
  );
}
