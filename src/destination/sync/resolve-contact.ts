/**
 * Which Intercom contact a CDP user is, when the identity map does not say: one search by external_id OR email with
 * the precedence rules (plan/match.ts), else a create when allowed. A 409 on create names the contact Intercom's
 * lagging search did not show yet, or an archived one (search never shows those): that contact is then updated, after
 * it is unarchived.
 */
import type { DestinationSettings } from "../../db/schema";
import type { LinkRow } from "../../graph/links";
import type { UserRow } from "../../graph/users";
import { IntercomCallError } from "../../intercom/errors";
import { contactFields } from "../../intercom/fields";
import { createContact, createContactBody, searchContactsByIdentity, unarchiveContact } from "../../intercom/gateway";
import type { SyncContext } from "../context";
import { chooseContact } from "../plan/match";
import type { Payload } from "../plan/payload";
import { commitWithLog, logOut, saveLinkStatement, userRef } from "./steps";

export type Resolution =
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

/** The resolution the identity map gives. */
export function fromLink(link: LinkRow): Resolution {
  return { kind: "resolved", contactId: link.intercomId, known: link.remoteState, origin: "link", convertLead: false };
}

/** Search (unless a batch search just found nothing), choose, else create when allowed. */
export async function resolveContact(
  context: SyncContext,
  user: UserRow,
  payload: Payload,
  settings: DestinationSettings,
  checkedAbsent: boolean,
): Promise<Resolution> {
  const identity = { userId: user.userId, email: user.email };
  const candidates = checkedAbsent ? [] : await searchContactsByIdentity(context.client, identity);
  const match = chooseContact(candidates, identity);
  if (match.kind === "ambiguous") {
    const via = match.via.replace("_", " ");
    return {
      kind: "conflict",
      detail: `several Intercom contacts match by ${via} (${match.ids.join(", ")}); not synced until one remains`,
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
    const created = await createContact(context.client, createContactBody(payload.fields));
    const link = {
      objectType: "contact",
      localPk: user.pk,
      intercomId: created.id,
      state: contactFields(created),
      updatedAt: created.updated_at,
    } as const;
    await commitWithLog(context, [saveLinkStatement(context, link)], {
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
    if (!(error instanceof IntercomCallError) || error.failure.kind !== "conflict") throw error;
    const failure = error.failure;
    if (!failure.existingId) return { kind: "conflict", detail: `Intercom refused the create: ${failure.message}` };
    if (failure.archived) {
      // Search does not show archived contacts: bring the one the 409 names back, then update it like any other.
      await unarchiveContact(context.client, failure.existingId);
      await logOut(context, {
        objectId: userRef(user),
        email: user.email,
        intercomId: failure.existingId,
        outcome: "synced",
        objectType: "contact",
        action: "unarchive",
        detail: "the contact was archived in Intercom; unarchived to be updated",
      });
    }
    // A contact Intercom's search did not show yet (search lags behind writes): update the one the 409 names.
    return { kind: "resolved", contactId: failure.existingId, known: {}, origin: "conflict", convertLead: false };
  }
}
