/** Applying pending relationships once their missing side is in the CDP (the store is pending-links.ts). */
import { findAccount } from "../graph/accounts";
import { linkByIntercomId } from "../graph/links";
import { addMembership, removeMembership } from "../graph/memberships";
import { deletePendingLink, type PendingLinkRow, pendingLinksOfCompany, pendingLinksOfContact } from "./pending-links";
import { combine, type HandlerContext, type Statement, type Work } from "./work";

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
  const rows = await pendingLinksOfContact(ctx.db, ctx.connection.id, intercomContactId);
  const parts: Work[] = [];
  for (const row of rows) {
    if (row.intercomCompanyId === exceptCompanyId) continue;
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
  const rows = await pendingLinksOfCompany(ctx.db, ctx.connection.id, intercomCompanyId);
  const parts: Work[] = [];
  for (const row of rows) {
    if (row.intercomContactId === exceptContactId) continue;
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
    statements: [membershipStatement(ctx, row.op, userPk, accountPk), deletePendingLink(ctx.db, row.id)],
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
