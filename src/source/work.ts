/**
 * What a topic handler produces: the statements of the notification's single D1 batch and its sync-log entries.
 * Handlers read D1 and do the compare-and-set user/account writes; everything else lands in the batch.
 */
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../db/client";
import type { DestinationSettings, pendingLinks, SourceSettings } from "../db/schema";
import type { AccountRow } from "../graph/accounts";
import type { LinkRow } from "../graph/links";
import type { UserRow } from "../graph/users";
import type { SyncLogEntry } from "../lib/sync-log";
import type { InboundNotification } from "./inbound-message";

export type Statement = BatchItem<"sqlite">;

/** Where a notification came from: a webhook, the reconciliation sweep's REST reads, or an import's. */
export type Origin = "webhook" | "sweep" | "import";

/** A notification as the source processes it, whatever its origin (REST items carry Unix-second times). */
export type SourceNotification = Pick<InboundNotification, "id" | "topic" | "created_at" | "item">;

/** The parts of a connection the source reads. */
export interface SourceConnection {
  id: string;
  workspaceId: string;
  appId: string;
  source: SourceSettings;
  destination: DestinationSettings;
}

export interface Work {
  statements: Statement[];
  entries: SyncLogEntry[];
  /** CDP users that got their first link to an Intercom contact in this batch (the destination may owe them work). */
  linkedUsers?: number[];
}

/** The fields of a sync-log entry that a handler decides; the rest come from the context. */
export type EntryFields = Pick<SyncLogEntry, "outcome" | "objectType"> &
  Partial<Pick<SyncLogEntry, "objectId" | "intercomId" | "email" | "detail">>;

export interface HandlerContext {
  db: Database;
  connection: SourceConnection;
  notification: SourceNotification;
  origin: Origin;
  /** Unix ms of this processing, for every row it writes. */
  now: number;
  /** A sync-log entry of this notification (direction `in`, action = topic). */
  entry(fields: EntryFields): SyncLogEntry;
  /** Erasure hooks (README, Privacy); absent where they are not wired (tests of the pure source). */
  privacy?: SourcePrivacy;
  /** What the queue batch read in bulk (src/source/reads.ts); absent: every read goes to D1. */
  reads?: BatchReads;
}

/** What a queue batch read in bulk before deciding (src/source/reads.ts); a key present with null is known absent. */
export interface BatchReads {
  /** By `${objectType}:${intercomId}`. */
  links: Map<string, LinkRow | null>;
  users: Map<number, UserRow | null>;
  accounts: Map<number, AccountRow | null>;
  /** By echo key: whether the connector triggered the event itself. */
  ownEvents: Map<string, boolean>;
  /** Pending relationships by Intercom contact id, and by Intercom company id. */
  pendingOfContact: Map<string, Array<typeof pendingLinks.$inferSelect>>;
  pendingOfCompany: Map<string, Array<typeof pendingLinks.$inferSelect>>;
  /** By `u:${user_id}` and `e:${email}`: the users of the workspace that hold that id. */
  identities: Map<string, UserRow[]>;
}

/** What the source needs of the privacy module, wired by the consumer (it holds the keys and the queues). */
export interface SourcePrivacy {
  /** Starts erasing a CDP person, nothing sent back to this connection; returns the erasure's id. */
  erasePerson(person: { userId: string | null; email: string | null }): Promise<string>;
  /** The digest of the erased person whose Intercom contact this was (a tombstone), else null. */
  erasedContact(intercomContactId: string): Promise<string | null>;
}

/** No work at all. */
export function nothing(): Work {
  return { statements: [], entries: [] };
}

/** Work of just one entry. */
export function only(entry: SyncLogEntry): Work {
  return { statements: [], entries: [entry] };
}

/** Several pieces of work as one, in order. */
export function combine(...parts: Array<Pick<Work, "statements" | "entries" | "linkedUsers">>): Work {
  return {
    statements: parts.flatMap((part) => part.statements),
    entries: parts.flatMap((part) => part.entries),
    linkedUsers: parts.flatMap((part) => part.linkedUsers ?? []),
  };
}

/** The context of one notification's processing. */
export function handlerContext(
  db: Database,
  connection: SourceConnection,
  notification: SourceNotification,
  origin: Origin,
  now: number,
  privacy?: SourcePrivacy,
  reads?: BatchReads,
): HandlerContext {
  return {
    db,
    connection,
    notification,
    origin,
    now,
    ...(privacy ? { privacy } : {}),
    ...(reads ? { reads } : {}),
    entry: (fields) => ({
      connectionId: connection.id,
      workspaceId: connection.workspaceId,
      direction: "in",
      action: notification.topic,
      ...fields,
      detail: origin !== "webhook" && fields.detail ? `${fields.detail} [${origin}]` : (fields.detail ?? null),
      // An import writes thousands of outcomes: counted per window; its failures keep their rows.
      ...(origin === "import" ? { counted: true } : {}),
    }),
  };
}

/** The result of capturing one Intercom object (contact or company). */
export interface Capture {
  /** The CDP row the Intercom object is linked to after the batch; null when it was skipped. */
  localPk: number | null;
  /** The CDP id for logs (`user_id`, `account_id`), else null. */
  localId: string | null;
  statements: Statement[];
  entries: SyncLogEntry[];
  /** The Intercom object was linked to `localPk` by this capture (it had no link before). */
  linkedNow?: boolean;
}

/** What a capture did, for the log: ids and attribute paths only, never values. */
export function describeWrite(write: { before: unknown; changed: boolean }, paths: string[]): string {
  if (write.before === null) return "created from Intercom";
  if (!write.changed)
    return paths.length > 0 ? `no change in the CDP (Intercom changed ${paths.join(", ")})` : "linked";
  return paths.length > 0 ? `updated ${paths.join(", ")}` : "updated";
}
