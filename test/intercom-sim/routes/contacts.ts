/** Contacts: create (with Intercom's 409s), read, update, search, archive, unarchive, delete. */
import { Hono } from "hono";
import { checkCustomAttributes, mergeCustomAttributes } from "../attributes";
import type { SimCore } from "../core";
import { IntercomError, invalid, userNotFound } from "../errors";
import { bodyObject, optionalBoolean, optionalInteger, optionalString, rejectUnknownKeys, type SimEnv } from "../http";
import { objectId } from "../ids";
import { liveContact, liveUserByExternalId, readableContact } from "../lookup";
import { checkMerge, mergeContacts } from "../merge";
import { archivedContactJson, deletedContactJson, seconds } from "../payloads";
import { blankContact } from "../records";
import {
  compareForSort,
  type FieldKind,
  indexLookups,
  matches,
  pagesJson,
  parsePagination,
  parseQuery,
  parseSort,
  type QueryNode,
} from "../search";
import type { ContactLocation, ContactRecord, CustomValue, ObservedContactFields, Role } from "../types";
import type { Workspace } from "../workspace";

const CONTACT_KEYS = new Set([
  "role",
  "external_id",
  "email",
  "phone",
  "name",
  "avatar",
  "signed_up_at",
  "last_seen_at",
  "owner_id",
  "unsubscribed_from_emails",
  "custom_attributes",
]);

/** The fields of a create or update body, validated; undefined = not sent, null = clear. */
interface ContactPatch {
  role?: Role;
  external_id?: string | null;
  email?: string | null;
  phone?: string | null;
  name?: string | null;
  avatar?: string | null;
  owner_id?: string | null;
  unsubscribed_from_emails?: boolean;
  signed_up_at?: number | null;
  last_seen_at?: number | null;
  custom_attributes?: Record<string, CustomValue | null>;
}

function readContactPatch(body: Record<string, unknown>, ws: Workspace): ContactPatch {
  rejectUnknownKeys(body, CONTACT_KEYS);
  const role = body.role;
  if (role !== undefined && role !== "user" && role !== "lead") throw invalid("role must be either user or lead");
  const email = optionalString(body, "email");
  if (email && !/^[^\s@]+@[^\s@]+$/.test(email)) throw invalid("email is not a valid email address");
  const ownerId = optionalString(body, "owner_id");
  if (ownerId && ownerId !== ws.admin.id) throw invalid("The owner specified is not a member of the workspace");
  const patch: ContactPatch = {
    role,
    external_id: optionalString(body, "external_id"),
    email,
    phone: optionalString(body, "phone"),
    name: optionalString(body, "name"),
    avatar: optionalString(body, "avatar"),
    owner_id: ownerId,
    unsubscribed_from_emails: optionalBoolean(body, "unsubscribed_from_emails"),
    signed_up_at: optionalInteger(body, "signed_up_at"),
    last_seen_at: optionalInteger(body, "last_seen_at"),
  };
  if (body.custom_attributes !== undefined)
    patch.custom_attributes = checkCustomAttributes(body.custom_attributes, ws.customAttributes.contact);
  return patch;
}

/** Intercom's 409 naming the contact that is already there (the archived wording when it is archived). */
function conflictWith(existing: ContactRecord): IntercomError {
  const prefix = existing.archived ? "An archived contact" : "A contact";
  return new IntercomError(409, "conflict", `${prefix} matching those details already exists with id=${existing.id}`);
}

/**
 * The contact a new one would duplicate. Intercom matches its id, then external_id, then email (API-NOTES §6): any
 * contact (lead or user, archived too) with the same external_id; for a new user, a user with the same email when
 * either of the two has no external_id (two users with different external ids may share an email). Leads never
 * clash on email: a lead may share one with leads and users alike.
 */
function duplicateOf(
  ws: Workspace,
  role: Role,
  externalId: string | null,
  email: string | null,
): ContactRecord | undefined {
  if (externalId !== null) {
    const byExternalId = ws.contactByExternalId(externalId);
    if (byExternalId) return byExternalId;
  }
  if (email === null || role === "lead") return undefined;
  return ws
    .contactsByEmail(email)
    .find((existing) => existing.role === "user" && (externalId === null || existing.external_id === null));
}

const SCALAR_FIELDS = [
  "role",
  "external_id",
  "email",
  "phone",
  "name",
  "avatar",
  "owner_id",
  "unsubscribed_from_emails",
  "signed_up_at",
  "last_seen_at",
] as const;

/** The contact after a patch, and whether anything really changed (updated_at moves only then). */
function applyPatch(contact: ContactRecord, patch: ContactPatch): { next: ContactRecord; changed: boolean } {
  const next: ContactRecord = { ...contact };
  let changed = false;
  for (const field of SCALAR_FIELDS) {
    const value = patch[field];
    if (value !== undefined && value !== contact[field]) {
      (next as unknown as Record<string, unknown>)[field] = value;
      changed = true;
    }
  }
  if (patch.custom_attributes) {
    const merged = mergeCustomAttributes(contact.custom_attributes, patch.custom_attributes);
    next.custom_attributes = merged.values;
    changed ||= merged.changed;
  }
  return { next, changed };
}

/** Searchable standard fields (Spec 2.16's list, for the fields the simulator stores). */
const CONTACT_FIELD_KINDS: Record<string, FieldKind> = {
  id: "text",
  external_id: "text",
  role: "text",
  name: "text",
  avatar: "text",
  owner_id: "text",
  phone: "text",
  formatted_phone: "text",
  email: "text-ci",
  email_domain: "text-ci",
  language_override: "text",
  browser: "text",
  browser_language: "text",
  os: "text",
  "location.country": "text",
  "location.region": "text",
  "location.city": "text",
  ios_app_name: "text",
  ios_app_version: "text",
  ios_device: "text",
  ios_os_version: "text",
  ios_sdk_version: "text",
  android_app_name: "text",
  android_app_version: "text",
  android_device: "text",
  android_sdk_version: "text",
  unsubscribed_from_emails: "boolean",
  marked_email_as_spam: "boolean",
  has_hard_bounced: "boolean",
  created_at: "date",
  updated_at: "date",
  signed_up_at: "date",
  last_seen_at: "date",
  last_contacted_at: "date",
  last_replied_at: "date",
  last_email_opened_at: "date",
  last_email_clicked_at: "date",
  ios_last_seen_at: "date",
  android_last_seen_at: "date",
};

const CUSTOM_PREFIX = "custom_attributes.";

/** How a search field compares, from the standard fields and the workspace's custom attribute definitions. */
function contactFieldKind(ws: Workspace, field: string): FieldKind | undefined {
  if (!field.startsWith(CUSTOM_PREFIX)) return CONTACT_FIELD_KINDS[field];
  const dataType = ws.customAttributes.contact.get(field.slice(CUSTOM_PREFIX.length))?.data_type;
  if (dataType === undefined) return undefined;
  return dataType === "integer" || dataType === "float"
    ? "number"
    : dataType === "datetime"
      ? "date"
      : dataType === "string"
        ? "text"
        : dataType;
}

function contactFieldValue(contact: ContactRecord, field: string): unknown {
  switch (field) {
    case "email_domain":
      return contact.email?.split("@")[1] ?? null;
    case "formatted_phone":
      return contact.observed.formatted_phone ?? contact.phone;
    case "created_at":
      return seconds(contact.created_at_ms);
    case "updated_at":
      return seconds(contact.updated_at_ms);
  }
  if (field.startsWith(CUSTOM_PREFIX)) return contact.custom_attributes[field.slice(CUSTOM_PREFIX.length)] ?? null;
  if (field.startsWith("location.")) return contact.observed.location[field.slice(9) as keyof ContactLocation] ?? null;
  if (field in contact.observed) return contact.observed[field as keyof ObservedContactFields] ?? null;
  return contact[field as keyof ContactRecord] ?? null;
}

/** Fields an equality search resolves through an index instead of a scan. */
const INDEXED_FIELDS = new Set(["id", "email", "external_id"]);

/** The contacts a query can match: from the indexes when the query allows it, else every contact (creation order). */
function candidates(ws: Workspace, query: QueryNode): Iterable<ContactRecord> {
  const lookups = indexLookups(query, INDEXED_FIELDS);
  if (!lookups) return ws.contacts.values();
  const found = new Set<ContactRecord>();
  for (const { field, value } of lookups) {
    if (field === "id") {
      const contact = ws.contacts.get(value);
      if (contact) found.add(contact);
    } else if (field === "external_id") {
      const contact = ws.contactByExternalId(value);
      if (contact) found.add(contact);
    } else {
      for (const contact of ws.contactsByEmail(value)) found.add(contact);
    }
  }
  return [...found].sort((a, b) => a.created_at_ms - b.created_at_ms);
}

/** `/contacts`, `/contacts/search`, `/contacts/{id}` and its archive/unarchive. */
export function contactRoutes(core: SimCore) {
  return new Hono<SimEnv>()
    .post("/contacts", (c) => {
      const ws = c.get("ws");
      const patch = readContactPatch(bodyObject(c), ws);
      if (patch.role === undefined && !patch.email && !patch.external_id) {
        throw invalid("A contact needs at least one of email, external_id or role");
      }
      const role = patch.role ?? "user";
      // Intercom gives every lead a generated UUID as external_id (seen in every recorded lead).
      const externalId = patch.external_id ?? (role === "lead" ? crypto.randomUUID() : null);
      const duplicate = duplicateOf(ws, role, externalId, patch.email ?? null);
      if (duplicate) throw conflictWith(duplicate);
      const now = core.now();
      const blank = blankContact({ id: objectId(now), role, external_id: externalId, nowMs: now });
      const { next: contact } = applyPatch(blank, { ...patch, role, external_id: externalId });
      contact.searchable_at_ms = core.searchableAt(now);
      ws.putContact(contact);
      core.notifyContact(ws, contact, "created");
      return c.json(core.contactJson(ws, contact));
    })
    .post("/contacts/search", (c) => {
      const ws = c.get("ws");
      const body = bodyObject(c);
      rejectUnknownKeys(body, new Set(["query", "pagination", "sort"]));
      if (body.query === undefined) throw invalid("query is required");
      const kindOf = (field: string) => contactFieldKind(ws, field);
      const query = parseQuery(body.query, kindOf);
      const sort = parseSort(body.sort, kindOf);
      const page = parsePagination(body.pagination);
      // Search is eventually consistent in Intercom: a contact written within its search lag is not indexed yet.
      const now = core.now();
      const hits: ContactRecord[] = [];
      for (const contact of candidates(ws, query)) {
        if (
          !contact.archived &&
          contact.searchable_at_ms <= now &&
          matches(query, (f) => contactFieldValue(contact, f))
        )
          hits.push(contact);
      }
      if (sort) {
        hits.sort((a, b) => compareForSort(contactFieldValue(a, sort.field), contactFieldValue(b, sort.field), sort));
      } else {
        // Without a sort, the most recently updated come first **(sim: Intercom documents only that order defaults
        // to descending)**; equal times keep the newest contact first.
        hits.reverse().sort((a, b) => b.updated_at_ms - a.updated_at_ms);
      }
      return c.json({
        type: "list",
        data: hits.slice(page.offset, page.offset + page.perPage).map((contact) => core.contactJson(ws, contact)),
        total_count: hits.length,
        pages: pagesJson(page, hits.length),
      });
    })
    .post("/contacts/merge", (c) => {
      const ws = c.get("ws");
      const body = bodyObject(c);
      rejectUnknownKeys(body, new Set(["from", "into", "skip_duplicate_validation"]));
      const fromId = optionalString(body, "from");
      const intoId = optionalString(body, "into");
      if (!fromId || !intoId) throw invalid("from and into are required");
      const from = liveContact(ws, fromId);
      const into = liveContact(ws, intoId);
      checkMerge(from, into, optionalBoolean(body, "skip_duplicate_validation") ?? false);
      const survivor = mergeContacts(core, ws, from, into);
      // The recorded contact.merged item is the survivor alone: no merged_from (Intercom documents one, sends none).
      core.notify(ws.appId, "contact.merged", core.webhookContactJson(ws, survivor));
      return c.json(core.contactJson(ws, survivor));
    })
    .get("/contacts/find_by_external_id/:external_id", (c) => {
      const ws = c.get("ws");
      const contact = liveUserByExternalId(ws, c.req.param("external_id"));
      if (!contact) throw userNotFound();
      return c.json(core.contactJson(ws, contact));
    })
    .get("/contacts/:id", (c) => {
      const ws = c.get("ws");
      return c.json(core.contactJson(ws, readableContact(ws, c.req.param("id"))));
    })
    .put("/contacts/:id", (c) => {
      const ws = c.get("ws");
      const contact = liveContact(ws, c.req.param("id"));
      const patch = readContactPatch(bodyObject(c), ws);
      if (patch.external_id) {
        const holder = ws.contactByExternalId(patch.external_id);
        if (holder && holder.id !== contact.id) throw conflictWith(holder);
      }
      const { next, changed } = applyPatch(contact, patch);
      if (!changed) return c.json(core.contactJson(ws, contact));
      next.updated_at_ms = core.now();
      next.searchable_at_ms = core.searchableAt(next.updated_at_ms);
      ws.putContact(next, contact);
      core.notifyContact(ws, next, "updated");
      return c.json(core.contactJson(ws, next));
    })
    .delete("/contacts/:id", (c) => {
      const ws = c.get("ws");
      const contact = ws.contacts.get(c.req.param("id"));
      if (!contact) throw userNotFound();
      ws.removeContact(contact);
      core.notify(ws.appId, "contact.deleted", deletedContactJson(contact));
      return c.json(deletedContactJson(contact));
    })
    .post("/contacts/:id/archive", (c) => setArchived(core, c.get("ws"), c.req.param("id"), true))
    .post("/contacts/:id/unarchive", (c) => setArchived(core, c.get("ws"), c.req.param("id"), false));
}

/** Archive or unarchive; only an actual change notifies (`contact.archived` / `contact.unarchive`, Intercom's spelling). */
function setArchived(core: SimCore, ws: Workspace, id: string, archived: boolean): Response {
  const contact = ws.contacts.get(id);
  if (!contact) throw userNotFound();
  if (contact.archived !== archived) {
    // An unarchived contact goes back into the search index, which takes its usual lag.
    const next = archived
      ? { ...contact, archived }
      : { ...contact, archived, searchable_at_ms: core.searchableAt(core.now()) };
    ws.putContact(next, contact);
    core.notify(ws.appId, archived ? "contact.archived" : "contact.unarchive", core.webhookContactJson(ws, next));
    return Response.json(archivedContactJson(next));
  }
  return Response.json(archivedContactJson(contact));
}
