/**
 * The memberships an import read with a contact (README, "Import"): they come in the contact's own INBOUND message
 * (one message per contact, not one per membership) and land in its batch.
 */
import { linksByIntercomIds } from "../../graph/links";
import type { ContactItem } from "../../intercom/webhook-items";
import { deletePendingLink, membershipStatement, pendingLinksOfContact, upsertPendingLink } from "../pending-links";
import type { HandlerContext, Statement, Work } from "../work";

/** Field of an imported contact's item that lists its Intercom company ids (set by the import, src/source/import). */
export const IMPORT_COMPANIES_FIELD = "import_company_ids";

/** The company ids an import message carries for its contact; null for any other message. */
export function importedCompanyIds(ctx: HandlerContext): string[] | null {
  if (ctx.origin !== "import") return null;
  const ids = ctx.notification.item[IMPORT_COMPANIES_FIELD];
  return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === "string") : null;
}

/**
 * The memberships an import read from a contact, as of the contact's `updated_at`: attached when the company is
 * linked, else waiting in `pending_links`. A pending operation of the pair newer than that state wins, a detach
 * already applied included (the contact's own pending ones are applied by its handler). Two reads for the whole list, whatever its length (the import caps it).
 */
export async function importMemberships(
  ctx: HandlerContext,
  contact: ContactItem,
  userPk: number | null,
  companyIds: readonly string[],
): Promise<Work & { summary: string }> {
  const occurredAt = ctx.notification.created_at * 1000;
  const pending = await pendingLinksOfContact(ctx.db, ctx.connection.id, contact.id);
  const newer = new Set(pending.filter((row) => row.occurredAt > occurredAt).map((row) => row.intercomCompanyId));
  // A detach settled before this contact's state is undone by the attach below: its record goes with it.
  const settledBefore = new Map(
    pending.filter((row) => row.settled && row.occurredAt <= occurredAt).map((row) => [row.intercomCompanyId, row.id]),
  );
  const links =
    userPk === null ? new Map() : await linksByIntercomIds(ctx.db, ctx.connection.id, "company", companyIds);
  const statements: Statement[] = [];
  let attached = 0;
  let waiting = 0;
  for (const companyId of companyIds) {
    if (newer.has(companyId)) continue;
    const link = links.get(companyId);
    if (userPk !== null && link) {
      statements.push(membershipStatement(ctx, "attach", userPk, link.localPk));
      const settled = settledBefore.get(companyId);
      if (settled !== undefined) statements.push(deletePendingLink(ctx.db, settled));
      attached++;
      continue;
    }
    const op = {
      connectionId: ctx.connection.id,
      intercomContactId: contact.id,
      intercomCompanyId: companyId,
      companyId: null,
      op: "attach" as const,
      occurredAt,
    };
    statements.push(upsertPendingLink(ctx.db, op, ctx.now));
    waiting++;
  }
  const later = companyIds.length - attached - waiting;
  const summary =
    `memberships: ${attached} attached, ${waiting} waiting for their ${userPk === null ? "contact" : "company"}` +
    (later > 0 ? `, ${later} left to a newer change` : "");
  return { statements, entries: [], summary };
}
