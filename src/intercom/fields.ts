/**
 * Intercom attribute values keyed by attribute path (`name`, `custom_attributes.health`): the form in which the
 * connector compares what it wants Intercom to hold with what Intercom is known to hold (`intercom_links.remote_state`).
 */
import { CUSTOM_PREFIX } from "./attributes";
import type { CompanySummary, ContactSummary } from "./objects";

export type FieldValue = string | number | boolean;
export type Fields = Record<string, FieldValue>;

/**
 * The REST body for `fields`: `custom_attributes.x` paths nested under `custom_attributes`; each path of `clears` is
 * sent as `null` (Intercom clears it).
 */
export function requestBody(fields: Fields, clears: readonly string[] = []): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const custom: Record<string, FieldValue | null> = {};
  const entries: Array<[string, FieldValue | null]> = [
    ...Object.entries(fields),
    ...clears.map((path): [string, null] => [path, null]),
  ];
  for (const [path, value] of entries) {
    if (path.startsWith(CUSTOM_PREFIX)) custom[path.slice(CUSTOM_PREFIX.length)] = value;
    else body[path] = value;
  }
  if (Object.keys(custom).length) body.custom_attributes = custom;
  return body;
}

/** A contact's values by path, as `remote_state` records them. */
export function contactFields(contact: ContactSummary): Record<string, unknown> {
  return {
    email: contact.email,
    external_id: contact.external_id,
    role: contact.role,
    name: contact.name,
    phone: contact.phone,
    signed_up_at: contact.signed_up_at,
    avatar: contact.avatar,
    owner_id: contact.owner_id,
    last_seen_at: contact.last_seen_at,
    unsubscribed_from_emails: contact.unsubscribed_from_emails,
    ...prefixed(contact.custom_attributes),
  };
}

/** A company's values by path, as `remote_state` records them. */
export function companyFields(company: CompanySummary): Record<string, unknown> {
  return {
    company_id: company.company_id,
    name: company.name,
    plan: company.plan,
    monthly_spend: company.monthly_spend,
    remote_created_at: company.remote_created_at,
    size: company.size,
    website: company.website,
    industry: company.industry,
    ...prefixed(company.custom_attributes),
  };
}

function prefixed(custom: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(custom).map(([name, value]) => [`${CUSTOM_PREFIX}${name}`, value]));
}
