/** Finding the contact a route names, with Intercom's answers for missing, archived and merged contacts. */
import { IntercomError, userNotFound } from "./errors";
import type { ContactRecord } from "./types";
import type { Workspace } from "./workspace";

/**
 * The contact with this Intercom id. Archived contacts answer 404 like missing ones (the simulator's choice: they are
 * reached again through unarchive); merged-away ids answer 410 with a Link to the survivor, as Intercom 2.16 does.
 */
export function liveContact(ws: Workspace, id: string): ContactRecord {
  const survivor = ws.mergedInto.get(id);
  if (survivor !== undefined) {
    throw new IntercomError(
      410,
      "contact_merged",
      "This contact has been merged. See the 'Link' header for the canonical contact.",
      {
        Link: `</contacts/${survivor}>; rel="canonical"`,
      },
    );
  }
  const contact = ws.contacts.get(id);
  if (!contact || contact.archived) throw userNotFound();
  return contact;
}

/** A user (not a lead) by external id, live; events and find_by_external_id only see users. */
export function liveUserByExternalId(ws: Workspace, externalId: string): ContactRecord | undefined {
  const contact = ws.contactByExternalId(externalId);
  return contact && !contact.archived && contact.role === "user" ? contact : undefined;
}
