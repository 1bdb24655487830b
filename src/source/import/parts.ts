/**
 * The optional parts of an import, pure (README, "Import"): a contact's tag names as an `import.contact.tags`
 * notification, past conversations as the `conversation.user.created` notifications the chat handler reads, past
 * data events as `event.created` ones, and what the events phase costs in calls. The Intercom reads and the sends
 * are in run-parts.ts; the handlers that capture them are the webhook path's, so their dedupe keys apply.
 */
import { IMPORT_USER_CONTACT_FIELD } from "../capture/data-events";
import { type InboundMessage, projectItem, readItemMessage } from "../inbound-message";
import { CONTACT_TAGS_TOPIC } from "./tag-capture";

type Item = Record<string, unknown>;

/** User contacts per page of the events phase: each costs one events call, so a page stays a bounded invocation. */
export const EVENTS_CONTACTS_PER_PAGE = 25;
/** Requests of one contact's events list at most (50 events each): the 90 days Intercom lists rarely need more. */
export const MAX_EVENT_REQUESTS_PER_CONTACT = 5;

/** The calls the events phase is expected to cost for `userContacts` users: one list per user, one search per page. */
export function estimatedEventCalls(userContacts: number): number {
  return userContacts + Math.max(1, Math.ceil(userContacts / EVENTS_CONTACTS_PER_PAGE));
}

/** The ids of a REST contact's embedded list (`tags`, `companies`), and whether Intercom left some out (pure). */
export function embeddedIds(contact: Item, key: "tags" | "companies"): { ids: string[]; hasMore: boolean } {
  const list = contact[key];
  if (typeof list !== "object" || list === null) return { ids: [], hasMore: false };
  const { data, has_more: hasMore } = list as { data?: unknown; has_more?: unknown };
  const ids = Array.isArray(data)
    ? data
        .map((entry) => (typeof entry === "object" && entry !== null ? (entry as { id?: unknown }).id : null))
        .filter((id): id is string | number => typeof id === "string" || typeof id === "number")
        .map(String)
    : [];
  return { ids, hasMore: hasMore === true };
}

/** Tag names sorted and without repeats, so that the same tags always make the same value (pure). */
export function normalTagNames(names: readonly string[]): string[] {
  return [...new Set(names)].sort();
}

/** FNV-1a of the names, hex (pure): a notification id per tag set, so an unchanged set is a duplicate. */
export function tagSetDigest(names: readonly string[]): string {
  let hash = 0x811c9dc5;
  for (const char of names.join("\u0000")) {
    hash ^= char.codePointAt(0)!;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

/** A contact's tag names as an INBOUND message (pure); the same contact and tags always make the same id. */
export function tagsNotification(appId: string, contact: Item, names: readonly string[], now: number): InboundMessage {
  const tags = normalTagNames(names);
  const id = String(contact.id);
  return readItemMessage(appId, "sweep", now, {
    id: `import:tags:${id}:${tags.length}:${tagSetDigest(tags)}`,
    topic: CONTACT_TAGS_TOPIC,
    created_at: Number(contact.updated_at) || Math.floor(now / 1000),
    item: {
      type: "contact",
      id,
      role: contact.role ?? null,
      external_id: contact.external_id ?? null,
      email: contact.email ?? null,
      tags,
    },
  });
}

/** Whether a conversation was started by a contact (a user or a lead), as `conversation.user.created` ones are. */
export function contactInitiated(conversation: Item): boolean {
  const source = conversation.source as { author?: { type?: unknown }; delivered_as?: unknown } | null | undefined;
  const author = source?.author?.type;
  if (source?.delivered_as !== undefined && source.delivered_as !== "customer_initiated") return false;
  return author === "user" || author === "lead";
}

/**
 * The chat notifications of a conversation search page (pure): contact-initiated conversations created at or after
 * `since`, as `conversation.user.created`. Their ids are per job: the chat handler's events dedupe on the
 * conversation id, so a webhook or another import of the same conversation adds nothing, while a conversation whose
 * contact was not a CDP user yet is looked at again by the next import. The rest are counted, not sent.
 */
export function chatNotifications(
  appId: string,
  jobId: string,
  conversations: readonly Item[],
  since: number,
  now: number,
): { messages: InboundMessage[]; outside: number; notContact: number; failedIds: string[] } {
  const messages: InboundMessage[] = [];
  let outside = 0;
  let notContact = 0;
  const failedIds: string[] = [];
  for (const conversation of conversations) {
    const createdAt = Number(conversation.created_at);
    if (typeof conversation.id !== "string" || !Number.isFinite(createdAt) || conversation.created_at === null) {
      failedIds.push(String(conversation.id ?? "(no id)"));
    } else if (createdAt < since) outside++;
    else if (!contactInitiated(conversation)) notContact++;
    else {
      messages.push(
        readItemMessage(appId, "sweep", now, {
          id: `import:${jobId}:conversation:${conversation.id}`,
          topic: "conversation.user.created",
          created_at: createdAt,
          item: projectItem(conversation),
        }),
      );
    }
  }
  return { messages, outside, notContact, failedIds };
}

/**
 * A contact's listed data events as `event.created` notifications (pure), the contact's ids filled in where the list
 * leaves them out. Ids are per job, like the chats': the handler's event dedupe key (Intercom's own: contact, name,
 * time) keeps each event once whatever brings it.
 */
export function eventNotifications(appId: string, jobId: string, contact: Item, events: readonly Item[], now: number) {
  const messages: InboundMessage[] = [];
  let unreadable = 0;
  for (const event of events) {
    const createdAt = Number(event.created_at);
    if (typeof event.event_name !== "string" || event.event_name === "" || !Number.isFinite(createdAt)) {
      unreadable++;
      continue;
    }
    const item = {
      ...projectItem({
        ...event,
        type: "event",
        intercom_user_id: event.intercom_user_id ?? contact.id,
        user_id: event.user_id ?? contact.external_id ?? null,
        email: event.email ?? contact.email ?? null,
      }),
      // A user contact's external_id is the CDP's id: its events may create the user (capture/data-events.ts).
      ...(contact.role === "user" && contact.external_id ? { [IMPORT_USER_CONTACT_FIELD]: true } : {}),
    };
    messages.push(
      readItemMessage(appId, "sweep", now, {
        id: `import:${jobId}:event:${String(contact.id)}:${createdAt}:${event.event_name}`,
        topic: "event.created",
        created_at: createdAt,
        item,
      }),
    );
  }
  return { messages, unreadable };
}
