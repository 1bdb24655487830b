/**
 * The Intercom reads of an import's optional parts, as plain functions over the SDK that return plain data: a
 * contact's tags, conversation search pages, user contacts and their data events. Each request goes through `call`,
 * so a failure is an `IntercomCallError` naming it; the functions that may take several requests say how many.
 */
import type { IntercomClient } from "intercom-client";
import { call } from "../../intercom/errors";
import { MAX_PER_PAGE } from "../../intercom/gateway";

type Item = Record<string, unknown>;

interface SearchAnswer {
  data: Item[];
  response: { total_count?: number; pages?: { next?: { starting_after?: string } } };
}

function pageOf(answer: SearchAnswer) {
  return {
    items: answer.data,
    next: answer.response.pages?.next?.starting_after ?? null,
    total: typeof answer.response.total_count === "number" ? answer.response.total_count : null,
  };
}

/** `GET /contacts/{id}/tags`: every tag name of a contact whose embedded list `has_more` (one request). */
export async function contactTagNames(client: IntercomClient, contactId: string): Promise<string[]> {
  const list = (await call("GET /contacts/{id}/tags", () =>
    client.contacts.listAttachedTags({ contact_id: contactId }),
  )) as unknown as { data?: Array<{ name?: unknown }> };
  return (list.data ?? []).map((tag) => tag.name).filter((name): name is string => typeof name === "string");
}

/**
 * One page of the conversations created after `after` (Unix seconds; Intercom matches dates by day, the caller
 * applies the exact bound), `POST /conversations/search`.
 */
export async function searchConversationsCreatedAfter(
  client: IntercomClient,
  options: { after: number; startingAfter: string | null; perPage?: number },
): Promise<{ items: Item[]; next: string | null; total: number | null }> {
  const answer = (await call("POST /conversations/search", () =>
    client.conversations.search({
      query: { field: "created_at", operator: ">", value: options.after },
      pagination: {
        per_page: options.perPage ?? MAX_PER_PAGE,
        ...(options.startingAfter ? { starting_after: options.startingAfter } : {}),
      },
    } as never),
  )) as unknown as SearchAnswer;
  return pageOf(answer);
}

/** The search query of user contacts updated after `after` (Unix seconds, day-granular in Intercom), pure. */
function userContactsQuery(after: number) {
  return {
    operator: "AND",
    value: [
      { field: "role", operator: "=", value: "user" },
      { field: "updated_at", operator: ">", value: after },
    ],
  };
}

/** How many user contacts were updated after `after`: one search of one item, for its `total_count`. */
export async function countUserContacts(client: IntercomClient, after: number): Promise<number> {
  const answer = (await call("POST /contacts/search", () =>
    client.contacts.search({ query: userContactsQuery(after), pagination: { per_page: 1 } } as never),
  )) as unknown as SearchAnswer;
  return pageOf(answer).total ?? answer.data.length;
}

/** One page of the user contacts updated after `after`, in creation order (so new contacts land at the end). */
export async function searchUserContacts(
  client: IntercomClient,
  options: { after: number; startingAfter: string | null; perPage: number },
): Promise<{ items: Item[]; next: string | null; total: number | null }> {
  const answer = (await call("POST /contacts/search", () =>
    client.contacts.search({
      query: userContactsQuery(options.after),
      sort: { field: "created_at", order: "ascending" },
      pagination: {
        per_page: options.perPage,
        ...(options.startingAfter ? { starting_after: options.startingAfter } : {}),
      },
    } as never),
  )) as unknown as SearchAnswer;
  return pageOf(answer);
}

/** The query parameters of a `pages.next` link beyond those the first request sets (pure); null without one. */
export function nextEventsQuery(next: unknown): Record<string, string> | null {
  if (typeof next !== "string" || next === "") return null;
  let url: URL;
  try {
    url = new URL(next, "https://api.intercom.io");
  } catch {
    return null;
  }
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
    if (key !== "type" && key !== "intercom_user_id" && key !== "user_id" && key !== "email") query[key] = value;
  }
  return Object.keys(query).length > 0 ? query : null;
}

/**
 * A contact's data events, `GET /events?type=user&intercom_user_id=…` (Intercom lists the last 90 days), following
 * `pages.next` for at most `maxRequests` requests; `complete` is false when that cap cut the list.
 */
export async function listContactEvents(
  client: IntercomClient,
  contactId: string,
  maxRequests: number,
): Promise<{ events: Item[]; calls: number; complete: boolean }> {
  const events: Item[] = [];
  let queryParams: Record<string, string> | null = null;
  for (let calls = 1; calls <= maxRequests; calls++) {
    const extra = queryParams;
    const answer = (await call("GET /events", () =>
      client.events.list({ type: "user", intercom_user_id: contactId }, extra ? { queryParams: extra } : undefined),
    )) as unknown as { events?: unknown; pages?: { next?: unknown } };
    if (Array.isArray(answer.events)) {
      for (const event of answer.events) if (typeof event === "object" && event !== null) events.push(event as Item);
    }
    queryParams = nextEventsQuery(answer.pages?.next);
    if (!queryParams) return { events, calls, complete: true };
  }
  return { events, calls: maxRequests, complete: false };
}
