/**
 * Syncs one CDP user to its Intercom contact: build the payload, resolve the contact (identity map, else one search
 * by external_id OR email, else create when allowed), send only what Intercom is not known to hold, then attach and
 * detach companies to match the user's accounts. Runs inside the user's ContactSync Durable Object, so one user's
 * syncs never overlap. Intercom failures are thrown as `StepFailure` for the object to retry or park.
 */
import type { DestinationSettings } from "../../db/schema";
import { deleteLinkByIntercomId, type LinkRow, linkByLocal, upsertLink } from "../../graph/links";
import { accountsOfUser } from "../../graph/memberships";
import { getUser, type UserRow } from "../../graph/users";
import { contactFields, type Fields, requestBody } from "../../intercom/fields";
import {
  attachCompany,
  createContact,
  detachCompany,
  searchContactsByIdentity,
  updateContact,
} from "../../intercom/gateway";
import type { SyncContext } from "../context";
import { passesSegmentFilter } from "../plan/filter";
import { chooseContact } from "../plan/match";
import { changedFields, contactPayload, type Payload } from "../plan/payload";
import { call, logOut, StepFailure, saveLink } from "./steps";

/** The key of `remote_state` listing the Intercom company ids this connector attached to the contact. */
export const ATTACHED_COMPANIES = "companies";

export type ContactOutcome =
  | { kind: "synced"; contactId: string }
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
  const user = await getUser(db, connection.workspaceId, userPk);
  if (!user) return skipped(context, null, null, "the user no longer exists");
  const subject = { objectId: userRef(user), email: user.email };
  if (!options.ignoreFilter && !passesSegmentFilter(user.segments, settings.segments)) {
    return skipped(context, user, null, "not in the destination's segments");
  }

  const payload = contactPayload(user, settings.mappings.contact);
  await logWarnings(context, user, payload);
  let link = await linkByLocal(db, connection.id, "contact", user.pk);
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
      await writeContact(context, user, payload, resolution, options);
      return { kind: "synced", contactId: resolution.contactId };
    } catch (error) {
      // The linked contact was deleted or merged away in Intercom: forget the link and resolve again, once.
      if (round === 0 && link && error instanceof StepFailure && isGoneContact(error)) {
        await deleteLinkByIntercomId(db, connection.id, "contact", link.intercomId);
        await logOut(context, {
          ...subject,
          intercomId: link.intercomId,
          outcome: "skipped",
          objectType: "contact",
          action: error.action,
          detail: "the linked Intercom contact is gone; resolving it again",
        });
        link = null;
        continue;
      }
      throw error;
    }
  }
  return skipped(context, user, null, "the contact could not be resolved");
}

type Resolution =
  | {
      kind: "resolved";
      contactId: string;
      /** What Intercom is known to hold for the synced fields. */
      known: Record<string, unknown>;
      /** `link`: from the identity map; `search`, `create`, `conflict`: found just now (to be recorded). */
      origin: "link" | "search" | "create" | "conflict";
      convertLead: boolean;
    }
  | { kind: "skipped"; detail: string }
  | { kind: "conflict"; detail: string };

function fromLink(link: LinkRow): Resolution {
  return { kind: "resolved", contactId: link.intercomId, known: link.remoteState, origin: "link", convertLead: false };
}

/** One search by external_id OR email, the precedence rules, then a create when allowed (a 409 names the contact). */
async function resolveContact(
  context: SyncContext,
  user: UserRow,
  payload: Payload,
  settings: DestinationSettings,
  checkedAbsent: boolean,
): Promise<Resolution> {
  const identity = { userId: user.userId, email: user.email };
  const candidates = checkedAbsent
    ? []
    : await call("search", () => searchContactsByIdentity(context.client, identity));
  const match = chooseContact(candidates, identity);
  if (match.kind === "ambiguous") {
    return {
      kind: "conflict",
      detail: `several Intercom contacts match by ${match.via.replace("_", " ")} (${match.ids.join(", ")}); not synced until one remains`,
    };
  }
  if (match.kind === "found") {
    return {
      kind: "resolved",
      contactId: match.contact.id,
      known: contactFields(match.contact),
      origin: "search",
      convertLead: match.via === "email_lead" && user.userId !== null,
    };
  }
  if (!settings.allow_create) return { kind: "skipped", detail: "not in Intercom; creation is off" };
  try {
    const created = await call("create", () =>
      createContact(context.client, { role: "user", ...requestBody(payload.fields) }),
    );
    await saveLink(context, {
      objectType: "contact",
      localPk: user.pk,
      intercomId: created.id,
      state: contactFields(created),
      updatedAt: created.updated_at,
    });
    await logOut(context, {
      objectId: userRef(user),
      email: user.email,
      intercomId: created.id,
      outcome: "synced",
      objectType: "contact",
      action: "create",
      detail: `created with ${Object.keys(payload.fields).join(", ")}`,
    });
    return {
      kind: "resolved",
      contactId: created.id,
      known: contactFields(created),
      origin: "create",
      convertLead: false,
    };
  } catch (error) {
    if (!(error instanceof StepFailure) || error.failure.kind !== "conflict") throw error;
    const failure = error.failure;
    if (failure.archived || !failure.existingId) {
      return { kind: "conflict", detail: `Intercom refused the create: ${failure.message}` };
    }
    // A contact Intercom's search did not show yet (search lags behind writes): update the one the 409 names.
    return { kind: "resolved", contactId: failure.existingId, known: {}, origin: "conflict", convertLead: false };
  }
}

/** Sends the changed fields and reconciles companies, then records what Intercom now holds. */
async function writeContact(
  context: SyncContext,
  user: UserRow,
  payload: Payload,
  resolution: Extract<Resolution, { kind: "resolved" }>,
  options: ContactSyncOptions,
): Promise<void> {
  const subject = { objectId: userRef(user), email: user.email, intercomId: resolution.contactId };
  let known = resolution.known;
  const changes: Fields = resolution.origin === "create" ? {} : changedFields(payload.fields, known);
  if (resolution.convertLead) changes.role = "user";
  if (Object.keys(changes).length) {
    const updated = await call("update", () =>
      updateContact(context.client, resolution.contactId, requestBody(changes)),
    );
    known = { ...known, ...contactFields(updated) };
    await saveLink(context, {
      objectType: "contact",
      localPk: user.pk,
      intercomId: updated.id,
      state: contactFields(updated),
      updatedAt: updated.updated_at,
    });
    await logOut(context, {
      ...subject,
      outcome: "synced",
      objectType: "contact",
      action: "update",
      detail: `sent ${Object.keys(changes).join(", ")}`,
    });
  } else if (resolution.origin !== "create") {
    if (resolution.origin !== "link")
      await saveLink(context, {
        objectType: "contact",
        localPk: user.pk,
        intercomId: resolution.contactId,
        state: known,
        updatedAt: null,
      });
    await logOut(context, {
      ...subject,
      outcome: "noop",
      objectType: "contact",
      action: "update",
      detail: "Intercom already holds these values",
    });
  }
  await reconcileCompanies(context, user, resolution.contactId, known, options);
}

/** Attaches the companies of the user's accounts and detaches those this connector attached that no longer apply. */
async function reconcileCompanies(
  context: SyncContext,
  user: UserRow,
  contactId: string,
  known: Record<string, unknown>,
  options: ContactSyncOptions,
): Promise<void> {
  const accounts = await accountsOfUser(context.db, user.pk);
  const wanted = new Map<string, string>();
  const pending: string[] = [];
  for (const account of accounts) {
    const companyId = await options.companyIdOf(account.pk);
    if (companyId) wanted.set(companyId, account.accountId);
    else pending.push(account.accountId);
  }
  const attached = new Set(attachedCompanies(known));
  const subject = { objectId: userRef(user), email: user.email, intercomId: contactId };
  for (const [companyId, accountId] of wanted) {
    if (attached.has(companyId)) continue;
    await call("attach", () => attachCompany(context.client, contactId, companyId));
    attached.add(companyId);
    await recordAttached(context, user.pk, contactId, attached);
    await logOut(context, {
      ...subject,
      outcome: "synced",
      objectType: "contact",
      action: "attach",
      detail: `attached to company ${accountId}`,
    });
  }
  for (const companyId of [...attached]) {
    if (wanted.has(companyId)) continue;
    try {
      await call("detach", () => detachCompany(context.client, contactId, companyId));
    } catch (error) {
      // Already detached in Intercom: the goal is reached.
      if (!(error instanceof StepFailure) || error.failure.kind !== "not_found") throw error;
    }
    attached.delete(companyId);
    await recordAttached(context, user.pk, contactId, attached);
    await logOut(context, {
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

/** The Intercom company ids recorded as attached by this connector. */
export function attachedCompanies(known: Record<string, unknown>): string[] {
  const list = known[ATTACHED_COMPANIES];
  return Array.isArray(list) ? list.filter((id): id is string => typeof id === "string") : [];
}

async function recordAttached(context: SyncContext, userPk: number, contactId: string, attached: Set<string>) {
  await upsertLink(context.db, {
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

function isGoneContact(error: StepFailure): boolean {
  return (error.failure.kind === "not_found" && error.action === "update") || error.failure.kind === "gone";
}

/** How logs name a user: the CDP's id, else its row (an email is personal data: it goes in the email column only). */
function userRef(user: Pick<UserRow, "userId" | "pk">): string {
  return user.userId ?? `user#${user.pk}`;
}
