/**
 * Resync as a job (README, "Resync"): every user passing the connection's segment filter is synced once more, each
 * sending only what Intercom lacks. A job row (resync-jobs.ts) holds the progress; the work runs in the bulk lane
 * (JOBS queue): one `resync_page` message per 500 users, its cursor persisted after every page so a restart or a
 * redelivery continues where it ended, and `resync_users` messages that hand the users to their objects tagged with
 * the job, whose outcomes then count towards it. Cancelling stops the paging and drops the users not yet handed over;
 * users already handed to their object finish their sync (and still count).
 */
import { and, asc, count, eq, gt, inArray, lt } from "drizzle-orm";
import { findConnectionById } from "../connections/repository";
import type { Database } from "../db/client";
import { controlDb, everyDataDb, tenantDb } from "../db/placement";
import { resyncJobs, users } from "../db/schema";
import type { Env } from "../env";
import { inSegments } from "../graph/users";
import { describeError } from "../lib/errors";
import { log } from "../lib/log";
import { sendAll } from "../lib/queue-batches";
import { writeSyncLog } from "../lib/sync-log";
import { MAX_BATCH_IDENTITIES, resolveBatch } from "./batch-resolve";
import { contactSyncObject } from "./contact-sync";
import type { SyncMessage } from "./outbound-message";
import { syncObjectName } from "./outbound-message";
import { advanceCursor, endJob, finishedCount, insertRunningJob, type ResyncJob, runningJob } from "./resync-jobs";
import { RESYNC_USERS_PER_MESSAGE, type ResyncPageMessage, type ResyncUsersMessage } from "./resync-messages";

/** Users per page: one page's messages are 20 `resync_users` messages, well within one `sendBatch`. */
export const RESYNC_PAGE_SIZE = 500;

export type StartResult = { ok: true; job: ResyncJob } | { ok: false; running: ResyncJob };

/**
 * Starts a resync job of `connection`; with `restart`, a running one is cancelled first. Without it, a running job
 * is answered instead (`ok: false`).
 */
export async function startResync(
  env: Env,
  connection: { id: string; workspaceId: string; segments: string[] },
  options: { restart?: boolean } = {},
): Promise<StartResult> {
  const db = await tenantDb(env, connection.workspaceId);
  const running = await runningJob(db, connection.id);
  if (running) {
    if (!options.restart) return { ok: false, running };
    await endJob(db, running.id, "cancelled", "restarted");
  }
  const [row] = await db
    .select({ n: count() })
    .from(users)
    .where(and(eq(users.workspaceId, connection.workspaceId), inSegments(connection.segments)));
  const total = row?.n ?? 0;
  const job = await insertRunningJob(db, { connectionId: connection.id, workspaceId: connection.workspaceId, total });
  if (!job) {
    // Another start won the race between our read and our insert.
    const winner = await runningJob(db, connection.id);
    if (winner) return { ok: false, running: winner };
    throw new Error("resync job neither inserted nor running");
  }
  try {
    await env.JOBS.send({
      kind: "resync_page",
      job_id: job.id,
      connection_id: connection.id,
      after_pk: 0,
    } satisfies ResyncPageMessage);
  } catch (error) {
    await endJob(db, job.id, "failed", `the first page could not be queued: ${describeError(error)}`);
    throw error;
  }
  await writeSyncLog(db, {
    connectionId: connection.id,
    workspaceId: connection.workspaceId,
    direction: "out",
    outcome: "pending",
    objectType: "connection",
    action: "resync",
    detail: `resync started: ${total} users pass the segment filter`,
  });
  return { ok: true, job };
}

/** Cancels the connection's running job; returns it as cancelled, or null when none runs. */
export async function cancelResync(
  env: Env,
  connection: { id: string; workspaceId: string },
): Promise<ResyncJob | null> {
  const db = await tenantDb(env, connection.workspaceId);
  const running = await runningJob(db, connection.id);
  if (!running) return null;
  const cancelled = await endJob(db, running.id, "cancelled", "cancelled by an admin");
  if (cancelled) await logPage(db, connection, "skipped", "resync cancelled");
  return cancelled;
}

/**
 * One page of a job (a `resync_page` message): queues the next users after the cursor as `resync_users` messages,
 * then the next page, then moves the cursor. A page whose cursor no longer matches (a redelivery of a page already
 * recorded) or whose job is no longer running does nothing.
 */
export async function runResyncPage(env: Env, message: ResyncPageMessage): Promise<void> {
  const connection = await findConnectionById(controlDb(env), message.connection_id);
  if (!connection) return;
  const db = await tenantDb(env, connection.workspaceId);
  const [job] = await db.select().from(resyncJobs).where(eq(resyncJobs.id, message.job_id)).limit(1);
  if (job?.state !== "running" || job.afterPk !== message.after_pk) {
    log({
      msg: "resync page skipped: job not running or page already queued",
      connection_id: connection.id,
      job_id: message.job_id,
      outcome: "skipped",
    });
    return;
  }
  if (!connection.destination.enabled || connection.status !== "connected") {
    const reason = `resync stopped: the connection is ${connection.status === "connected" ? "connected but its destination is off" : connection.status}`;
    await endJob(db, job.id, "failed", reason);
    await logPage(db, connection, "skipped", reason);
    return;
  }
  const page = await db
    .select({ pk: users.pk })
    .from(users)
    .where(
      and(
        eq(users.workspaceId, connection.workspaceId),
        gt(users.pk, message.after_pk),
        inSegments(connection.destination.segments),
      ),
    )
    .orderBy(asc(users.pk))
    .limit(RESYNC_PAGE_SIZE);
  const pks = page.map((user) => user.pk);
  const chunks: ResyncUsersMessage[] = [];
  for (let i = 0; i < pks.length; i += RESYNC_USERS_PER_MESSAGE) {
    chunks.push({
      kind: "resync_users",
      job_id: job.id,
      connection_id: connection.id,
      workspace_id: connection.workspaceId,
      local_pks: pks.slice(i, i + RESYNC_USERS_PER_MESSAGE),
    });
  }
  await sendAll(env.JOBS, chunks);
  const last = pks.at(-1) ?? message.after_pk;
  const done = pks.length < RESYNC_PAGE_SIZE;
  // Sent before the cursor moves: a crash in between repeats this page (its users count once, see ContactSync),
  // never skips one.
  if (!done) {
    await env.JOBS.send({ ...message, after_pk: last } satisfies ResyncPageMessage);
  }
  const moved = await advanceCursor(db, job.id, {
    fromPk: message.after_pk,
    toPk: last,
    queued: pks.length,
    last: done,
  });
  if (!moved) return;
  await logPage(
    db,
    connection,
    done ? "synced" : "pending",
    `resync queued ${pks.length} users${done ? "; all users queued" : ` up to #${last}`}`,
  );
}

/**
 * Hands the users of `resync_users` messages to their objects, tagged with their job. Users of a job that is no
 * longer running (cancelled, replaced, failed) are dropped; unlinked users are resolved with one search per 50 first
 * (batch-resolve.ts). Throws when a hand-over fails: the message is retried (a user handed over twice counts once).
 */
export async function handOverResyncUsers(env: Env, messages: ResyncUsersMessage[]): Promise<void> {
  if (messages.length === 0) return;
  const byWorkspace = new Map<string, ResyncUsersMessage[]>();
  for (const message of messages) {
    byWorkspace.set(message.workspace_id, [...(byWorkspace.get(message.workspace_id) ?? []), message]);
  }
  for (const [workspaceId, group] of byWorkspace) {
    const db = await tenantDb(env, workspaceId);
    const jobIds = [...new Set(group.map((message) => message.job_id))];
    const live = await db
      .select({ id: resyncJobs.id })
      .from(resyncJobs)
      .where(and(inArray(resyncJobs.id, jobIds), eq(resyncJobs.state, "running")));
    const running = new Set(live.map((row) => row.id));
    const dropped = group.filter((message) => !running.has(message.job_id));
    if (dropped.length) {
      log({
        msg: "resync users dropped: their job is not running",
        workspace_id: workspaceId,
        outcome: "skipped",
        users: dropped.reduce((sum, message) => sum + message.local_pks.length, 0),
      });
    }
    const byConnection = new Map<string, SyncMessage[]>();
    for (const message of group) {
      if (!running.has(message.job_id)) continue;
      const syncs = message.local_pks.map(
        (pk): SyncMessage => ({
          kind: "user",
          connection_id: message.connection_id,
          local_pk: pk,
          resync_job: message.job_id,
        }),
      );
      byConnection.set(message.connection_id, [...(byConnection.get(message.connection_id) ?? []), ...syncs]);
    }
    for (const [connectionId, syncs] of byConnection) {
      // Resolved 50 at a time: one search each, and each statement's bound parameters stay within D1's 100.
      for (let i = 0; i < syncs.length; i += MAX_BATCH_IDENTITIES) {
        let hinted = syncs.slice(i, i + MAX_BATCH_IDENTITIES);
        try {
          hinted = await resolveBatch(env, connectionId, hinted, "bulk");
        } catch (error) {
          log({
            level: "warn",
            msg: "batch resolution skipped",
            connection_id: connectionId,
            outcome: "skipped",
            error: describeError(error),
          });
        }
        await Promise.all(hinted.map((sync) => contactSyncObject(env, syncObjectName(sync)).enqueue(sync)));
      }
    }
  }
}

/** A running job without progress for this long has lost its page message (dead-lettered): the cron re-sends it. */
export const RESYNC_STALL_MS = 15 * 60_000;
/** A job whose pages are all queued but whose outcomes stopped coming for this long is ended as failed. */
export const RESYNC_GIVE_UP_MS = 6 * 3_600_000;
const STALLED_PER_RUN = 50;

/**
 * The cron's part: running jobs without progress for `RESYNC_STALL_MS` get their page re-sent from the persisted
 * cursor (a page whose message was lost, e.g. dead-lettered after its retries); jobs whose pages were all queued but
 * whose last outcomes never came within `RESYNC_GIVE_UP_MS` end as `failed`. At most 50 jobs per data database a run.
 */
export async function resumeStalledResyncs(env: Env, now = Date.now()): Promise<{ resumed: number; ended: number }> {
  let resumed = 0;
  let ended = 0;
  for (const db of everyDataDb(env)) {
    const stalled = await db
      .select()
      .from(resyncJobs)
      .where(and(eq(resyncJobs.state, "running"), lt(resyncJobs.updatedAt, now - RESYNC_STALL_MS)))
      .orderBy(asc(resyncJobs.updatedAt))
      .limit(STALLED_PER_RUN);
    const pages: ResyncPageMessage[] = [];
    for (const job of stalled) {
      if (!job.pagedAll) {
        pages.push({ kind: "resync_page", job_id: job.id, connection_id: job.connectionId, after_pk: job.afterPk });
      } else if (job.updatedAt < now - RESYNC_GIVE_UP_MS) {
        const missing = Math.max(0, job.queued - finishedCount(job));
        if (await endJob(db, job.id, "failed", `${missing} users never reported an outcome`, now)) ended++;
      }
    }
    await sendAll(env.JOBS, pages);
    for (const page of pages) {
      // Marked as progress, so the next run waits another RESYNC_STALL_MS before sending it again.
      await db
        .update(resyncJobs)
        .set({ updatedAt: now })
        .where(and(eq(resyncJobs.id, page.job_id), eq(resyncJobs.state, "running")));
    }
    resumed += pages.length;
  }
  if (resumed || ended) log({ msg: "stalled resyncs", outcome: "resumed", resumed, ended });
  return { resumed, ended };
}

async function logPage(
  db: Database,
  connection: { id: string; workspaceId: string },
  outcome: "synced" | "pending" | "skipped",
  detail: string,
): Promise<void> {
  await writeSyncLog(db, {
    connectionId: connection.id,
    workspaceId: connection.workspaceId,
    direction: "out",
    outcome,
    objectType: "connection",
    action: "resync",
    detail,
  });
}
