/**
 * One notification through the source, whatever its origin (webhook, or the reconciliation sweep's REST items):
 * dedupe → route by topic and setting → handler → one D1 batch → sync-log rows and their console twins.
 */
import { eq, inArray } from "drizzle-orm";
import type { Database } from "../db/client";
import { processedNotifications } from "../db/schema";
import { logSyncOutcome, type SyncLogEntry, syncLogBatchStatements } from "../lib/sync-log";
import { handleChat } from "./capture/chat";
import { handleCompany } from "./capture/company";
import { handleContact } from "./capture/contact";
import { handleUserEvent } from "./capture/data-events";
import { handleCompanyDeleted, handleContactDeleted, handleContactMerged } from "./capture/identity";
import { handleRelationship } from "./capture/relationships";
import { handleContactTags } from "./import/tag-capture";
import { routeTopic, type TopicKind } from "./topics";
import {
  type BatchReads,
  type HandlerContext,
  handlerContext,
  type Origin,
  only,
  type SourceConnection,
  type SourceNotification,
  type SourcePrivacy,
  type Statement,
  type Work,
} from "./work";

const HANDLERS: Readonly<Record<TopicKind, (ctx: HandlerContext) => Promise<Work>>> = {
  contact: handleContact,
  company: handleCompany,
  relationship: handleRelationship,
  chat: handleChat,
  user_event: handleUserEvent,
  contact_tags: handleContactTags,
  contact_merged: handleContactMerged,
  contact_deleted: handleContactDeleted,
  company_deleted: handleCompanyDeleted,
};

/** What a topic's rows are about, for sync logs of notifications that were not handled. */
const OBJECT_TYPES: Readonly<Record<TopicKind, string>> = {
  contact: "user",
  company: "account",
  relationship: "membership",
  chat: "event",
  user_event: "event",
  contact_tags: "user",
  contact_merged: "user",
  contact_deleted: "user",
  company_deleted: "account",
};

/**
 * Processes one notification for `connection` (known, connected, source on: the caller checked) exactly once per
 * `${app_id}:${id}`. Reads and compare-and-set user/account writes come first; links, memberships, events, pending
 * relationships, sync-log rows and the idempotency key then land in one batch. A racing duplicate fails that batch
 * on the key and is retried into `duplicate`; a re-run after a partial failure re-applies the same values. Returns
 * the sync-log entries written.
 */
export async function processNotification(
  db: Database,
  connection: SourceConnection,
  notification: SourceNotification,
  origin: Origin,
  now = Date.now(),
  /** Runs after the batch landed, with the users newly linked to a contact. */
  afterCommit?: (linkedUsers: number[]) => Promise<void>,
  /** Erasure hooks: a `contact.deleted` that erases, and the tombstones of erased persons' contacts. */
  privacy?: SourcePrivacy,
): Promise<SyncLogEntry[]> {
  const key = notificationKey(connection.appId, notification.id);
  // Import items carry no key (inbound-message.ts): their capture is idempotent, and a key is 3 D1 rows written.
  if (origin !== "import" && (await isProcessed(db, key))) {
    const duplicate = duplicateOf(db, connection, notification, origin, now);
    await commitDecided(db, [duplicate], now);
    for (const entry of duplicate.entries) logSyncOutcome(entry);
    return duplicate.entries;
  }
  const decided = await decideNotification(db, connection, notification, origin, now, privacy);
  await commitDecided(db, [decided], now);
  for (const entry of decided.entries) logSyncOutcome(entry);
  if (afterCommit && decided.linkedUsers.length) await afterCommit(decided.linkedUsers);
  return decided.entries;
}

/**
 * A notification decided but not yet committed: its writes (the idempotency key first, when it has one) and the
 * sync-log entries whose rows or counters `commitStatements` adds.
 */
export interface Decided {
  /** The idempotency key this batch marks processed; null for a `duplicate`'s log alone. */
  key: string | null;
  statements: Statement[];
  entries: SyncLogEntry[];
  linkedUsers: number[];
}

/** Commits decided notifications in one D1 batch: their writes in order, then their sync log (counters merged). */
export async function commitDecided(db: Database, decided: readonly Decided[], now = Date.now()): Promise<void> {
  const statements = [
    ...decided.flatMap((one) => one.statements),
    ...syncLogBatchStatements(
      db,
      decided.flatMap((one) => one.entries),
      now,
    ),
  ];
  if (statements.length > 0) await db.batch(statements as [Statement, ...Statement[]]);
}

/**
 * Decides a notification not yet processed: the handler's reads and compare-and-set writes run, the rest is returned
 * as the statements of its batch, the idempotency key first so that a racing duplicate fails at once. The caller
 * commits them (alone, or joined with other notifications' batches) and then logs the entries.
 */
export async function decideNotification(
  db: Database,
  connection: SourceConnection,
  notification: SourceNotification,
  origin: Origin,
  now: number,
  privacy?: SourcePrivacy,
  /** What the queue batch read in bulk, when it did. */
  reads?: BatchReads,
): Promise<Decided> {
  const ctx = handlerContext(db, connection, notification, origin, now, privacy, reads);
  const key = notificationKey(connection.appId, notification.id);
  const work = await handle(ctx);
  const durationMs = Date.now() - now;
  const entries = work.entries.map((entry) => ({ ...entry, durationMs }));
  // Import items carry no key: see processNotification.
  const marked = origin === "import" ? null : key;
  return {
    key: marked,
    statements: [...(marked === null ? [] : [markProcessed(db, marked, now)]), ...work.statements],
    entries,
    linkedUsers: work.linkedUsers ?? [],
  };
}

/** The `duplicate` outcome of a notification already processed: its counted log statement, nothing else. */
export function duplicateOf(
  db: Database,
  connection: SourceConnection,
  notification: SourceNotification,
  origin: Origin,
  now: number,
): Decided {
  const entry = handlerContext(db, connection, notification, origin, now).entry({
    outcome: "duplicate",
    objectType: "notification",
    objectId: notification.id,
    detail: "already processed",
  });
  return { key: null, statements: [], entries: [entry], linkedUsers: [] };
}

async function handle(ctx: HandlerContext): Promise<Work> {
  const { topic, item } = ctx.notification;
  const route = routeTopic(topic);
  const intercomId = typeof item.id === "string" ? item.id : null;
  // A contact of an erased person: not captured again, and logged under the person's digest only.
  if (intercomId && item.type === "contact" && ctx.privacy) {
    const digest = await ctx.privacy.erasedContact(intercomId);
    if (digest) {
      return only(
        ctx.entry({
          outcome: "skipped",
          objectType: "user",
          objectId: digest,
          intercomId: digest,
          detail: "a contact of an erased person: not captured",
        }),
      );
    }
  }
  if (!route) {
    return only(
      ctx.entry({
        outcome: "ignored",
        objectType: "notification",
        intercomId,
        detail: `topic ${topic} is not handled by the source`,
      }),
    );
  }
  if (route.setting && !ctx.connection.source[route.setting]) {
    return only(
      ctx.entry({
        outcome: "skipped",
        objectType: OBJECT_TYPES[route.kind],
        intercomId,
        detail: `${route.setting} is off`,
      }),
    );
  }
  return HANDLERS[route.kind](ctx);
}

/** The idempotency key of a notification: Intercom ids are unique per app. */
export function notificationKey(appId: string, notificationId: string): string {
  return `${appId}:${notificationId}`;
}

/** Whether `key` is marked processed. */
export async function isProcessed(db: Database, key: string): Promise<boolean> {
  const row = await db
    .select({ key: processedNotifications.key })
    .from(processedNotifications)
    .where(eq(processedNotifications.key, key))
    .get();
  return row !== undefined;
}

/** The keys of `keys` already marked processed: one read per 90 keys (D1 binds at most 100 parameters). */
export async function processedKeys(db: Database, keys: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  const unique = [...new Set(keys)];
  for (let start = 0; start < unique.length; start += KEYS_PER_READ) {
    const rows = await db
      .select({ key: processedNotifications.key })
      .from(processedNotifications)
      .where(inArray(processedNotifications.key, unique.slice(start, start + KEYS_PER_READ)));
    for (const row of rows) found.add(row.key);
  }
  return found;
}

const KEYS_PER_READ = 90;

/**
 * Marks a notification processed: a plain insert, so that in a batch a racing duplicate fails the whole batch (and
 * its retry then sees `duplicate`) instead of applying twice.
 */
function markProcessed(db: Database, key: string, now: number) {
  return db.insert(processedNotifications).values({ key, processedAt: now });
}
