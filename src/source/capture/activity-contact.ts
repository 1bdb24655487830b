/**
 * The CDP user behind an Intercom contact seen only through its activity (a conversation, a data event), which
 * carries a reference to the contact rather than the contact itself.
 */

import { linkByLocal, upsertLink } from "../../graph/links";
import { type UserRow, writeUser } from "../../graph/users";
import { applyPendingOfContact } from "../pending-links";
import { readFindUser, readLink, readUser } from "../reads";
import { combine, type HandlerContext, nothing, type Work } from "../work";

export interface ContactRef {
  intercomId: string | null;
  /** The CDP `user_id`: a user contact's `external_id` (never a lead's). */
  userId: string | null;
  /** Lower-cased. */
  email: string | null;
}

export type LookupStep = "link" | "user_id" | "email";

export interface ContactUser {
  user: UserRow | null;
  work: Work;
}

/**
 * Finds the user by the steps in `order`; when none matches and `create_users_from_contacts` is on, creates it from
 * the ids it has (so activity that arrives before its contact is not lost: the contact's own notification fills the
 * user in later through the link). `createWithUserId` says whether `ref.userId` is known to be the CDP's id (a user
 * contact's); otherwise a user is created from the email only. A contact found by its ids is linked when neither
 * side is linked yet.
 */
export async function userOfContact(
  ctx: HandlerContext,
  ref: ContactRef,
  order: readonly LookupStep[],
  options: { createWithUserId: boolean },
): Promise<ContactUser> {
  const { db, connection } = ctx;
  const workspaceId = connection.workspaceId;
  for (const step of order) {
    let user: UserRow | null = null;
    if (step === "link" && ref.intercomId) {
      const link = await readLink(ctx, "contact", ref.intercomId);
      user = link ? await readUser(ctx, link.localPk) : null;
      if (user) return { user, work: nothing() };
    }
    if (step === "user_id" && ref.userId) user = await readFindUser(ctx, { userId: ref.userId });
    if (step === "email" && ref.email) user = await readFindUser(ctx, { email: ref.email });
    if (user) return { user, work: await linkIfUnlinked(ctx, ref, user, false) };
  }
  const identity = { userId: options.createWithUserId ? ref.userId : null, email: ref.email };
  if (!connection.source.create_users_from_contacts || !(identity.userId || identity.email))
    return { user: null, work: nothing() };
  const write = await writeUser(db, workspaceId, identity, {}, { create: true, now: ctx.now });
  if (!write) return { user: null, work: nothing() };
  return { user: write.user, work: await linkIfUnlinked(ctx, ref, write.user, write.before === null) };
}

async function linkIfUnlinked(ctx: HandlerContext, ref: ContactRef, user: UserRow, created: boolean): Promise<Work> {
  const entries = created
    ? [
        ctx.entry({
          outcome: "captured",
          objectType: "user",
          objectId: user.userId,
          intercomId: ref.intercomId,
          email: user.email,
          detail: "created from the contact's activity, before the contact itself",
        }),
      ]
    : [];
  if (!ref.intercomId) return { statements: [], entries };
  const { db, connection } = ctx;
  // The contact's link (usually known from the batch's reads) first: the user's link only when it has none.
  if (await readLink(ctx, "contact", ref.intercomId)) return { statements: [], entries };
  if (await linkByLocal(db, connection.id, "contact", user.pk)) return { statements: [], entries };
  // No remote state yet: the contact's own notification records it.
  const link = upsertLink(
    db,
    { connectionId: connection.id, objectType: "contact", localPk: user.pk, intercomId: ref.intercomId },
    ctx.now,
  );
  return combine({ statements: [link], entries }, await applyPendingOfContact(ctx, ref.intercomId, user.pk));
}
