/**
 * The parts of Intercom's contacts and companies the connector reads, and their reduction from REST answers (pure).
 * REST objects are far wider (tags, notes, location…); only these fields reach the identity map: every attribute a
 * mapping may write is read back, so a write Intercom already holds is recognised as a no-op.
 */

/** The parts of an Intercom contact the connector reads. */
export interface ContactSummary {
  id: string;
  role: string | null;
  external_id: string | null;
  email: string | null;
  name: string | null;
  phone: string | null;
  signed_up_at: number | null;
  /** The avatar's image URL (Intercom answers `{type: "avatar", image_url}`; writes take the URL). */
  avatar: string | null;
  owner_id: string | null;
  last_seen_at: number | null;
  unsubscribed_from_emails: boolean | null;
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
  size: number | null;
  website: string | null;
  industry: string | null;
  updated_at: number | null;
  custom_attributes: Record<string, unknown>;
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
    avatar: avatarUrl(contact.avatar),
    // 2.16 gives the admin id as a string; older versions as a number.
    owner_id: contact.owner_id === undefined || contact.owner_id === null ? null : String(contact.owner_id),
    last_seen_at: (contact.last_seen_at as number | undefined) ?? null,
    unsubscribed_from_emails: (contact.unsubscribed_from_emails as boolean | undefined) ?? null,
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
    size: (company.size as number | undefined) ?? null,
    website: (company.website as string | undefined) ?? null,
    industry: (company.industry as string | undefined) ?? null,
    updated_at: (company.updated_at as number | undefined) ?? null,
    custom_attributes: (company.custom_attributes as Record<string, unknown> | undefined) ?? {},
  };
}

function avatarUrl(avatar: unknown): string | null {
  if (typeof avatar === "string") return avatar || null;
  const url = (avatar as { image_url?: unknown } | null | undefined)?.image_url;
  return typeof url === "string" && url ? url : null;
}
