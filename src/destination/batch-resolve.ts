/**
 * Batch resolution: when a queue batch carries several users of one connection that are not in the identity map yet,
 * one search (`external_id IN […] OR email IN […]`) resolves them all instead of one search each. Matches go into
 * the identity map with what Intercom holds; users the search does not find are handed to their objects as
 * "checked absent", so they create without searching again (a 409 still catches a contact created meanwhile).
 * Ambiguous users are left alone: their object searches and logs the conflict. Any failure here only means the
 * objects search for themselves.
 */

import { and, eq, inArray } from "drizzle-orm";
import { intercomLinks, users } from "../db/schema";
import type { Env } from "../env";
import { upsertLink } from "../graph/links";
import { IntercomCallError } from "../intercom/errors";
import { contactFields } from "../intercom/fields";
import { searchContactsByIdentities } from "../intercom/gateway";
import type { ContactSummary } from "../intercom/objects";
import type { Lane } from "../intercom/rate-plan";
import { describeError } from "../lib/errors";
import { log } from "../lib/log";
import { loadSyncContext } from "./context";
import type { SyncMessage } from "./outbound-message";
import { chooseContact } from "./plan/match";

/** Intercom allows at most this many values in one `IN` filter group comfortably within a page of results. */
export const MAX_BATCH_IDENTITIES = 50;

/**
 * How long a bulk batch search held back by the rate budget waits for its turn. Giving up costs a search per user
 * (their objects search alone), so it waits: it runs in a queue consumer, where waiting costs no latency anyone sees.
 */
const HELD_BACK_PATIENCE_MS = 120_000;

/** One batch search; a call the connector's own rate budget held back is asked again at its time, within patience. */
async function searchWhenBudgetAllows(
  client: Parameters<typeof searchContactsByIdentities>[0],
  chunk: Parameters<typeof searchContactsByIdentities>[1],
): Promise<Awaited<ReturnType<typeof searchContactsByIdentities>>> {
  const deadline = Date.now() + HELD_BACK_PATIENCE_MS;
  for (;;) {
    try {
      return await searchContactsByIdentities(client, chunk);
    } catch (error) {
      const failure = error instanceof IntercomCallError ? error.failure : null;
      const at = failure?.kind === "rate_limited" && failure.heldBack ? failure.resetAt : null;
      if (at === null || at > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
    }
  }
}

/**
 * Resolves the unlinked users among `messages` (all of one connection) with one search per 50 users, spending
 * `lane`'s rate budget; returns the messages with `absent_checked_at` set on users Intercom does not have.
 */
export async function resolveBatch(
  env: Env,
  connectionId: string,
  messages: SyncMessage[],
  lane: Lane = "realtime",
): Promise<SyncMessage[]> {
  const userPks = [...new Set(messages.filter((m) => m.kind === "user").map((m) => m.local_pk))];
  if (userPks.length < 2) return messages;
  const loaded = await loadSyncContext(env, connectionId, lane);
  if (!loaded.usable) return messages;
  const context = loaded.context;
  const db = context.db;
  const linked = await db
    .select({ localPk: intercomLinks.localPk })
    .from(intercomLinks)
    .where(
      and(
        eq(intercomLinks.connectionId, connectionId),
        eq(intercomLinks.objectType, "contact"),
        inArray(intercomLinks.localPk, userPks),
      ),
    );
  const linkedPks = new Set(linked.map((row) => row.localPk));
  const unlinked = userPks.filter((pk) => !linkedPks.has(pk));
  if (unlinked.length < 2) return messages;
  const rows = await db
    .select({ pk: users.pk, userId: users.userId, email: users.email })
    .from(users)
    .where(and(eq(users.workspaceId, context.connection.workspaceId), inArray(users.pk, unlinked)));

  const absent = new Set<number>();
  const checkedAt = Date.now();
  for (let i = 0; i < rows.length; i += MAX_BATCH_IDENTITIES) {
    const chunk = rows.slice(i, i + MAX_BATCH_IDENTITIES);
    let found: { contacts: ContactSummary[]; complete: boolean };
    try {
      found = await searchWhenBudgetAllows(context.client, chunk);
    } catch (error) {
      log({
        level: "warn",
        msg: "batch resolution failed; objects will search themselves",
        connection_id: connectionId,
        outcome: "skipped",
        error: describeError(error),
      });
      continue;
    }
    for (const user of chunk) {
      const match = chooseContact(found.contacts, { userId: user.userId, email: user.email });
      if (match.kind === "none" && found.complete) absent.add(user.pk);
      if (match.kind !== "found") continue;
      await upsertLink(db, {
        connectionId,
        objectType: "contact",
        localPk: user.pk,
        intercomId: match.contact.id,
        remoteUpdatedAt: match.contact.updated_at ? match.contact.updated_at * 1000 : null,
        remoteState: contactFields(match.contact),
      });
    }
  }
  log({
    msg: "batch resolution",
    connection_id: connectionId,
    outcome: "resolved",
    users: rows.length,
    absent: absent.size,
  });
  return messages.map((message) =>
    message.kind === "user" && absent.has(message.local_pk) ? { ...message, absent_checked_at: checkedAt } : message,
  );
}
