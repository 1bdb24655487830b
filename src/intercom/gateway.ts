/**
 * The Intercom calls the destination makes, as plain functions over the SDK that return plain data. Each function is
 * exactly one HTTP request; failures are thrown as the SDK's errors (see errors.ts to classify them).
 */
import type { IntercomClient } from "intercom-client";
import { type Fields, requestBody } from "./fields";

/** The parts of an Intercom contact the connector reads. */
export interface ContactSummary {
  id: string;
  role: string | null;
  external_id: string | null;
  email: string | null;
  name: string | null;
  phone: string | null;
  signed_up_at: number | null;
  updated_at: number | null;
  custom_attributes: Record<string, unknown>;
}

/** The parts of an Intercom company the connector reads. */
export interface CompanySummary {
  id: string;
  company_id: string | null;
  name: string | null;
  plan: string | null;
  monthly_spend: number | null;
  remote_created_at: number | null;
  updated_at: number | null;
  custom_attributes: Record<string, unknown>;
}

/** Intercom's maximum page size. */
const MAX_PER_PAGE = 150;

/** Contacts whose `external_id` equals `userId` or whose email equals `email`, in one search. */
export async function searchContactsByIdentity(
  client: IntercomClient,
  identity: { userId: string | null; email: string | null },
): Promise<ContactSummary[]> {
  const filters: Array<{ field: string; operator: "="; value: string }> = [];
  if (identity.userId) filters.push({ field: "external_id", operator: "=", value: identity.userId });
  if (identity.email) filters.push({ field: "email", operator: "=", value: identity.email });
  if (filters.length === 0) return [];
  const query = filters.length === 1 ? filters[0]! : { operator: "OR" as const, value: filters };
  const page = await client.contacts.search({ query, pagination: { per_page: MAX_PER_PAGE } } as never);
  return page.data.map((contact) => contactSummary(contact));
}

/**
 * Contacts of several identities in one search (`external_id IN […] OR email IN […]`); `complete` is false when
 * the answer had more pages than the one read, so absence cannot be concluded.
 */
export async function searchContactsByIdentities(
  client: IntercomClient,
  identities: ReadonlyArray<{ userId: string | null; email: string | null }>,
): Promise<{ contacts: ContactSummary[]; complete: boolean }> {
  const ids = [...new Set(identities.map((identity) => identity.userId).filter((id): id is string => !!id))];
  const emails = [...new Set(identities.map((identity) => identity.email).filter((email): email is string => !!email))];
  const filters = [
    ...(ids.length ? [{ field: "external_id", operator: "IN" as const, value: ids }] : []),
    ...(emails.length ? [{ field: "email", operator: "IN" as const, value: emails }] : []),
  ];
  if (filters.length === 0) return { contacts: [], complete: true };
  const query = filters.length === 1 ? filters[0]! : { operator: "OR" as const, value: filters };
  const page = await client.contacts.search({ query, pagination: { per_page: MAX_PER_PAGE } } as never);
  const total = (page.response as { total_count?: number }).total_count ?? page.data.length;
  return { contacts: page.data.map((contact) => contactSummary(contact)), complete: total <= page.data.length };
}

/** `POST /contacts`. */
export async function createContact(client: IntercomClient, body: Record<string, unknown>): Promise<ContactSummary> {
  return contactSummary(await client.contacts.create(body as never));
}

/** `PUT /contacts/{id}` with only `fields`. */
export async function updateContact(
  client: IntercomClient,
  contactId: string,
  body: Record<string, unknown>,
): Promise<ContactSummary> {
  return contactSummary(await client.contacts.update({ contact_id: contactId, ...body } as never));
}

/** `POST /contacts/{id}/companies`. */
export async function attachCompany(client: IntercomClient, contactId: string, companyId: string): Promise<void> {
  await client.companies.attachContact({ contact_id: contactId, id: companyId });
}

/** `DELETE /contacts/{id}/companies/{company id}`. */
export async function detachCompany(client: IntercomClient, contactId: string, companyId: string): Promise<void> {
  await client.companies.detachContact({ contact_id: contactId, company_id: companyId });
}

/** `POST /companies`: create or update by `company_id`. */
export async function upsertCompany(client: IntercomClient, fields: Fields): Promise<CompanySummary> {
  return companySummary(await client.companies.createOrUpdate(requestBody(fields) as never));
}

/** `GET /companies?company_id=`: the company, or null when Intercom has none with that id. */
export async function findCompany(client: IntercomClient, companyId: string): Promise<CompanySummary | null> {
  try {
    const found = (await client.companies.retrieve({ company_id: companyId })) as unknown as {
      type?: string;
      data?: unknown[];
    };
    // 2.16 answers a list wrapper; older versions a bare company.
    const company = found.type === "list" ? found.data?.[0] : found;
    return company ? companySummary(company) : null;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return null;
    throw error;
  }
}

/** `GET /tags`: every tag of the workspace. */
export async function listTags(client: IntercomClient): Promise<Array<{ id: string; name: string }>> {
  const list = (await client.tags.list()) as unknown as { data?: Array<{ id: string | number; name: string }> };
  return (list.data ?? []).map((tag) => ({ id: String(tag.id), name: tag.name }));
}

/** `POST /tags {name}`: creates the tag or returns the existing one (names are case-insensitive). */
export async function createOrGetTag(client: IntercomClient, name: string): Promise<{ id: string; name: string }> {
  const tag = (await client.tags.create({ name } as never)) as unknown as { id: string | number; name: string };
  return { id: String(tag.id), name: tag.name };
}

/** `POST /contacts/{id}/tags`. */
export async function tagContact(client: IntercomClient, contactId: string, tagId: string): Promise<void> {
  await client.tags.tagContact({ contact_id: contactId, id: tagId });
}

/** `DELETE /contacts/{id}/tags/{tag id}`. */
export async function untagContact(client: IntercomClient, contactId: string, tagId: string): Promise<void> {
  await client.tags.untagContact({ contact_id: contactId, tag_id: tagId });
}

/** `POST /events` for a contact by Intercom id. */
export async function createEvent(
  client: IntercomClient,
  event: { contactId: string; name: string; createdAt: number; metadata?: Record<string, unknown> },
): Promise<void> {
  await client.events.create({
    id: event.contactId,
    event_name: event.name,
    created_at: event.createdAt,
    ...(event.metadata && Object.keys(event.metadata).length ? { metadata: event.metadata } : {}),
  } as never);
}

/** A REST contact reduced to what the connector reads. */
export function contactSummary(raw: unknown): ContactSummary {
  const contact = raw as Record<string, unknown>;
  return {
    id: String(contact.id),
    role: (contact.role as string | undefined) ?? null,
    external_id: (contact.external_id as string | undefined) ?? null,
    email: typeof contact.email === "string" && contact.email ? contact.email.toLowerCase() : null,
    name: (contact.name as string | undefined) ?? null,
    phone: (contact.phone as string | undefined) ?? null,
    signed_up_at: (contact.signed_up_at as number | undefined) ?? null,
    updated_at: (contact.updated_at as number | undefined) ?? null,
    custom_attributes: (contact.custom_attributes as Record<string, unknown> | undefined) ?? {},
  };
}

/** A REST company reduced to what the connector reads (`plan` as its name). */
export function companySummary(raw: unknown): CompanySummary {
  const company = raw as Record<string, unknown>;
  const plan = company.plan as { name?: string } | string | undefined | null;
  return {
    id: String(company.id),
    company_id: (company.company_id as string | undefined) ?? null,
    name: (company.name as string | undefined) ?? null,
    plan: typeof plan === "string" ? plan : (plan?.name ?? null),
    monthly_spend: (company.monthly_spend as number | undefined) ?? null,
    remote_created_at: (company.remote_created_at as number | undefined) ?? null,
    updated_at: (company.updated_at as number | undefined) ?? null,
    custom_attributes: (company.custom_attributes as Record<string, unknown> | undefined) ?? {},
  };
}
