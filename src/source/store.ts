/** The source's own reads and writes of D1 outside the identity graph: connections by app, idempotency, echoes. */
import { eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { actions, connections, processedNotifications } from "../db/schema";

export type ConnectionRow = typeof connections.$inferSelect;

/** The connection of an Intercom workspace (webhook `app_id`), if any. */
export async function connectionOfApp(db: Database, appId: string): Promise<ConnectionRow | null> {
  const row = await db.select().from(connections).where(eq(connections.appId, appId)).get();
  return row ?? null;
}

/** The idempotency key of a notification: Intercom ids are unique per app. */
export function notificationKey(appId: string, notificationId: string): string {
  return `${appId}:${notificationId}`;
}

/** Whether a notification was processed already. */
export async function isProcessed(db: Database, key: string): Promise<boolean> {
  const row = await db
    .select({ key: processedNotifications.key })
    .from(processedNotifications)
    .where(eq(processedNotifications.key, key))
    .get();
  return row !== undefined;
}

/**
 * Marks a notification processed: a plain insert, so that in a batch a racing duplicate fails the whole batch (and
 * its retry then sees `duplicate`) instead of applying twice.
 */
export function markProcessed(db: Database, key: string, now: number) {
  return db.insert(processedNotifications).values({ key, processedAt: now });
}

/** The echo key of an event the connector triggered in Intercom (set by trigger_event actions). */
export function eventEchoKey(
  connectionId: string,
  intercomContactId: string,
  eventName: string,
  createdAtSeconds: number,
): string {
  return `${connectionId}:${intercomContactId}:${eventName}:${createdAtSeconds}`;
}

/** Whether an action of ours triggered the event with this echo key. */
export async function isOwnEvent(db: Database, echoKey: string): Promise<boolean> {
  const row = await db.select({ id: actions.id }).from(actions).where(eq(actions.echoKey, echoKey)).get();
  return row !== undefined;
}
