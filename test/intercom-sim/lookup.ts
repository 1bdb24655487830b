/** Finding the contact a route names, with Intercom's answers for missing, archived and merged contacts. */
import { IntercomError, userNotFound } from "./errors";
import type { ContactRecord } from "./types";
import type { Workspace } from "./workspace";

/** Intercom resolves merge chains up to this many hops in the 410's Link header (Spec 2.16). */
const MAX_MERGE_HOPS = 3;

/**
 * The contact with this Intercom id, for every route but `GET /contacts/{id}`. Missing, archived and merged-away ids
 * all answer 404 "User Not Found" (archived: the simulator's choice, they are reached again through unarchive; merged:
 * only GET documents the 410).
 */
export function liveContact(ws: Workspace, id: string): ContactRecord {
  const contact = ws.contacts.get(id);
  if (!contact || contact.archived) throw userNotFound();
  return contact;
}

/**
 * The contact `GET /contacts/{id}` answers: like `liveContact`, except that a merged-away id answers 410
 * `contact_merged` with `Link: </contacts/{survivor}>; rel="canonical"`, following the chain up to 3 hops.
 */
export function readableContact(ws: Workspace, id: string): ContactRecord {
  let survivor = ws.mergedInto.get(id);
  if (survivor === undefined) return liveContact(ws, id);
  for (let hops = 1; hops < MAX_MERGE_HOPS; hops++) {
    const next = ws.mergedInto.get(survivor);
    if (next === undefined) break;
    survivor = next;
  }
  throw new IntercomError(
    410,
    "contact_merged",
    "This contact has been merged. See the 'Link' header for the canonical contact.",
    { Link: `</contacts/${survivor}>; rel="canonical"` },
  );
}

/** A user (not a lead) by external id, live; events and find_by_external_id only see users. */
export function liveUserByExternalId(ws: Workspace, externalId: string): ContactRecord | undefined {
  const contact = ws.contactByExternalId(externalId);
  return contact && !contact.archived && contact.role === "user" ? contact : undefined;
}
