/**
 * The housekeeping cron: retention of sync logs (rows and counters) and captured events, expiry of idempotency keys
 * and OAuth nonces, and of relationships that waited too long for a contact or company that never came; erasures
 * that lost their queue message are resumed.
 */
import { inArray, lt, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { controlDb, everyDataDb } from "../db/placement";
import { events, oauthStates, pendingLinks, processedNotifications, syncLogs } from "../db/schema";
import type { Env } from "../env";
import { log } from "../lib/log";
import { resumeStaleErasures } from "../privacy/erase";
import { expireTombstones } from "../privacy/tombstones";

const DAY_MS = 86_400_000;
/** Intercom gives up redelivering after 2 hours; a week of keys leaves a wide margin. */
const NOTIFICATION_KEY_TTL_MS = 7 * DAY_MS;
/** A relationship whose missing side has not appeared within this time is dropped. */
const PENDING_LINK_TTL_MS = 30 * DAY_MS;
const DELETE_CHUNK = 5_000;
const MAX_CHUNKS_PER_RUN = 40;

/** Runs every housekeeping task once; each logs what it did. */
export async function runHousekeeping(env: Env, scheduledTime: number): Promise<void> {
  const retentionDays = retentionDaysOf(env.LOG_RETENTION_DAYS);
  const eventRetentionDays = retentionDaysOf(env.EVENT_RETENTION_DAYS, DEFAULT_EVENT_RETENTION_DAYS);
  const nonces = await controlDb(env)
    .delete(oauthStates)
    .where(lt(oauthStates.expiresAt, scheduledTime - DAY_MS))
    .run();
  log({ msg: "housekeeping of the control database done", outcome: "done", oauth_states_deleted: nonces.meta.changes });
  for (const db of everyDataDb(env)) {
    const logsDeleted = await deleteOldSyncLogs(db, scheduledTime - retentionDays * DAY_MS);
    const countsDeleted = await deleteOldSyncLogCounts(db, scheduledTime - retentionDays * DAY_MS);
    const eventsDeleted = await deleteOldEvents(db, scheduledTime - eventRetentionDays * DAY_MS);
    const erasuresResumed = await resumeStaleErasures(env, db, scheduledTime);
    const tombstonesExpired = await expireTombstones(db, scheduledTime);
    const keys = await db
      .delete(processedNotifications)
      .where(lt(processedNotifications.processedAt, scheduledTime - NOTIFICATION_KEY_TTL_MS))
      .run();
    const pending = await db
      .delete(pendingLinks)
      .where(lt(pendingLinks.createdAt, scheduledTime - PENDING_LINK_TTL_MS))
      .run();
    log({
      msg: "housekeeping done",
      outcome: "done",
      retention_days: retentionDays,
      sync_logs_deleted: logsDeleted,
      sync_log_counts_deleted: countsDeleted,
      event_retention_days: eventRetentionDays,
      events_deleted: eventsDeleted,
      erasures_resumed: erasuresResumed,
      erased_contacts_expired: tombstonesExpired,
      notification_keys_deleted: keys.meta.changes,
      pending_links_expired: pending.meta.changes,
    });
  }
}

/** Default of `EVENT_RETENTION_DAYS`: 13 months, so a year-over-year comparison still has its month. */
export const DEFAULT_EVENT_RETENTION_DAYS = 395;

/** A retention setting (`LOG_RETENTION_DAYS`, `EVENT_RETENTION_DAYS`) as a positive number of days. */
export function retentionDaysOf(value: string | undefined, fallback = 30): number {
  const days = Number(value);
  return Number.isFinite(days) && days > 0 ? days : fallback;
}

/** Deletes events that occurred before `cutoff` in chunks (indexed by `occurred_at`). */
async function deleteOldEvents(db: Database, cutoff: number): Promise<number> {
  let deleted = 0;
  for (let chunk = 0; chunk < MAX_CHUNKS_PER_RUN; chunk++) {
    const old = db.select({ pk: events.pk }).from(events).where(lt(events.occurredAt, cutoff)).limit(DELETE_CHUNK);
    const result = await db.delete(events).where(inArray(events.pk, old)).run();
    deleted += result.meta.changes;
    if (result.meta.changes < DELETE_CHUNK) break;
  }
  return deleted;
}

/** Deletes sync-log rows older than `cutoff` in chunks, so one run never holds D1 for long. */
async function deleteOldSyncLogs(db: Database, cutoff: number): Promise<number> {
  let deleted = 0;
  for (let chunk = 0; chunk < MAX_CHUNKS_PER_RUN; chunk++) {
    const old = db.select({ id: syncLogs.id }).from(syncLogs).where(lt(syncLogs.createdAt, cutoff)).limit(DELETE_CHUNK);
    const result = await db.delete(syncLogs).where(inArray(syncLogs.id, old)).run();
    deleted += result.meta.changes;
    if (result.meta.changes < DELETE_CHUNK) break;
  }
  return deleted;
}

/** Deletes the sync-log counters of windows (and days) that started before `cutoff`, in chunks like the rows. */
async function deleteOldSyncLogCounts(db: Database, cutoff: number): Promise<number> {
  let deleted = 0;
  for (let chunk = 0; chunk < MAX_CHUNKS_PER_RUN; chunk++) {
    const result = await db.run(
      sql`DELETE FROM sync_log_counts WHERE rowid IN (SELECT rowid FROM sync_log_counts WHERE period < ${cutoff} LIMIT ${DELETE_CHUNK})`,
    );
    deleted += result.meta.changes;
    if (result.meta.changes < DELETE_CHUNK) break;
  }
  return deleted;
}
