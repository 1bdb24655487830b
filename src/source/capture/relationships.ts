/**
 * `company.contact.attached|detached` → membership. A side not in the CDP yet is captured when its create setting
 * allows; otherwise the operation waits in `pending_links` and is applied when that side is captured.
 */
import { findAccount } from "../../graph/accounts";
import { AttachmentItem, type CompanyItem, type ContactItem } from "../../intercom/webhook-items";
import {
  applyPendingOfCompany,
  applyPendingOfContact,
  deletePendingLink,
  membershipStatement,
  pendingLinkOfPair,
  type RelationshipOp,
  settledDetach,
  upsertPendingLink,
} from "../pending-links";
import { readAccount, readFindUser, readLink, readUser } from "../reads";
import type { Capture } from "../work";
import { combine, type HandlerContext, nothing, type Work } from "../work";
import { captureCompany } from "./company";
import { captureContact } from "./contact";
import { contactIdentity, hasIdentity } from "./mapping";

/** Handles an attach/detach notification (the caller checked `capture_relationships`). */
export async function handleRelationship(ctx: HandlerContext): Promise<Work> {
  const { contact, company } = AttachmentItem.parse(ctx.notification.item);
  const op: RelationshipOp = ctx.notification.topic.endsWith(".detached") ? "detach" : "attach";
  const occurredAt = ctx.notification.created_at * 1000;

  const user = await contactSide(ctx, contact);
  const account = await companySide(ctx, company);
  const known = ctx.reads?.pendingOfContact.get(contact.id);
  const pending = known
    ? (known.find((row) => row.intercomCompanyId === company.id) ?? null)
    : await pendingLinkOfPair(ctx.db, ctx.connection.id, contact.id, company.id);
  // Either side now in the CDP also settles its other waiting relationships.
  const settled = combine(
    user.localPk === null ? nothing() : await applyPendingOfContact(ctx, contact.id, user.localPk, company.id),
    account.localPk === null ? nothing() : await applyPendingOfCompany(ctx, company.id, account.localPk, contact.id),
  );

  if (user.localPk === null || account.localPk === null) {
    const missing = [user.localPk === null ? "contact" : null, account.localPk === null ? "company" : null].filter(
      Boolean,
    );
    const wait = {
      statements: [
        upsertPendingLink(
          ctx.db,
          {
            connectionId: ctx.connection.id,
            intercomContactId: contact.id,
            intercomCompanyId: company.id,
            companyId: company.company_id ?? null,
            op,
            occurredAt,
          },
          ctx.now,
        ),
      ],
      entries: [
        ctx.entry({
          outcome: "pending",
          objectType: "membership",
          objectId: account.localId ?? company.company_id ?? null,
          intercomId: contact.id,
          detail: `${op} waits until the ${missing.join(" and ")} is in the CDP`,
        }),
      ],
    };
    return combine(user, account, wait, settled);
  }

  // Intercom does not order notifications: a newer operation of this pair (waiting, or a settled detach) wins.
  const newer = pending !== null && pending.occurredAt > occurredAt;
  const effective = newer ? pending.op : op;
  // A detach is kept as the pair's settled newest operation; an attach clears what was recorded of the pair.
  const record =
    effective === "detach"
      ? [settledDetach(ctx, contact.id, company.id, newer ? pending.occurredAt : occurredAt)]
      : pending
        ? [deletePendingLink(ctx.db, pending.id)]
        : [];
  const own: Work = {
    statements: [membershipStatement(ctx, effective, user.localPk, account.localPk), ...record],
    entries: [
      ctx.entry({
        outcome: "captured",
        objectType: "membership",
        objectId: account.localId,
        intercomId: contact.id,
        detail: `${effective === "attach" ? "attached" : "detached"} user ${user.localId ?? `(Intercom ${contact.id})`} ${effective === "attach" ? "to" : "from"} account ${account.localId}`,
      }),
    ],
  };
  return combine(user, account, own, settled);
}

/** The user of the attachment's contact: linked, captured (when allowed), or found by its ids. */
async function contactSide(ctx: HandlerContext, contact: ContactItem): Promise<Capture> {
  const { connection } = ctx;
  const link = await readLink(ctx, "contact", contact.id);
  const linked = link ? await readUser(ctx, link.localPk) : null;
  if (linked) return found(linked.pk, linked.userId);
  if (connection.source.create_users_from_contacts) return captureContact(ctx, contact);
  const identity = contactIdentity(contact);
  const user = hasIdentity(identity) ? await readFindUser(ctx, identity) : null;
  return user ? found(user.pk, user.userId) : found(null, null);
}

/** The account of the attachment's company: linked, captured (when allowed), or found by its `company_id`. */
async function companySide(ctx: HandlerContext, company: CompanyItem): Promise<Capture> {
  const { db, connection } = ctx;
  const link = await readLink(ctx, "company", company.id);
  const linked = link ? await readAccount(ctx, link.localPk) : null;
  if (linked) return found(linked.pk, linked.accountId);
  if (connection.source.create_accounts_from_companies) return captureCompany(ctx, company);
  const account = company.company_id ? await findAccount(db, connection.workspaceId, company.company_id) : null;
  return account ? found(account.pk, account.accountId) : found(null, null);
}

function found(localPk: number | null, localId: string | null): Capture {
  return { localPk, localId, statements: [], entries: [] };
}
