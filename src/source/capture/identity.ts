import { deleteLinkByIntercomId, upsertLink } from "../../graph/links";
import { ContactItem, DeletedItem } from "../../intercom/webhook-items";
import { applyPendingOfContact, deletePendingLinksOfCompany, deletePendingLinksOfContact } from "../pending-links";
import { readAccount, readLink, readUser } from "../reads";
import { combine, type HandlerContext, only, type Statement, type Work } from "../work";
import { captureContact } from "./contact";

/**
 * `contact.merged`: the item is the surviving contact, with `merged_from` when Intercom sends it (not always). The
 * merged-away contact's link is removed; if the survivor had none, the survivor takes over its user. The survivor's
 * attributes are then captured as for any contact update, when `create_users_from_contacts` is on.
 */
export async function handleContactMerged(ctx: HandlerContext): Promise<Work> {
  const { db, connection } = ctx;
  const survivor = ContactItem.parse(ctx.notification.item);
  const fromId = survivor.merged_from?.id;
  const parts: Work[] = [];
  let inheritedPk: number | undefined;

  if (fromId && fromId !== survivor.id) {
    const [fromLink, survivorLink] = await Promise.all([
      readLink(ctx, "contact", fromId),
      readLink(ctx, "contact", survivor.id),
    ]);
    if (fromLink && !survivorLink) inheritedPk = fromLink.localPk;
    const user = fromLink ? await readUser(ctx, fromLink.localPk) : null;
    parts.push({
      statements: [
        deleteLinkByIntercomId(db, connection.id, "contact", fromId),
        deletePendingLinksOfContact(db, connection.id, fromId),
      ],
      entries: [
        ctx.entry({
          outcome: fromLink ? "captured" : "skipped",
          objectType: "user",
          objectId: user?.userId ?? null,
          intercomId: fromId,
          detail: !fromLink
            ? `Intercom contact ${fromId} merged into ${survivor.id}; it was not linked`
            : inheritedPk !== undefined
              ? `Intercom contact ${fromId} merged into ${survivor.id}; the link follows the survivor`
              : `Intercom contact ${fromId} merged into ${survivor.id}, which is linked already; its link was removed`,
        }),
      ],
    });
  }

  if (connection.source.create_users_from_contacts) {
    const capture = await captureContact(
      ctx,
      survivor,
      inheritedPk === undefined ? {} : { assumedUserPk: inheritedPk },
    );
    parts.push(capture);
    if (capture.localPk !== null) parts.push(await applyPendingOfContact(ctx, survivor.id, capture.localPk));
  } else if (inheritedPk !== undefined) {
    // The identity map follows even when attributes are not captured; the remote state is the destination's to fill.
    const link = upsertLink(
      db,
      { connectionId: connection.id, objectType: "contact", localPk: inheritedPk, intercomId: survivor.id },
      ctx.now,
    );
    parts.push({ statements: [link], entries: [] });
  } else if (!fromId) {
    parts.push(
      only(
        ctx.entry({
          outcome: "skipped",
          objectType: "user",
          intercomId: survivor.id,
          detail: "create_users_from_contacts is off",
        }),
      ),
    );
  }
  return combine(...parts);
}

/**
 * `contact.deleted`: unlinks the Intercom contact; the CDP user stays, unless `source.on_contact_deleted` is `erase`:
 * then the CDP person is erased (README, Privacy) and the erasure removes the link, nothing being sent back to Intercom.
 */
export async function handleContactDeleted(ctx: HandlerContext): Promise<Work> {
  const { db, connection } = ctx;
  const item = DeletedItem.parse(ctx.notification.item);
  const link = await readLink(ctx, "contact", item.id);
  const user = link ? await readUser(ctx, link.localPk) : null;
  if (ctx.privacy && connection.source.on_contact_deleted === "erase") {
    // Names no person: the erasure scrubs the rows that did, and this one is written after it began. A redelivery
    // after the erasure started finds the user gone: the erasure already removes the link.
    const erasureId = user ? await ctx.privacy.erasePerson({ userId: user.userId, email: user.email }) : null;
    return only(
      ctx.entry({
        outcome: erasureId ? "captured" : "skipped",
        objectType: "user",
        detail: erasureId
          ? `Intercom contact deleted: the CDP person is being erased (erasure ${erasureId})`
          : "Intercom contact deleted; no CDP person is linked to it (or it is being erased)",
      }),
    );
  }
  const statements: Statement[] = [
    deleteLinkByIntercomId(db, connection.id, "contact", item.id),
    deletePendingLinksOfContact(db, connection.id, item.id),
  ];
  return {
    statements,
    entries: [
      ctx.entry({
        outcome: link ? "captured" : "skipped",
        objectType: "user",
        objectId: user?.userId ?? null,
        intercomId: item.id,
        detail: link
          ? "Intercom contact deleted: unlinked, the CDP user stays"
          : "Intercom contact deleted; it was not linked",
      }),
    ],
  };
}

/** `company.deleted` (also sent when a company's archival completes): unlinks it; the CDP account stays. */
export async function handleCompanyDeleted(ctx: HandlerContext): Promise<Work> {
  const { db, connection } = ctx;
  const item = DeletedItem.parse(ctx.notification.item);
  const link = await readLink(ctx, "company", item.id);
  const account = link ? await readAccount(ctx, link.localPk) : null;
  return {
    statements: [
      deleteLinkByIntercomId(db, connection.id, "company", item.id),
      deletePendingLinksOfCompany(db, connection.id, item.id),
    ],
    entries: [
      ctx.entry({
        outcome: link ? "captured" : "skipped",
        objectType: "account",
        objectId: account?.accountId ?? null,
        intercomId: item.id,
        detail: link
          ? "Intercom company deleted: unlinked, the CDP account stays"
          : "Intercom company deleted; it was not linked",
      }),
    ],
  };
}
