/** Events captured for CDP users. */
import { and, desc, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { events } from "../db/schema";

export type EventRow = typeof events.$inferSelect;

export interface NewEvent {
  workspaceId: string;
  userPk: number;
  connectionId: string | null;
  name: string;
  properties: Record<string, unknown>;
  /** Unix ms. */
  occurredAt: number;
  /** `intercom` for captured events. */
  source: string;
  /** Unique per origin, so a redelivery adds nothing. */
  dedupeKey: string;
}

/** The insert of an event, skipped when its dedupe key exists; to run alone or in a batch. */
export function insertEvent(db: Database, event: NewEvent, now = Date.now()) {
  return db
    .insert(events)
    .values({ ...event, createdAt: now })
    .onConflictDoNothing({ target: events.dedupeKey });
}

/** Where a page of events ends: the next page starts strictly after it (newest first). */
export interface EventPosition {
  occurredAt: number;
  pk: number;
}

/** A user's events, newest first (by occurrence, then insertion), starting after `after` when given. */
export async function eventsOfUser(
  db: Database,
  userPk: number,
  options: { after?: EventPosition | null; limit: number },
): Promise<EventRow[]> {
  const after = options.after;
  // A row-value comparison lets SQLite seek the (user_pk, occurred_at, pk) index to the cursor instead of walking
  // down from the newest event.
  const position = after ? sql`(${events.occurredAt}, ${events.pk}) < (${after.occurredAt}, ${after.pk})` : undefined;
  return db
    .select()
    .from(events)
    .where(and(eq(events.userPk, userPk), position))
    .orderBy(desc(events.occurredAt), desc(events.pk))
    .limit(options.limit);
}

/**
 * The key an Intercom data event is known by on one connection: the same for an event a `trigger_event` action sends
 * and for the `event.created` webhook that echoes it back (Intercom itself de-duplicates on contact, name and time).
 */
export function eventEchoKey(
  connectionId: string,
  intercomContactId: string,
  eventName: string,
  createdAtSeconds: number,
): string {
  return `${connectionId}:${intercomContactId}:${eventName}:${createdAtSeconds}`;
}
