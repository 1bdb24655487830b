/** Merging a lead into a user (`POST /contacts/merge`, or a merge made in Intercom's UI through `sim.emit`). */
import type { SimCore } from "./core";
import { IntercomError } from "./errors";
import type { ContactRecord } from "./types";
import { eventKey, type Workspace } from "./workspace";

/** Intercom 2.16's answer when the two contacts share neither email nor phone. */
const NOT_DUPLICATES =
  "Contacts can only be merged when they are duplicates (matching email or phone). Pass skip_duplicate_validation=true to override this check.";

const digits = (phone: string) => phone.replace(/\D/g, "");

/** Whether two contacts are duplicates in 2.16's sense: the same email (any case) or the same phone number. */
function areDuplicates(a: ContactRecord, b: ContactRecord): boolean {
  if (a.email !== null && b.email !== null && a.email.toLowerCase() === b.email.toLowerCase()) return true;
  return a.phone !== null && b.phone !== null && digits(a.phone) !== "" && digits(a.phone) === digits(b.phone);
}

/** Intercom's rules for `POST /contacts/merge`: a lead into a user, and (since 2.16) only duplicates unless told. */
export function checkMerge(from: ContactRecord, into: ContactRecord, skipDuplicateValidation: boolean): void {
  if (from.id === into.id || from.role !== "lead" || into.role !== "user") {
    // Intercom merges leads into users only; the wording is the simulator's.
    throw new IntercomError(400, "invalid_merge", "Only a lead can be merged, and only into a user");
  }
  if (!skipDuplicateValidation && !areDuplicates(from, into))
    throw new IntercomError(400, "invalid_merge", NOT_DUPLICATES);
}

/**
 * Merges `from` into `into` and returns the survivor. The user keeps its own values; what it lacks (name, email,
 * phone, custom attributes) comes from the lead **(sim)**, and the lead's tags, companies and events move to it.
 * The lead's id disappears from every route and from search; `GET /contacts/{id}` answers 410 with a Link.
 */
export function mergeContacts(core: SimCore, ws: Workspace, from: ContactRecord, into: ContactRecord): ContactRecord {
  const now = core.now();
  const survivor: ContactRecord = {
    ...into,
    name: into.name ?? from.name,
    email: into.email ?? from.email,
    phone: into.phone ?? from.phone,
    custom_attributes: { ...from.custom_attributes, ...into.custom_attributes },
    updated_at_ms: now,
    searchable_at_ms: core.searchableAt(now),
  };
  const tagsOfLead = ws.taggings.get(from.id);
  if (tagsOfLead) {
    const applied = ws.taggings.get(into.id) ?? new Map<string, number>();
    for (const [tagId, at] of tagsOfLead) if (!applied.has(tagId)) applied.set(tagId, at);
    ws.taggings.set(into.id, applied);
  }
  for (const companyId of ws.companyIdsOf(from.id)) ws.attach(into.id, companyId);
  ws.events.forEach((event, index) => {
    if (event.contact_id !== from.id) return;
    ws.events[index] = { ...event, contact_id: into.id };
    ws.eventKeys.add(eventKey(into.id, event.event_name, event.created_at));
  });
  ws.removeContact(from);
  ws.mergedInto.set(from.id, into.id);
  ws.putContact(survivor, into);
  return survivor;
}
