/**
 * Relationships seen in Intercom before both sides are in the CDP (`pending_links`): kept per contact/company pair,
 * newest operation wins, applied when the missing side is captured.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { pendingLinks } from "../db/schema";

export type PendingLinkRow = typeof pendingLinks.$inferSelect;
export type RelationshipOp = "attach" | "detach";

export interface PendingLink {
  connectionId: string;
  intercomContactId: string;
  intercomCompanyId: string;
  companyId: string | null;
  op: RelationshipOp;
  /** Envelope `created_at` of the notification (ms). */
  occurredAt: number;
}

/** Records (or replaces with a newer one) the pending operation of a pair; an older operation changes nothing. */
export function upsertPendingLink(db: Database, link: PendingLink, now: number) {
  return db
    .insert(pendingLinks)
    .values({ ...link, createdAt: now })
    .onConflictDoUpdate({
      target: [pendingLinks.connectionId, pendingLinks.intercomContactId, pendingLinks.intercomCompanyId],
      set: {
        op: sql`excluded.op`,
        occurredAt: sql`excluded.occurred_at`,
        companyId: sql`coalesce(excluded.company_id, ${pendingLinks.companyId})`,
      },
      setWhere: sql`excluded.occurred_at >= ${pendingLinks.occurredAt}`,
    });
}

/** The pending operation of one pair, if any. */
export async function pendingLinkOfPair(
  db: Database,
  connectionId: string,
  intercomContactId: string,
  intercomCompanyId: string,
): Promise<PendingLinkRow | null> {
  const row = await db
    .select()
    .from(pendingLinks)
    .where(
      and(
        eq(pendingLinks.connectionId, connectionId),
        eq(pendingLinks.intercomContactId, intercomContactId),
        eq(pendingLinks.intercomCompanyId, intercomCompanyId),
      ),
    )
    .get();
  return row ?? null;
}

/** Pending operations that involve an Intercom contact. */
export async function pendingLinksOfContact(db: Database, connectionId: string, intercomContactId: string) {
  return db
    .select()
    .from(pendingLinks)
    .where(and(eq(pendingLinks.connectionId, connectionId), eq(pendingLinks.intercomContactId, intercomContactId)));
}

/** Pending operations that involve an Intercom company. */
export async function pendingLinksOfCompany(db: Database, connectionId: string, intercomCompanyId: string) {
  return db
    .select()
    .from(pendingLinks)
    .where(and(eq(pendingLinks.connectionId, connectionId), eq(pendingLinks.intercomCompanyId, intercomCompanyId)));
}

/** Removes one pending operation (it was applied). */
export function deletePendingLink(db: Database, id: number) {
  return db.delete(pendingLinks).where(eq(pendingLinks.id, id));
}

/** Removes the pending operations of an Intercom contact that is gone (deleted, merged away). */
export function deletePendingLinksOfContact(db: Database, connectionId: string, intercomContactId: string) {
  return db
    .delete(pendingLinks)
    .where(and(eq(pendingLinks.connectionId, connectionId), eq(pendingLinks.intercomContactId, intercomContactId)));
}

/** Removes the pending operations of an Intercom company that is gone. */
export function deletePendingLinksOfCompany(db: Database, connectionId: string, intercomCompanyId: string) {
  return db
    .delete(pendingLinks)
    .where(and(eq(pendingLinks.connectionId, connectionId), eq(pendingLinks.intercomCompanyId, intercomCompanyId)));
}
