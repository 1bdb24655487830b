/** Events captured for CDP users. */
import type { Database } from "../db/client";
import { events } from "../db/schema";

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
