/**
 * The source consumer (Intercom → CDP), the queue shell around `processNotification`: validates each INBOUND
 * message, finds its connection by `app_id`, skips (with a logged reason) what may not be captured, and retries
 * with backoff what failed; after `max_retries` the queue moves it to the dead-letter queue, which records it.
 */
import { type Connection, findByAppId } from "../connections/repository";
import type { Database } from "../db/client";
import { controlDb, tenantDb } from "../db/placement";
import { wakeLinkedUsers } from "../destination/wake";
import type { Env } from "../env";
import { describeError } from "../lib/errors";
import { log } from "../lib/log";
import { logSyncOutcome, type SyncLogEntry, writeSyncLog } from "../lib/sync-log";
import { startErasure } from "../privacy/erase";
import { erasedContactDigest, erasedContactDigests } from "../privacy/tombstones";
import { InboundMessage, type InboundNotification } from "./inbound-message";
import {
  commitDecided,
  type Decided,
  decideNotification,
  duplicateOf,
  isProcessed,
  notificationKey,
  processedKeys,
} from "./process";
import { forgetReads, prefetchReads } from "./reads";
import type { BatchReads, Origin, SourceNotification, SourcePrivacy } from "./work";

/** Seconds before the n-th retry (n = attempts so far): 10 s, 30 s, 1.5 min, 4.5 min, then 10 min. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(10 * 3 ** Math.max(0, attempts - 1), 600);
}

/**
 * Consumes a batch of INBOUND messages. Messages are decided in order, but their batches are committed together: the
 * processed keys and tombstones of the whole batch are read at once, and the decided writes land in one D1 batch,
 * flushed early only when a message touches an object (contact, company, email, user id) that a decided but
 * uncommitted one touched, so that its reads see the previous message's result (per-object order).
 */
export async function consumeInbound(batch: MessageBatch, env: Env, _ctx: ExecutionContext): Promise<void> {
  const control = controlDb(env);
  const connections = new Map<string, Promise<Connection | null>>();
  const connectionOf = (appId: string) => {
    let found = connections.get(appId);
    if (!found) {
      found = findByAppId(control, appId);
      connections.set(appId, found);
    }
    return found;
  };
  // Accepted messages by connection, in batch order: each connection's own database and keys.
  const groups = new Map<string, { connection: LinkedConnection; items: Accepted[] }>();
  for (const message of batch.messages) {
    const parsed = InboundMessage.safeParse(message.body);
    let connection: Connection | null = null;
    try {
      // Messages outlive deploys: one this code cannot read goes the retry way, to the dead-letter queue, replayable.
      if (!parsed.success) throw parsed.error;
      const { app_id: appId, notification } = parsed.data;
      connection = await connectionOf(appId);
      const reason = skipReason(connection, appId);
      if (reason || !connection?.appId) {
        const db = connection ? await tenantDb(env, connection.workspaceId) : control;
        await writeSyncLog(db, {
          connectionId: connection?.id ?? null,
          workspaceId: connection?.workspaceId ?? null,
          direction: "in",
          outcome: "skipped",
          objectType: "notification",
          objectId: notification.id,
          action: notification.topic,
          detail: reason ?? "the connection has no Intercom app id",
        });
        message.ack();
        continue;
      }
      let group = groups.get(connection.id);
      if (!group) {
        group = { connection: { ...connection, appId: connection.appId }, items: [] };
        groups.set(connection.id, group);
      }
      group.items.push({ message, notification, origin: parsed.data.origin });
    } catch (error) {
      const db = connection ? await tenantDb(env, connection.workspaceId).catch(() => control) : control;
      await failed(db, message, connection, parsed.success ? parsed.data.notification : null, error);
    }
  }
  for (const { connection, items } of groups.values()) await consumeGroup(env, connection, items);
}

type LinkedConnection = Connection & { appId: string };

interface Accepted {
  message: Message;
  notification: InboundNotification;
  origin: Origin;
}

/** A message decided, waiting for its batch to be committed. */
interface Held {
  item: Accepted;
  decided: Decided;
  /** Later messages of the same notification in this queue batch: they follow this one's outcome. */
  twins: Accepted[];
}

/** The notifications of one connection in one queue batch: bulk reads, decisions in order, joined commits. */
async function consumeGroup(env: Env, connection: LinkedConnection, items: Accepted[]): Promise<void> {
  let db: Database;
  try {
    db = await tenantDb(env, connection.workspaceId);
  } catch (error) {
    for (const item of items) await failed(controlDb(env), item.message, connection, item.notification, error);
    return;
  }
  const keyOf = (item: Accepted) => notificationKey(connection.appId, item.notification.id);
  let processed: Set<string>;
  let erased: Map<string, string>;
  // The contacts whose tombstones were read in bulk (`erased` holds those found).
  let checked = new Set(contactIdsOf(items.map((item) => item.notification)));
  // At each mid-batch commit, what it holds of the committed messages' objects is forgotten (it may be older).
  let reads: BatchReads | undefined;
  try {
    [processed, erased, reads] = await Promise.all([
      processedKeys(db, items.map(keyOf)),
      erasedContactDigests(env, db, connection.id, [...checked]),
      prefetchReads(
        db,
        connection,
        items.map((item) => item.notification),
      ),
    ]);
  } catch (error) {
    for (const item of items) await failed(db, item.message, connection, item.notification, error);
    return;
  }
  const privacy: SourcePrivacy = {
    erasePerson: async (person) =>
      (
        await startErasure(env, connection.workspaceId, person, {
          origin: "intercom",
          requestedBy: `intercom:${connection.id}`,
          quietConnectionId: connection.id,
        })
      ).erasure.id,
    // Read in bulk above; a contact not checked there is read alone.
    erasedContact: async (intercomId) =>
      checked.has(intercomId)
        ? (erased.get(intercomId) ?? null)
        : erasedContactDigest(env, db, connection.id, intercomId),
  };

  let held: Held[] = [];
  let touched = new Set<string>();
  const byKey = new Map<string, Held>();
  const flush = async () => {
    const batch = held;
    held = [];
    touched = new Set();
    byKey.clear();
    if (reads)
      forgetReads(
        reads,
        batch.map((held) => held.item.notification),
      );
    for (const key of await commit(env, db, connection, batch)) processed.add(key);
  };
  for (const item of items) {
    const key = keyOf(item);
    const first = byKey.get(key);
    if (first) {
      first.twins.push(item);
      continue;
    }
    const now = Date.now();
    if (processed.has(key)) {
      held.push({ item, decided: duplicateOf(db, connection, item.notification, item.origin, now), twins: [] });
      continue;
    }
    const objects = objectsOf(item.notification);
    if (objects.some((object) => touched.has(object))) {
      await flush();
      // Committed meanwhile (a twin after the flush) is a duplicate like any other.
      if (processed.has(key)) {
        held.push({ item, decided: duplicateOf(db, connection, item.notification, item.origin, now), twins: [] });
        continue;
      }
    }
    // An erasure started in this batch may add tombstones: later contacts are checked one by one again.
    if (item.notification.topic === "contact.deleted") checked = new Set();
    let decided: Decided;
    try {
      decided = await decideNotification(db, connection, item.notification, item.origin, now, privacy, reads);
    } catch (error) {
      await failed(db, item.message, connection, item.notification, error);
      continue;
    }
    const entry: Held = { item, decided, twins: [] };
    held.push(entry);
    byKey.set(key, entry);
    for (const object of objects) touched.add(object);
    // D1 counts each statement of a batch as a query (1,000 an invocation): a joined batch stays well below.
    if (
      held.reduce((n, h) => n + h.decided.statements.length + h.decided.entries.length * 2, 0) >=
      MAX_STATEMENTS_PER_COMMIT
    )
      await flush();
  }
  await flush();
}

/** Statements at which a joined commit is sent early. */
const MAX_STATEMENTS_PER_COMMIT = 400;

/**
 * Commits decided messages in one D1 batch; if it fails, each message's own batch is tried in order so that one bad
 * message neither fails nor duplicates the others: one whose key is already there is a racing duplicate, any other
 * failure retries that message alone.
 */
async function commit(env: Env, db: Database, connection: LinkedConnection, batch: Held[]): Promise<string[]> {
  if (batch.length === 0) return [];
  const landed: Held[] = [];
  try {
    await commitDecided(
      db,
      batch.map((held) => held.decided),
    );
    landed.push(...batch);
  } catch (joinedError) {
    log({
      level: "warn",
      msg: "a joined source commit failed; committing its notifications one by one",
      connectionId: connection.id,
      notifications: batch.length,
      error: describeError(joinedError),
    });
    for (const held of batch) {
      try {
        await commitDecided(db, [held.decided]);
        landed.push(held);
      } catch (error) {
        const { key } = held.decided;
        const raced = key !== null && (await isProcessed(db, key).catch(() => false));
        if (!raced) {
          for (const item of [held.item, ...held.twins])
            await failed(db, item.message, connection, item.notification, error);
          continue;
        }
        // A racing duplicate committed the same notification first: this one is `duplicate`.
        const duplicate = duplicateOf(db, connection, held.item.notification, held.item.origin, Date.now());
        try {
          await commitDecided(db, [duplicate]);
        } catch (countError) {
          log({ level: "warn", msg: "could not count a duplicate", error: describeError(countError) });
        }
        landed.push({ ...held, decided: duplicate });
      }
    }
  }
  for (const held of landed) {
    for (const entry of held.decided.entries) logSyncOutcome(entry);
    held.item.message.ack();
  }
  const twins = landed.flatMap((held) => held.twins);
  if (twins.length > 0) {
    const now = Date.now();
    const duplicates = twins.map((twin) => duplicateOf(db, connection, twin.notification, twin.origin, now));
    try {
      await commitDecided(db, duplicates, now);
      for (const duplicate of duplicates) for (const entry of duplicate.entries) logSyncOutcome(entry);
    } catch (error) {
      // The notification landed: its twins are duplicates whether or not their counted log made it.
      log({ level: "warn", msg: "could not count duplicates of a batch", error: describeError(error) });
    }
    for (const twin of twins) twin.message.ack();
  }
  const linkedUsers = [...new Set(landed.flatMap((held) => held.decided.linkedUsers))];
  try {
    for (let start = 0; start < linkedUsers.length; start += 90) {
      await wakeLinkedUsers(env, connection, linkedUsers.slice(start, start + 90));
    }
  } catch (error) {
    // The notifications landed and are acked; a retry would find them processed and not wake either.
    log({
      level: "error",
      msg: "could not wake newly linked users",
      connectionId: connection.id,
      error: describeError(error),
    });
  }
  return landed.flatMap((held) => (held.decided.key === null ? [] : [held.decided.key]));
}

/** Logs a message's failure (best effort) and retries it with backoff. */
async function failed(
  db: Database,
  message: Message,
  connection: Connection | null,
  notification: InboundNotification | null,
  error: unknown,
): Promise<void> {
  const delaySeconds = retryDelaySeconds(message.attempts);
  const entry: SyncLogEntry = {
    connectionId: connection?.id ?? null,
    workspaceId: connection?.workspaceId ?? null,
    direction: "in",
    outcome: "failed",
    objectType: "notification",
    objectId: notification ? notification.id : message.id,
    action: notification ? notification.topic : null,
    detail: `${describeError(error)}; attempt ${message.attempts}, retrying in ${delaySeconds}s`,
  };
  try {
    await writeSyncLog(db, entry);
  } catch (logError) {
    log({
      level: "error",
      msg: "could not write the sync log of a failed notification",
      error: describeError(logError),
    });
  }
  message.retry({ delaySeconds });
}

/** The ids of contact items (those the tombstone check reads). */
export function contactIdsOf(notifications: readonly SourceNotification[]): string[] {
  return notifications.flatMap(({ item }) => (item.type === "contact" && typeof item.id === "string" ? [item.id] : []));
}

const OBJECT_PATHS: ReadonlyArray<readonly string[]> = [
  [],
  ["contact"],
  ["company"],
  ["merged_from"],
  ["user"],
  ["source", "author"],
];
const OBJECT_FIELDS = ["id", "email", "external_id", "user_id", "intercom_user_id", "company_id"] as const;

/**
 * The objects a notification may read or write, as opaque keys (Intercom ids, emails, external ids): two messages
 * sharing one are processed in order, the second after the first's batch landed. Over-broad is only slower.
 */
export function objectsOf(notification: SourceNotification): string[] {
  const keys = new Set<string>();
  const add = (value: unknown) => {
    if (typeof value === "string" && value !== "") keys.add(value.toLowerCase());
  };
  const objects: unknown[] = OBJECT_PATHS.map((path) =>
    path.reduce<unknown>(
      (at, step) => (at && typeof at === "object" ? (at as Record<string, unknown>)[step] : undefined),
      notification.item,
    ),
  );
  const contacts = (notification.item.contacts as { contacts?: unknown } | undefined)?.contacts;
  if (Array.isArray(contacts)) objects.push(...contacts);
  for (const object of objects) {
    if (!object || typeof object !== "object") continue;
    for (const field of OBJECT_FIELDS) add((object as Record<string, unknown>)[field]);
  }
  return [...keys];
}

/** Why a notification for `appId` is skipped before processing (known app, still installed, source on), or null. */
export function skipReason(connection: Connection | null, appId: string): string | null {
  if (!connection) return `no connection for Intercom app ${appId}`;
  if (connection.status === "disconnected" || connection.status === "revoked")
    return `the connection is ${connection.status}`;
  if (!connection.source.enabled) return "the source is switched off";
  return null;
}
