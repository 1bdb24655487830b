/**
 * The Intercom calls of the destination and the sweep, as plain functions over the SDK that return plain data. Each
 * function is exactly one HTTP request; a failure is thrown as an `IntercomCallError` naming the call. The request
 * bodies that a dry run (preview) shows are built by the pure functions here too, so the two never disagree.
 */
import type { IntercomClient } from "intercom-client";
import { call, IntercomCallError } from "./errors";
import { type Fields, requestBody } from "./fields";
import { type CompanySummary, type ContactSummary, companySummary, contactSummary } from "./objects";

/** Intercom's maximum page size. */
export const MAX_PER_PAGE = 150;

export interface ContactIdentity {
  userId: string | null;
  email: string | null;
}

type SearchFilter = { field: string; operator: "=" | "IN" | ">"; value: string | string[] | number };
export type SearchQuery = SearchFilter | { operator: "OR"; value: SearchFilter[] };

/** The `POST /contacts/search` body finding a user by `external_id` OR email (null without either) (pure). */
export function identitySearchBody(
  identity: ContactIdentity,
): { query: SearchQuery; pagination: { per_page: number } } | null {
  const filters: SearchFilter[] = [];
  if (identity.userId) filters.push({ field: "external_id", operator: "=", value: identity.userId });
  if (identity.email) filters.push({ field: "email", operator: "=", value: identity.email });
  if (filters.length === 0) return null;
  return {
    query: filters.length === 1 ? filters[0]! : { operator: "OR", value: filters },
    pagination: { per_page: MAX_PER_PAGE },
  };
}

/** The `POST /contacts` body of a new user contact with `fields` (pure). */
export function createContactBody(fields: Fields): Record<string, unknown> {
  return { role: "user", ...requestBody(fields) };
}

/** Contacts whose `external_id` equals `userId` or whose email equals `email`, in one search. */
export async function searchContactsByIdentity(
  client: IntercomClient,
  identity: ContactIdentity,
): Promise<ContactSummary[]> {
  const body = identitySearchBody(identity);
  if (!body) return [];
  const page = await call("POST /contacts/search", () => client.contacts.search(body as never));
  return page.data.map((contact) => contactSummary(contact));
}

/**
 * Contacts of several identities in one search (`external_id IN […] OR email IN […]`); `complete` is false when
 * the answer had more pages than the one read, so absence cannot be concluded.
 */
export async function searchContactsByIdentities(
  client: IntercomClient,
  identities: ReadonlyArray<ContactIdentity>,
): Promise<{ contacts: ContactSummary[]; complete: boolean }> {
  const ids = [...new Set(identities.map((identity) => identity.userId).filter((id): id is string => !!id))];
  const emails = [...new Set(identities.map((identity) => identity.email).filter((email): email is string => !!email))];
  const filters: SearchFilter[] = [
    ...(ids.length ? [{ field: "external_id", operator: "IN" as const, value: ids }] : []),
    ...(emails.length ? [{ field: "email", operator: "IN" as const, value: emails }] : []),
  ];
  if (filters.length === 0) return { contacts: [], complete: true };
  const query = filters.length === 1 ? filters[0]! : { operator: "OR" as const, value: filters };
  const page = await call("POST /contacts/search", () =>
    client.contacts.search({ query, pagination: { per_page: MAX_PER_PAGE } } as never),
  );
  const total = (page.response as { total_count?: number }).total_count ?? page.data.length;
  return { contacts: page.data.map((contact) => contactSummary(contact)), complete: total <= page.data.length };
}

/** One page of the contacts updated after `after` (Unix seconds, day-granular in Intercom), oldest first. */
export async function searchContactsUpdatedAfter(
  client: IntercomClient,
  options: { after: number; startingAfter?: string; perPage?: number },
): Promise<{ items: Array<Record<string, unknown>>; next: string | null }> {
  const { items, next } = await searchContactsPage(client, "updated_at", options);
  return { items, next };
}

/**
 * One page of every contact (users and leads) updated after `after` (Unix seconds, day-granular in Intercom), in
 * creation order: an update during the paging does not move a contact, so pages neither skip nor repeat one.
 * `total` is Intercom's `total_count`.
 */
export function searchContactsCreatedOrder(
  client: IntercomClient,
  options: { after: number; startingAfter?: string | null; perPage?: number },
): Promise<{ items: Array<Record<string, unknown>>; next: string | null; total: number | null }> {
  return searchContactsPage(client, "created_at", options);
}

async function searchContactsPage(
  client: IntercomClient,
  sortBy: "updated_at" | "created_at",
  options: { after: number; startingAfter?: string | null; perPage?: number },
): Promise<{ items: Array<Record<string, unknown>>; next: string | null; total: number | null }> {
  const answer = (await call("POST /contacts/search", () =>
    client.contacts.search({
      query: { field: "updated_at", operator: ">", value: options.after },
      sort: { field: sortBy, order: "ascending" },
      pagination: {
        per_page: options.perPage ?? MAX_PER_PAGE,
        ...(options.startingAfter ? { starting_after: options.startingAfter } : {}),
      },
    } as never),
  )) as unknown as {
    data: Array<Record<string, unknown>>;
    response: { total_count?: number; pages?: { next?: { starting_after?: string } } };
  };
  return {
    items: answer.data,
    next: answer.response.pages?.next?.starting_after ?? null,
    total: typeof answer.response.total_count === "number" ? answer.response.total_count : null,
  };
}

/** Companies per page of `GET /contacts/{id}/companies`; a contact has at most 1,000 companies (20 pages). */
const CONTACT_COMPANIES_PER_PAGE = 50;

/**
 * Every company id of a contact (`GET /contacts/{id}/companies`, page by page), for a contact whose embedded list
 * `has_more`; `calls` is the number of requests it took.
 */
export async function listContactCompanies(
  client: IntercomClient,
  contactId: string,
): Promise<{ ids: string[]; calls: number }> {
  const ids: string[] = [];
  for (let page = 1; page <= 20; page++) {
    const answer = await call("GET /contacts/{id}/companies", () =>
      client.contacts.listAttachedCompanies({ contact_id: contactId, page, per_page: CONTACT_COMPANIES_PER_PAGE }),
    );
    // The 2.16 description names the array `companies`; answers seen with `data` are read too.
    const raw = answer.response as { companies?: unknown; data?: unknown } | undefined;
    const list = Array.isArray(raw?.companies) ? raw.companies : Array.isArray(raw?.data) ? raw.data : answer.data;
    const data = (list as Array<{ id?: unknown }>).filter((company) => company && typeof company.id === "string");
    for (const company of data) ids.push(String(company.id));
    const pages = (answer.response as { pages?: { total_pages?: number } } | undefined)?.pages;
    if (data.length < CONTACT_COMPANIES_PER_PAGE || (pages?.total_pages ?? page) <= page) {
      return { ids, calls: page };
    }
  }
  return { ids, calls: 20 };
}

/** One page of `GET /companies/scroll` (50 companies); `next` continues it (a scroll expires after a minute). */
export async function scrollCompanies(
  client: IntercomClient,
  scrollParam: string | null,
): Promise<{ items: Array<Record<string, unknown>>; next: string | null; total: number | null }> {
  const answer = await call("GET /companies/scroll", () =>
    client.companies.scroll(scrollParam ? { scroll_param: scrollParam } : {}),
  );
  const items = (answer.response?.data ?? []) as unknown as Array<Record<string, unknown>>;
  const total = (answer.response as { total_count?: unknown } | undefined)?.total_count;
  return { items, next: answer.response?.scroll_param ?? null, total: typeof total === "number" ? total : null };
}

/** `POST /contacts`. */
export async function createContact(client: IntercomClient, body: Record<string, unknown>): Promise<ContactSummary> {
  return contactSummary(await call("POST /contacts", () => client.contacts.create(body as never)));
}

/** `PUT /contacts/{id}` with only `fields`. */
export async function updateContact(
  client: IntercomClient,
  contactId: string,
  body: Record<string, unknown>,
): Promise<ContactSummary> {
  return contactSummary(
    await call("PUT /contacts/{id}", () => client.contacts.update({ contact_id: contactId, ...body } as never)),
  );
}

/** `POST /contacts/{id}/unarchive`: an archived contact can be updated again. */
export async function unarchiveContact(client: IntercomClient, contactId: string): Promise<void> {
  await call("POST /contacts/{id}/unarchive", () => client.contacts.unarchive({ contact_id: contactId }));
}

/** `POST /contacts/{id}/archive` (an erasure with `on_erase: archive`). */
export async function archiveContact(client: IntercomClient, contactId: string): Promise<void> {
  await call("POST /contacts/{id}/archive", () => client.contacts.archive({ contact_id: contactId }));
}

/** `DELETE /contacts/{id}` (an erasure with `on_erase: delete`). */
export async function deleteContact(client: IntercomClient, contactId: string): Promise<void> {
  await call("DELETE /contacts/{id}", () => client.contacts.delete({ contact_id: contactId }));
}

/** `POST /contacts/{id}/companies`. */
export async function attachCompany(client: IntercomClient, contactId: string, companyId: string): Promise<void> {
  await call("POST /contacts/{id}/companies", () =>
    client.companies.attachContact({ contact_id: contactId, id: companyId }),
  );
}

/** `DELETE /contacts/{id}/companies/{company id}`. */
export async function detachCompany(client: IntercomClient, contactId: string, companyId: string): Promise<void> {
  await call("DELETE /contacts/{id}/companies/{id}", () =>
    client.companies.detachContact({ contact_id: contactId, company_id: companyId }),
  );
}

/** `POST /companies`: create or update by `company_id`. */
export async function upsertCompany(client: IntercomClient, fields: Fields): Promise<CompanySummary> {
  return companySummary(
    await call("POST /companies", () => client.companies.createOrUpdate(requestBody(fields) as never)),
  );
}

/** `GET /companies?company_id=`: the company, or null when Intercom has none with that id. */
export async function findCompany(client: IntercomClient, companyId: string): Promise<CompanySummary | null> {
  let found: { type?: string; data?: unknown[] };
  try {
    found = (await call("GET /companies?company_id=", () =>
      client.companies.retrieve({ company_id: companyId }),
    )) as unknown as { type?: string; data?: unknown[] };
  } catch (error) {
    if (error instanceof IntercomCallError && error.failure.kind === "not_found") return null;
    throw error;
  }
  // 2.16 answers a list wrapper; older versions a bare company.
  const company = found.type === "list" ? found.data?.[0] : found;
  return company ? companySummary(company) : null;
}

/** `GET /tags`: every tag of the workspace. */
export async function listTags(client: IntercomClient): Promise<Array<{ id: string; name: string }>> {
  const list = (await call("GET /tags", () => client.tags.list())) as unknown as {
    data?: Array<{ id: string | number; name: string }>;
  };
  return (list.data ?? []).map((tag) => ({ id: String(tag.id), name: tag.name }));
}

/** `POST /tags {name}`: creates the tag or returns the existing one (names are case-insensitive). */
export async function createOrGetTag(client: IntercomClient, name: string): Promise<{ id: string; name: string }> {
  const tag = (await call("POST /tags", () => client.tags.create({ name } as never))) as unknown as {
    id: string | number;
    name: string;
  };
  return { id: String(tag.id), name: tag.name };
}

/** `POST /contacts/{id}/tags`. */
export async function tagContact(client: IntercomClient, contactId: string, tagId: string): Promise<void> {
  await call("POST /contacts/{id}/tags", () => client.tags.tagContact({ contact_id: contactId, id: tagId }));
}

/** `DELETE /contacts/{id}/tags/{tag id}`. */
export async function untagContact(client: IntercomClient, contactId: string, tagId: string): Promise<void> {
  await call("DELETE /contacts/{id}/tags/{id}", () =>
    client.tags.untagContact({ contact_id: contactId, tag_id: tagId }),
  );
}

/** `POST /events` for a contact by Intercom id. */
export async function createEvent(
  client: IntercomClient,
  event: { contactId: string; name: string; createdAt: number; metadata?: Record<string, unknown> },
): Promise<void> {
  await call("POST /events", () =>
    client.events.create({
      id: event.contactId,
      event_name: event.name,
      created_at: event.createdAt,
      ...(event.metadata && Object.keys(event.metadata).length ? { metadata: event.metadata } : {}),
    } as never),
  );
}
