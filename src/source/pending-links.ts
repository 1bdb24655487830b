/**
 * Relationships seen in Intercom before both sides are in the CDP (`pending_links`): kept per contact/company pair,
 * newest operation wins, applied as membership changes when the missing side is captured; an applied detach stays as
 * a settled record of the pair's newest operation. Every statement on the table is here.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { pendingLinks } from "../db/schema";
import { findAccount } from "../graph/accounts";
import { linkByIntercomId } from "../graph/links";
import { addMembership, removeMembership } from "../graph/memberships";
import { combine, type HandlerContext, type Statement, type Work } from "./work";

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
  /** A detach already applied, kept as the pair's newest operation (see `settledDetach`). */
  settled?: boolean;
}

/** Records (or replaces with a newer one) the pending operation of a pair; an older operation changes nothing. */
export function upsertPendingLink(db: Database, link: PendingLink, now: number) {
  return db
    .insert(pendingLinks)
    .values({ ...link, settled: link.settled ?? false, createdAt: now })
    .onConflictDoUpdate({
      target: [pendingLinks.connectionId, pendingLinks.intercomContactId, pendingLinks.intercomCompanyId],
      set: {
        op: sql`excluded.op`,
        occurredAt: sql`excluded.occurred_at`,
        settled: sql`excluded.settled`,
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

/**
 * Records a detach applied to the memberships as the pair's newest operation, settled: nothing applies it again, but
 * an older attach (an import's item read before the detach, a webhook Intercom delivers late) sees it and changes
 * nothing. It lasts as long as a pending operation (the housekeeping TTL); an attach newer than it removes it.
 */
export function settledDetach(
  ctx: HandlerContext,
  intercomContactId: string,
  intercomCompanyId: string,
  occurredAt: number,
) {
  return upsertPendingLink(
    ctx.db,
    {
      connectionId: ctx.connection.id,
      intercomContactId,
      intercomCompanyId,
      companyId: null,
      op: "detach",
      occurredAt,
      settled: true,
    },
    ctx.now,
  );
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

// Applying them

/**
 * Applies the pending relationships of a contact now known as user `userPk`, for every company that is in the CDP
 * (linked, or named by its `company_id`). `exceptCompanyId` is the pair the caller applies itself.
 */
export async function applyPendingOfContact(
  ctx: HandlerContext,
  intercomContactId: string,
  userPk: number,
  exceptCompanyId?: string,
): Promise<Work> {
  const rows =
    ctx.reads?.pendingOfContact.get(intercomContactId) ??
    (await pendingLinksOfContact(ctx.db, ctx.connection.id, intercomContactId));
  const parts: Work[] = [];
  for (const row of rows) {
    if (row.settled || row.intercomCompanyId === exceptCompanyId) continue;
    const accountPk = await accountOfPending(ctx, row);
    if (accountPk !== null) parts.push(applied(ctx, row, userPk, accountPk));
  }
  return combine(...parts);
}

/** Applies the pending relationships of a company now known as account `accountPk`, for every linked contact. */
export async function applyPendingOfCompany(
  ctx: HandlerContext,
  intercomCompanyId: string,
  accountPk: number,
  exceptContactId?: string,
): Promise<Work> {
  const rows =
    ctx.reads?.pendingOfCompany.get(intercomCompanyId) ??
    (await pendingLinksOfCompany(ctx.db, ctx.connection.id, intercomCompanyId));
  const parts: Work[] = [];
  for (const row of rows) {
    if (row.settled || row.intercomContactId === exceptContactId) continue;
    const link = await linkByIntercomId(ctx.db, ctx.connection.id, "contact", row.intercomContactId);
    if (link) parts.push(applied(ctx, row, link.localPk, accountPk));
  }
  return combine(...parts);
}

/** The membership statement of a relationship operation. */
export function membershipStatement(
  ctx: HandlerContext,
  op: PendingLinkRow["op"],
  userPk: number,
  accountPk: number,
): Statement {
  return op === "attach"
    ? addMembership(ctx.db, ctx.connection.workspaceId, userPk, accountPk, ctx.now)
    : removeMembership(ctx.db, userPk, accountPk);
}

async function accountOfPending(ctx: HandlerContext, row: PendingLinkRow): Promise<number | null> {
  const link = await linkByIntercomId(ctx.db, ctx.connection.id, "company", row.intercomCompanyId);
  if (link) return link.localPk;
  if (!row.companyId) return null;
  return (await findAccount(ctx.db, ctx.connection.workspaceId, row.companyId))?.pk ?? null;
}

function applied(ctx: HandlerContext, row: PendingLinkRow, userPk: number, accountPk: number): Work {
  return {
    statements: [
      membershipStatement(ctx, row.op, userPk, accountPk),
      row.op === "detach"
        ? settledDetach(ctx, row.intercomContactId, row.intercomCompanyId, row.occurredAt)
        : deletePendingLink(ctx.db, row.id),
    ],
    entries: [
      ctx.entry({
        outcome: "captured",
        objectType: "membership",
        objectId: row.companyId,
        intercomId: row.intercomContactId,
        detail: `pending ${row.op} of Intercom contact ${row.intercomContactId} and company ${row.intercomCompanyId} applied`,
      }),
    ],
  };
}
