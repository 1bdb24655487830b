/**
 * The I/O of an import's optional parts (pure parts in parts.ts): the tag names of a contacts page, a page of the
 * conversations phase, a page of the events phase. Each reads Intercom through the job's budgeted bulk-lane client
 * and hands what it read to INBOUND, where the webhook path's handlers and dedupe keys capture it.
 */
import type { IntercomClient } from "intercom-client";
import type { Connection } from "../../connections/repository";
import type { Env } from "../../env";
import { IntercomCallError } from "../../intercom/errors";
import { listTags } from "../../intercom/gateway";
import { log } from "../../lib/log";
import { sendAll } from "../../lib/queue-batches";
import type { InboundMessage } from "../inbound-message";
import type { ImportJob } from "./jobs";
import {
  chatNotifications,
  EVENTS_CONTACTS_PER_PAGE,
  embeddedIds,
  eventNotifications,
  MAX_EVENT_REQUESTS_PER_CONTACT,
  tagsNotification,
} from "./parts";
import type { PageFigures } from "./plan";
import { contactTagNames, listContactEvents, searchConversationsCreatedAfter, searchUserContacts } from "./reads";

const DAY_SECONDS = 86_400;
/** Conversations per search page (Intercom's maximum). */
const CONVERSATIONS_PER_PAGE = 150;

/** What a page of an optional phase read, in the shape run.ts records. */
export interface PartPageRead {
  figures: PageFigures;
  queued: number;
  memberships: number;
  failedIds: string[];
  /** What the page's sync-log row adds. */
  detail?: string;
}

/**
 * Queues the tag names of a page's contacts: one `GET /tags` for the names of the embedded tag ids when any contact
 * has tags, one `GET /contacts/{id}/tags` per contact whose embedded list `has_more`. Returns the calls spent.
 */
export async function queueContactTags(
  env: Env,
  client: IntercomClient,
  appId: string,
  contacts: ReadonlyArray<Record<string, unknown>>,
  now: number,
): Promise<{ calls: number; queued: number }> {
  const lists = contacts.map((contact) => ({ contact, ...embeddedIds(contact, "tags") }));
  let calls = 0;
  let names: Map<string, string> | null = null;
  if (lists.some((list) => !list.hasMore && list.ids.length > 0)) {
    names = new Map((await listTags(client)).map((tag) => [tag.id, tag.name]));
    calls++;
  }
  const messages: InboundMessage[] = [];
  for (const list of lists) {
    let tagNames: string[];
    if (list.hasMore) {
      tagNames = await contactTagNames(client, String(list.contact.id));
      calls++;
    } else {
      // A tag deleted between the two reads has no name left: it is left out.
      tagNames = list.ids.map((id) => names?.get(id)).filter((name): name is string => name !== undefined);
    }
    messages.push(tagsNotification(appId, list.contact, tagNames, now));
  }
  await sendAll(env.INBOUND, messages);
  return { calls, queued: messages.length };
}

/** One page of the conversations phase: contact-initiated conversations of the window as chat notifications. */
export async function importConversationsPage(
  env: Env,
  client: IntercomClient,
  connection: Connection,
  job: ImportJob,
): Promise<PartPageRead> {
  const since = job.options.conversationsSince ?? 0;
  const answer = await searchConversationsCreatedAfter(client, {
    after: since - DAY_SECONDS,
    startingAfter: job.cursor,
    perPage: CONVERSATIONS_PER_PAGE,
  });
  // Intercom matches dates by day: the exact lower bound is applied here.
  const page = chatNotifications(connection.appId!, job.id, answer.items, since, Date.now());
  await sendAll(env.INBOUND, page.messages);
  return {
    figures: {
      read: answer.items.length,
      skipped: page.outside + page.notContact,
      failed: page.failedIds.length,
      calls: 1,
      total: answer.total,
      next: answer.items.length === 0 ? null : answer.next,
    },
    queued: page.messages.length,
    memberships: 0,
    failedIds: page.failedIds,
    detail: `${page.notContact} not started by a contact, ${page.outside} before the window`,
  };
}

/**
 * One page of the events phase: a page of user contacts (those the import covers), then each one's data events
 * (one call per contact, more only for a contact with more than a page of events in Intercom's 90 days).
 */
export async function importEventsPage(
  env: Env,
  client: IntercomClient,
  connection: Connection,
  job: ImportJob,
): Promise<PartPageRead> {
  const since = job.options.since;
  const answer = await searchUserContacts(client, {
    after: since === null ? 0 : since - DAY_SECONDS,
    startingAfter: job.cursor,
    perPage: EVENTS_CONTACTS_PER_PAGE,
  });
  const contacts = answer.items.filter(
    (contact) => typeof contact.id === "string" && (since === null || Number(contact.updated_at) >= since),
  );
  let calls = 1;
  let unreadable = 0;
  let cut = 0;
  const failedIds: string[] = [];
  const messages: InboundMessage[] = [];
  const now = Date.now();
  for (const contact of contacts) {
    let listed: Awaited<ReturnType<typeof listContactEvents>>;
    try {
      listed = await listContactEvents(client, String(contact.id), MAX_EVENT_REQUESTS_PER_CONTACT);
    } catch (error) {
      // A contact deleted or merged since the search: counted as failed, the page goes on.
      if (error instanceof IntercomCallError && error.failure.kind === "not_found") {
        calls++;
        failedIds.push(String(contact.id));
        continue;
      }
      throw error;
    }
    calls += listed.calls;
    if (!listed.complete) cut++;
    const built = eventNotifications(connection.appId!, job.id, contact, listed.events, now);
    unreadable += built.unreadable;
    messages.push(...built.messages);
  }
  await sendAll(env.INBOUND, messages);
  if (cut > 0) {
    log({
      level: "warn",
      msg: "import: events lists cut",
      outcome: "partial",
      connection_id: connection.id,
      job_id: job.id,
      contacts: cut,
      max_requests: MAX_EVENT_REQUESTS_PER_CONTACT,
    });
  }
  return {
    figures: {
      read: answer.items.length,
      skipped: answer.items.length - contacts.length,
      failed: failedIds.length,
      calls,
      total: answer.total,
      next: answer.items.length === 0 ? null : answer.next,
    },
    queued: messages.length,
    memberships: 0,
    failedIds,
    detail:
      `${messages.length} events of ${contacts.length} users queued` +
      (unreadable > 0 ? `, ${unreadable} unreadable events` : "") +
      (cut > 0 ? `, ${cut} users with more than ${MAX_EVENT_REQUESTS_PER_CONTACT} pages of events cut` : ""),
  };
}
