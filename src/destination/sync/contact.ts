/**
 * Syncs one CDP user to its Intercom contact: build the payload, resolve the contact (identity map, else
 * resolve-contact.ts), send only what Intercom is not known to hold, then attach and detach companies to match the
 * user's accounts. Runs inside the user's ContactSync Durable Object, so one user's syncs never overlap. Intercom
 * failures are thrown as `IntercomCallError` for the object to retry or park.
 */
import type { Database } from "../../db/client";
import {
  deleteLinkByIntercomId,
  type LinkRow,
  linkByIntercomId,
  linkByLocal,
  selectLinkByLocal,
  upsertLink,
} from "../../graph/links";
import { selectAccountsOfUser } from "../../graph/memberships";
import { selectUser, type UserRow } from "../../graph/users";
import { IntercomCallError, isContactGone } from "../../intercom/errors";
import { contactFields, type Fields, requestBody } from "../../intercom/fields";
import { attachCompany, detachCompany, updateContact } from "../../intercom/gateway";
import type { SyncContext } from "../context";
import {
  ATTACHED_COMPANIES,
  attachedCompanies,
  companyMoves,
  contactUpdate,
  passesSegmentFilter,
} from "../plan/contact-plan";
import { clearedFields, contactPayload, type Payload } from "../plan/payload";
import { fromLink, type Resolution, resolveContact } from "./resolve-contact";
import { commitWithLog, logOut, type SavedLink, saveLinkStatement, userRef } from "./steps";

export type ContactOutcome =
  /** `changed`: something was sent (a create or changed fields); false when Intercom already held every value. */
  | { kind: "synced"; contactId: string; changed?: boolean }
  | { kind: "skipped"; contactId: string | null; detail: string }
  | { kind: "conflict"; detail: string };

export interface ContactSyncOptions {
  /** Actions need the contact even when the user is outside the segment filter. */
  ignoreFilter?: boolean;
  /** Resolves the Intercom company id of an account (creating the company when allowed), or null. */
  companyIdOf: (accountPk: number) => Promise<string | null>;
  /** A batch search just found no contact for this user: skip the search (a 409 still catches a late arrival). */
  checkedAbsent?: boolean;
}

/** Brings the user's Intercom contact up to date; returns the contact id when there is one. */
export async function syncContact(
  context: SyncContext,
  userPk: number,
  options: ContactSyncOptions,
): Promise<ContactOutcome> {
  const { db, connection } = context;
  const settings = connection.destination;
  const { user, link: storedLink, accounts } = await readUserState(db, connection, userPk);
  if (!user) return skipped(context, null, null, "the user no longer exists");
  const subject = { objectId: userRef(user), email: user.email };
  if (!options.ignoreFilter && !passesSegmentFilter(user.segments, settings.segments)) {
    return skipped(context, user, null, "not in the destination's segments");
  }

  const payload = contactPayload(user, settings.mappings.contact);
  await logWarnings(context, user, payload);
  let link = storedLink;
  for (let round = 0; round < 2; round++) {
    const resolution = link
      ? fromLink(link)
      : await resolveContact(context, user, payload, settings, options.checkedAbsent === true);
    if (resolution.kind !== "resolved") {
      if (resolution.kind === "conflict") {
        await logOut(context, {
          ...subject,
          outcome: "conflict",
          objectType: "contact",
          action: "match",
          detail: resolution.detail,
        });
        return resolution;
      }
      return skipped(context, user, null, resolution.detail);
    }
    try {
      const changed = await writeContact(context, user, accounts, payload, resolution, options);
      return { kind: "synced", contactId: resolution.contactId, changed };
    } catch (error) {
      // The contact was deleted or merged away in Intercom: forget it and resolve again, once.
      if (round === 0 && error instanceof IntercomCallError && isContactGone(error.failure)) {
        link = await forgetGoneContact(context, user, resolution.contactId, error);
        continue;
      }
      throw error;
    }
  }
  return skipped(context, user, null, "the contact could not be resolved");
}

type AccountRef = { pk: number; accountId: string };

/** The user, its contact link and its accounts: one D1 round trip (reads batched). */
async function readUserState(
  db: Database,
  connection: SyncContext["connection"],
  userPk: number,
): Promise<{ user: UserRow | null; link: LinkRow | null; accounts: AccountRef[] }> {
  const [users, links, accounts] = await db.batch([
    selectUser(db, connection.workspaceId, userPk),
    selectLinkByLocal(db, connection.id, "contact", userPk),
    selectAccountsOfUser(db, userPk),
  ]);
  return { user: users[0] ?? null, link: links[0] ?? null, accounts };
}

/**
 * Sends the changed fields and reconciles companies, then records what Intercom now holds; true when the contact was
 * created or changed fields were sent.
 */
async function writeContact(
  context: SyncContext,
  user: UserRow,
  accounts: AccountRef[],
  payload: Payload,
  resolution: Extract<Resolution, { kind: "resolved" }>,
  options: ContactSyncOptions,
): Promise<boolean> {
  const subject = { objectId: userRef(user), email: user.email, intercomId: resolution.contactId };
  let known = resolution.known;
  const changes: Fields =
    resolution.origin === "create" ? {} : contactUpdate(payload.fields, known, { convertLead: resolution.convertLead });
  // clear_removed: a mapped property the CDP no longer has clears what Intercom still holds (README, Privacy).
  const clears =
    resolution.origin !== "create" && context.connection.destination.clear_removed
      ? clearedFields(payload.absent, known)
      : [];
  if (Object.keys(changes).length || clears.length) {
    const updated = await updateContact(context.client, resolution.contactId, requestBody(changes, clears));
    // The clear is recorded as a known null: its echo, and a second removal, then cost nothing.
    const state = { ...contactFields(updated), ...Object.fromEntries(clears.map((path) => [path, null])) };
    known = { ...known, ...state };
    const link: SavedLink = {
      objectType: "contact",
      localPk: user.pk,
      intercomId: updated.id,
      state,
      updatedAt: updated.updated_at,
    };
    await commitWithLog(context, [saveLinkStatement(context, link)], {
      ...subject,
      outcome: "synced",
      objectType: "contact",
      action: "update",
      detail: [
        Object.keys(changes).length ? `sent ${Object.keys(changes).join(", ")}` : null,
        clears.length ? `cleared ${clears.join(", ")}` : null,
      ]
        .filter(Boolean)
        .join("; "),
    });
  } else if (resolution.origin !== "create") {
    const link: SavedLink = {
      objectType: "contact",
      localPk: user.pk,
      intercomId: resolution.contactId,
      state: known,
      updatedAt: null,
    };
    // A link already holds what was matched; a contact found by search gets its link with the no-op's log.
    await commitWithLog(context, resolution.origin === "link" ? [] : [saveLinkStatement(context, link)], {
      ...subject,
      outcome: "noop",
      objectType: "contact",
      action: "update",
      detail: "Intercom already holds these values",
    });
  }
  await reconcileCompanies(context, user, accounts, resolution.contactId, known, options);
  return resolution.origin === "create" || Object.keys(changes).length > 0;
}

/** Attaches the companies of the user's accounts and detaches those this connector attached that no longer apply. */
async function reconcileCompanies(
  context: SyncContext,
  user: UserRow,
  accounts: AccountRef[],
  contactId: string,
  known: Record<string, unknown>,
  options: ContactSyncOptions,
): Promise<void> {
  const wanted = new Map<string, string>();
  const pending: string[] = [];
  for (const account of accounts) {
    const companyId = await options.companyIdOf(account.pk);
    if (companyId) wanted.set(companyId, account.accountId);
    else pending.push(account.accountId);
  }
  const moves = companyMoves(wanted, attachedCompanies(known));
  const attached = new Set(attachedCompanies(known));
  const subject = { objectId: userRef(user), email: user.email, intercomId: contactId };
  for (const [companyId, accountId] of moves.attach) {
    await attachCompany(context.client, contactId, companyId);
    attached.add(companyId);
    await commitWithLog(context, [attachedStatement(context, user.pk, contactId, attached)], {
      ...subject,
      outcome: "synced",
      objectType: "contact",
      action: "attach",
      detail: `attached to company ${accountId}`,
    });
  }
  for (const companyId of moves.detach) {
    try {
      await detachCompany(context.client, contactId, companyId);
    } catch (error) {
      // Already detached in Intercom: the goal is reached.
      if (!(error instanceof IntercomCallError) || error.failure.kind !== "not_found" || isContactGone(error.failure)) {
        throw error;
      }
    }
    attached.delete(companyId);
    await commitWithLog(context, [attachedStatement(context, user.pk, contactId, attached)], {
      ...subject,
      outcome: "synced",
      objectType: "contact",
      action: "detach",
      detail: `detached from company ${companyId}`,
    });
  }
  for (const accountId of pending) {
    await logOut(context, {
      ...subject,
      outcome: "pending",
      objectType: "contact",
      action: "attach",
      detail: `company ${accountId} is not in Intercom yet; attached once it is`,
    });
  }
}

function attachedStatement(context: SyncContext, userPk: number, contactId: string, attached: Set<string>) {
  return upsertLink(context.db, {
    connectionId: context.connection.id,
    objectType: "contact",
    localPk: userPk,
    intercomId: contactId,
    remoteState: { [ATTACHED_COMPANIES]: [...attached].sort() },
  });
}

async function logWarnings(context: SyncContext, user: UserRow, payload: Payload): Promise<void> {
  for (const warning of payload.warnings) {
    await logOut(context, {
      objectId: userRef(user),
      email: user.email,
      outcome: "skipped",
      objectType: "field",
      action: warning.path,
      detail: `field ${warning.path} not sent: property "${warning.from}" is ${warning.reason}`,
    });
  }
}

async function skipped(
  context: SyncContext,
  user: UserRow | null,
  contactId: string | null,
  detail: string,
): Promise<ContactOutcome> {
  await logOut(context, {
    objectId: user ? userRef(user) : null,
    email: user?.email ?? null,
    intercomId: contactId,
    outcome: "skipped",
    objectType: "contact",
    action: "sync",
    detail,
  });
  return { kind: "skipped", contactId, detail };
}

/**
 * Drops the link of a contact Intercom says is gone and returns the user's new link: the survivor a 410's `Link` names
 * (with nothing known of its values yet), or none, so the next round resolves the user by search. Also used by
 * actions, whose tag and event calls may be the first to meet the gone contact.
 */
export async function forgetGoneContact(
  context: SyncContext,
  user: Pick<UserRow, "pk" | "userId" | "email">,
  contactId: string,
  error: IntercomCallError,
): Promise<LinkRow | null> {
  const { db, connection } = context;
  await deleteLinkByIntercomId(db, connection.id, "contact", contactId);
  const survivor = error.failure.kind === "gone" ? error.failure.canonicalId : null;
  const taken = survivor ? await linkByIntercomId(db, connection.id, "contact", survivor) : null;
  await logOut(context, {
    objectId: userRef(user),
    email: user.email,
    intercomId: contactId,
    outcome: "skipped",
    objectType: "contact",
    action: error.operation,
    detail:
      survivor && !taken
        ? `the Intercom contact was merged into ${survivor}; following it`
        : "the Intercom contact is gone (deleted or merged); resolving it again",
  });
  if (!survivor || taken) return null;
  await upsertLink(db, { connectionId: connection.id, objectType: "contact", localPk: user.pk, intercomId: survivor });
  return linkByLocal(db, connection.id, "contact", user.pk);
}
