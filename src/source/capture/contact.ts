/**
 * An Intercom contact into the CDP: the linked user (or the one its ids name, or a new one) gets what Intercom
 * changed since the link's remote state, and the link records Intercom's values. Our own writes' echoes change
 * nothing; an item older than the state already applied is `stale`. Relationships that waited for the contact are
 * then settled.
 */
import { deleteLinkByIntercomId, linkByLocal, upsertLink } from "../../graph/links";
import {
  findEmailOnlyUser,
  findUser,
  getUser,
  type UserPatch,
  type UserRow,
  type UserWrite,
  updateUser,
  writeUser,
} from "../../graph/users";
import { parseIntercomTime } from "../../intercom/times";
import { ContactItem } from "../../intercom/webhook-items";
import type { SyncLogEntry } from "../../lib/sync-log";
import { changedSince, ECHO_DETAIL, isOlderThan, olderItemOutcome } from "../echo";
import { applyPendingOfContact } from "../pending-links";
import { readFindUser, readLink, readUser } from "../reads";
import { type Capture, combine, describeWrite, type HandlerContext, type Statement, type Work } from "../work";
import { importedCompanyIds, importMemberships } from "./import-memberships";
import { contactIdentity, contactRemoteState, contactUserPatch, hasIdentity } from "./mapping";

/** `contact.*` created/updated/signed-up/email topics (the caller checked `create_users_from_contacts`). */
export async function handleContact(ctx: HandlerContext): Promise<Work> {
  const contact = ContactItem.parse(ctx.notification.item);
  const capture = await captureContact(ctx, contact);
  const linkedUsers = capture.linkedNow && capture.localPk !== null ? [capture.localPk] : [];
  const settled =
    capture.localPk === null
      ? capture
      : combine({ ...capture, linkedUsers }, await applyPendingOfContact(ctx, contact.id, capture.localPk));
  const companyIds = importedCompanyIds(ctx);
  if (companyIds === null) return settled;
  // An imported contact carries its memberships (one message, not one per membership): summed up in its own entry.
  const memberships = await importMemberships(ctx, contact, capture.localPk, companyIds);
  const [entry, ...others] = settled.entries;
  return {
    ...combine(settled, memberships),
    entries: entry ? [{ ...entry, detail: `${entry.detail ?? ""}; ${memberships.summary}` }, ...others] : others,
  };
}

export interface CaptureContactOptions {
  /**
   * The user this contact is known to be although it has no link yet (the survivor of a merge inherits the link of
   * the contact merged into it). The caller removes the old link in the same batch.
   */
  assumedUserPk?: number;
}

/** Captures a contact as a CDP user (the caller checked `create_users_from_contacts`). */
export async function captureContact(
  ctx: HandlerContext,
  item: ContactItem,
  options: CaptureContactOptions = {},
): Promise<Capture> {
  const { db, connection } = ctx;
  const workspaceId = connection.workspaceId;
  const identity = contactIdentity(item);
  const logged = { objectType: "user", intercomId: item.id, email: identity.email } as const;
  const updatedAt = parseIntercomTime(item.updated_at);

  const link = await readLink(ctx, "contact", item.id);
  const linked = link ? await readUser(ctx, link.localPk) : null;
  if (link && linked && updatedAt && isOlderThan(updatedAt, link.remoteUpdatedAt)) {
    const older = olderItemOutcome(
      contactRemoteState(item, connection.destination.mappings.contact),
      link.remoteState,
      "contact",
    );
    return skipped(linked, ctx.entry({ ...logged, ...older, objectId: linked.userId }));
  }
  const target =
    linked ?? (options.assumedUserPk === undefined ? null : await getUser(db, workspaceId, options.assumedUserPk));

  const mappings = connection.destination.mappings.contact;
  const incoming = contactRemoteState(item, mappings);
  const changes = changedSince(incoming, link && linked ? link.remoteState : {});
  const patch = contactUserPatch(changes, item, mappings);
  // A link whose user is gone is dropped, so the contact can be linked afresh.
  const statements: Statement[] =
    link && !linked ? [deleteLinkByIntercomId(db, connection.id, "contact", item.id)] : [];

  let write: UserWrite | null;
  if (target) {
    const safe = await withoutTakenIds(ctx, target, patch);
    // A user that has a `user_id` keeps it, whatever Intercom's `external_id` says: the CDP owns its ids.
    write = await updateUser(db, workspaceId, target.pk, safe, { now: ctx.now });
  } else {
    if (!hasIdentity(identity)) {
      return skipped(
        null,
        ctx.entry({ ...logged, outcome: "skipped", detail: "the contact has neither a user external_id nor an email" }),
      );
    }
    const candidate = await readFindUser(ctx, identity);
    if (candidate) {
      const other = await linkByLocal(db, connection.id, "contact", candidate.pk);
      if (other && other.intercomId !== item.id) {
        // Only the CDP's own id is proof enough to move a link; an email shared by a lead and a user is not.
        if (!identity.userId || candidate.userId !== identity.userId) {
          return skipped(
            null,
            ctx.entry({
              ...logged,
              outcome: "skipped",
              objectId: candidate.userId,
              detail: `matches a CDP user already linked to Intercom contact ${other.intercomId}`,
            }),
          );
        }
        statements.push(deleteLinkByIntercomId(db, connection.id, "contact", other.intercomId));
      }
    }
    write = await writeUser(db, workspaceId, identity, patch, { create: true, now: ctx.now });
  }
  if (!write) {
    return skipped(null, ctx.entry({ ...logged, outcome: "skipped", detail: "the linked CDP user no longer exists" }));
  }

  const user = write.user;
  statements.push(
    upsertLink(
      db,
      {
        connectionId: connection.id,
        objectType: "contact",
        localPk: user.pk,
        intercomId: item.id,
        remoteUpdatedAt: updatedAt?.ms ?? null,
        remoteState: incoming,
      },
      ctx.now,
    ),
  );
  const paths = Object.keys(changes);
  const entry =
    link && linked && paths.length === 0 && !write.changed
      ? ctx.entry({ ...logged, outcome: "skipped", objectId: user.userId, detail: ECHO_DETAIL })
      : ctx.entry({ ...logged, outcome: "captured", objectId: user.userId, detail: describeWrite(write, paths) });
  return { localPk: user.pk, localId: user.userId, statements, entries: [entry], linkedNow: !(link && linked) };
}

function skipped(user: UserRow | null, entry: SyncLogEntry): Capture {
  return { localPk: user?.pk ?? null, localId: user?.userId ?? null, statements: [], entries: [entry] };
}

/**
 * Drops ids from a linked user's patch that another CDP user holds (`user_id`, or the email of an email-only user):
 * two people are not merged by a webhook, and the unique indexes would refuse it anyway.
 */
async function withoutTakenIds(ctx: HandlerContext, target: UserRow, patch: UserPatch): Promise<UserPatch> {
  const safe = { ...patch };
  if (safe.userId && target.userId === null) {
    const holder = await findUser(ctx.db, ctx.connection.workspaceId, { userId: safe.userId });
    if (holder && holder.pk !== target.pk) delete safe.userId;
  }
  if (safe.email && safe.email !== target.email && target.userId === null && !safe.userId) {
    const holder = await findEmailOnlyUser(ctx.db, ctx.connection.workspaceId, safe.email);
    if (holder && holder.pk !== target.pk) delete safe.email;
  }
  return safe;
}
