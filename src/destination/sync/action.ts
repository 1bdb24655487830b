/**
 * Executes one CDP action on the user's Intercom contact (add_tag, remove_tag, trigger_event), inside the contact's
 * Durable Object so it runs in order with that contact's syncs and other actions. An action runs to `done` once:
 * its row is the record, tags are idempotent in Intercom, and a triggered event keeps the `created_at` fixed when
 * the action was accepted, on which Intercom de-duplicates.
 */
import { and, asc, eq, sql } from "drizzle-orm";
import type { IntercomClient } from "intercom-client";
import type { Database } from "../../db/client";
import { actions, tagCache } from "../../db/schema";
import { eventEchoKey } from "../../graph/events";
import { IntercomCallError, isContactGone } from "../../intercom/errors";
import { createEvent, createOrGetTag, listTags, tagContact, untagContact } from "../../intercom/gateway";
import type { SyncContext } from "../context";
import { logOut } from "./steps";

export type ActionRow = typeof actions.$inferSelect;

/**
 * The user's queued actions on this connection, oldest first: the order they were accepted in, whatever order their
 * queue messages arrived in (queues do not keep order).
 */
export async function queuedActions(db: Database, connectionId: string, userPk: number): Promise<string[]> {
  const rows = await db
    .select({ id: actions.id })
    .from(actions)
    .where(and(eq(actions.connectionId, connectionId), eq(actions.userPk, userPk), eq(actions.status, "queued")))
    .orderBy(asc(actions.acceptedAt), sql`rowid`);
  return rows.map((row) => row.id);
}

/** Loads an action that still has to run (status `queued`), counting this attempt. */
export async function startAction(db: Database, actionId: string): Promise<ActionRow | null> {
  const [row] = await db
    .update(actions)
    .set({ attempts: sql`${actions.attempts} + 1`, updatedAt: Date.now() })
    .where(and(eq(actions.id, actionId), eq(actions.status, "queued")))
    .returning();
  return row ?? null;
}

/** Marks an action finished and writes its sync-log row. */
export async function finishAction(
  context: Pick<SyncContext, "db" | "connection">,
  action: ActionRow,
  result: {
    status: "done" | "failed";
    detail: string;
    intercomId?: string | null;
    subject: { objectId: string | null; email: string | null };
  },
): Promise<void> {
  await context.db
    .update(actions)
    .set({ status: result.status, detail: result.detail, updatedAt: Date.now() })
    .where(eq(actions.id, action.id));
  await logOut(context, {
    ...result.subject,
    intercomId: result.intercomId ?? null,
    outcome: result.status === "done" ? "synced" : "failed",
    objectType: "action",
    action: action.type,
    detail: `${action.id}: ${result.detail}`,
  });
}

/** Runs the action against contact `contactId`; returns what happened (Intercom failures are thrown). */
export async function executeAction(context: SyncContext, action: ActionRow, contactId: string): Promise<string> {
  const payload = action.payload as {
    tag?: string;
    event?: { name: string; metadata?: Record<string, unknown>; occurred_at?: string };
  };
  switch (action.type) {
    case "add_tag": {
      const tag = payload.tag!;
      await withTag(context, tag, true, (tagId) => tagContact(context.client, contactId, tagId));
      return `tagged "${tag}"`;
    }
    case "remove_tag": {
      const tag = payload.tag!;
      const removed = await withTag(context, tag, false, async (tagId) => {
        try {
          await untagContact(context.client, contactId, tagId);
          return true;
        } catch (error) {
          if (
            error instanceof IntercomCallError &&
            error.failure.kind === "not_found" &&
            !isContactGone(error.failure)
          ) {
            return false;
          }
          throw error;
        }
      });
      return removed ? `untagged "${tag}"` : `the contact does not have tag "${tag}"; nothing to remove`;
    }
    case "trigger_event": {
      const event = payload.event!;
      const createdAt = Math.floor((event.occurred_at ? Date.parse(event.occurred_at) : action.acceptedAt) / 1000);
      const echoKey = eventEchoKey(context.connection.id, contactId, event.name, createdAt);
      // Recorded before the call so the `event.created` webhook it causes is recognised as our own.
      await context.db.update(actions).set({ echoKey }).where(eq(actions.id, action.id));
      await createEvent(context.client, { contactId, name: event.name, createdAt, metadata: event.metadata });
      return `event "${event.name}" sent with created_at ${createdAt}`;
    }
  }
}

/**
 * Runs `use` with the tag's id (cached per connection). A cached id that Intercom no longer knows is looked up
 * again once. With `create` false a tag missing in Intercom means there is nothing to do (`use` is not called).
 */
async function withTag<T>(
  context: SyncContext,
  name: string,
  create: boolean,
  use: (tagId: string) => Promise<T>,
): Promise<T | false> {
  for (let round = 0; round < 2; round++) {
    const tagId = await tagIdOf(context, name, create, round === 0);
    if (!tagId) return false;
    try {
      return await use(tagId);
    } catch (error) {
      if (
        round === 0 &&
        error instanceof IntercomCallError &&
        error.failure.kind === "not_found" &&
        /resource/i.test(error.failure.message)
      ) {
        await forgetTag(context.db, context.connection.id, name);
        continue;
      }
      throw error;
    }
  }
  return false;
}

async function tagIdOf(context: SyncContext, name: string, create: boolean, useCache: boolean): Promise<string | null> {
  const key = name.toLowerCase();
  const { db, connection, client } = context;
  if (useCache) {
    const cached = await db
      .select({ tagId: tagCache.tagId })
      .from(tagCache)
      .where(and(eq(tagCache.connectionId, connection.id), eq(tagCache.name, key)))
      .get();
    if (cached) return cached.tagId;
  }
  const tag = create ? await createOrGetTag(client, name) : await findTag(client, name);
  if (!tag) return null;
  await db
    .insert(tagCache)
    .values({ connectionId: connection.id, name: key, tagId: tag.id })
    .onConflictDoUpdate({ target: [tagCache.connectionId, tagCache.name], set: { tagId: tag.id } });
  return tag.id;
}

async function findTag(client: IntercomClient, name: string): Promise<{ id: string } | null> {
  const tags = await listTags(client);
  return tags.find((tag) => tag.name.toLowerCase() === name.toLowerCase()) ?? null;
}

async function forgetTag(db: Database, connectionId: string, name: string): Promise<void> {
  await db.delete(tagCache).where(and(eq(tagCache.connectionId, connectionId), eq(tagCache.name, name.toLowerCase())));
}
