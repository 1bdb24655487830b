/**
 * How stored records look on the wire: REST responses (Unix-second timestamps) and webhook items
 * (contact and company `created_at`/`updated_at` as ISO-8601 strings, as Intercom really sends them).
 */
import type { CompanyRecord, ContactRecord, EventRecord, SegmentRecord, TagRecord } from "./types";

/** Unix seconds from milliseconds. */
export const seconds = (ms: number): number => Math.floor(ms / 1000);

/** Intercom's webhook time format: `2026-01-10T04:22:28.240+00:00`. */
export function isoTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace("Z", "+00:00");
}

/** Intercom lists at most this many tags/companies inside a contact; the rest are behind the list's url. */
const EMBEDDED_LIST_LIMIT = 10;

function embeddedList(ids: readonly string[], type: string, itemPath: string, listUrl: string) {
  return {
    type: "list",
    data: ids.slice(0, EMBEDDED_LIST_LIMIT).map((id) => ({ type, id, url: `/${itemPath}/${id}` })),
    url: listUrl,
    total_count: ids.length,
    has_more: ids.length > EMBEDDED_LIST_LIMIT,
  };
}

const emptyList = (url: string) => ({ type: "list", data: [], url, total_count: 0, has_more: false });

export interface ContactLinks {
  appId: string;
  tagIds: readonly string[];
  companyIds: readonly string[];
}

/** The Contact object of `GET /contacts/{id}` (Intercom-Version 2.16). */
export function contactJson(c: ContactRecord, links: ContactLinks) {
  return contactShape(c, links, seconds(c.created_at_ms), seconds(c.updated_at_ms), {});
}

/** The Contact object inside webhook items: ISO timestamps and the webhook-only fields seen in recordings. */
export function webhookContactJson(c: ContactRecord, links: ContactLinks) {
  const json = contactShape(c, links, isoTimestamp(c.created_at_ms), isoTimestamp(c.updated_at_ms), {
    sms_consent: false,
    unsubscribed_from_sms: false,
  });
  return { ...json, formatted_phone: c.observed.formatted_phone ?? c.phone };
}

function contactShape<T>(
  c: ContactRecord,
  links: ContactLinks,
  createdAt: T,
  updatedAt: T,
  extra: Record<string, unknown>,
) {
  const base = `/contacts/${c.id}`;
  const o = c.observed;
  return {
    type: "contact",
    id: c.id,
    workspace_id: links.appId,
    external_id: c.external_id,
    role: c.role,
    email: c.email,
    email_domain: c.email?.split("@")[1]?.toLowerCase() ?? null,
    phone: c.phone,
    name: c.name,
    avatar: c.avatar === null ? null : { type: "avatar", image_url: c.avatar },
    owner_id: c.owner_id,
    social_profiles: {
      type: "list",
      data: o.social_profiles.map((profile) => ({ type: "social_profile", name: profile.name, url: profile.url })),
    },
    has_hard_bounced: o.has_hard_bounced,
    marked_email_as_spam: o.marked_email_as_spam,
    unsubscribed_from_emails: c.unsubscribed_from_emails,
    created_at: createdAt,
    updated_at: updatedAt,
    signed_up_at: c.signed_up_at,
    last_seen_at: c.last_seen_at,
    last_replied_at: o.last_replied_at,
    last_contacted_at: o.last_contacted_at,
    last_email_opened_at: o.last_email_opened_at,
    last_email_clicked_at: o.last_email_clicked_at,
    language_override: o.language_override,
    browser: o.browser,
    browser_version: o.browser_version,
    browser_language: o.browser_language,
    os: o.os,
    location: { type: "location", ...o.location },
    android_app_name: o.android_app_name,
    android_app_version: o.android_app_version,
    android_device: o.android_device,
    android_os_version: o.android_os_version,
    android_sdk_version: o.android_sdk_version,
    android_last_seen_at: o.android_last_seen_at,
    ios_app_name: o.ios_app_name,
    ios_app_version: o.ios_app_version,
    ios_device: o.ios_device,
    ios_os_version: o.ios_os_version,
    ios_sdk_version: o.ios_sdk_version,
    ios_last_seen_at: o.ios_last_seen_at,
    custom_attributes: { ...c.custom_attributes },
    tags: embeddedList(links.tagIds, "tag", "tags", `${base}/tags`),
    notes: embeddedList(o.note_ids, "note", "notes", `${base}/notes`),
    companies: embeddedList(links.companyIds, "company", "companies", `${base}/companies`),
    opted_out_subscription_types: emptyList(`${base}/subscriptions`),
    opted_in_subscription_types: emptyList(`${base}/subscriptions`),
    utm_campaign: o.utm_campaign,
    utm_content: o.utm_content,
    utm_medium: o.utm_medium,
    utm_source: o.utm_source,
    utm_term: o.utm_term,
    referrer: o.referrer,
    ...extra,
    enabled_push_messaging: null,
  };
}

/** `{id, external_id, type, deleted}` of `DELETE /contacts/{id}` and the `contact.deleted` item. */
export function deletedContactJson(c: Pick<ContactRecord, "id" | "external_id">) {
  return { id: c.id, external_id: c.external_id, type: "contact", deleted: true };
}

/** `POST /contacts/{id}/archive|unarchive` response. */
export function archivedContactJson(c: ContactRecord) {
  return { id: c.id, external_id: c.external_id, type: "contact", archived: c.archived };
}

export interface CompanyLinks {
  appId: string;
  userCount: number;
  /** Id of the plan named `company.plan`, when it has one. */
  planId: string | null;
  /** The company's tags and segments, resolved from its ids. */
  tags: readonly TagRecord[];
  segments: readonly SegmentRecord[];
}

const segmentJson = (s: SegmentRecord) => ({
  type: "segment",
  id: s.id,
  name: s.name,
  created_at: s.created_at,
  updated_at: s.updated_at,
  person_type: s.person_type,
});

const planJson = (c: CompanyRecord, links: CompanyLinks) =>
  c.plan === null || links.planId === null ? null : { type: "plan", id: links.planId, name: c.plan };

/** The Company object of the REST API. */
export function companyJson(c: CompanyRecord, links: CompanyLinks) {
  return {
    type: "company",
    company_id: c.company_id,
    id: c.id,
    app_id: links.appId,
    name: c.name,
    remote_created_at: c.remote_created_at,
    created_at: seconds(c.created_at_ms),
    updated_at: seconds(c.updated_at_ms),
    last_request_at: c.last_request_at,
    monthly_spend: c.monthly_spend,
    session_count: c.session_count,
    user_count: links.userCount,
    size: c.size,
    website: c.website,
    industry: c.industry,
    tags: { type: "tag.list", tags: links.tags.map((tag) => tagJson(tag)) },
    segments: { type: "segment.list", segments: links.segments.map(segmentJson) },
    plan: planJson(c, links) ?? {},
    custom_attributes: { ...c.custom_attributes },
  };
}

/** The Company item of `company.created|updated` webhooks (recorded shape: ISO times, `plan` null when unset, `tag_ids`). */
export function webhookCompanyJson(c: CompanyRecord, links: CompanyLinks) {
  return {
    type: "company",
    id: c.id,
    name: c.name,
    app_id: links.appId,
    plan: planJson(c, links),
    company_id: c.company_id,
    remote_created_at: c.remote_created_at,
    created_at: isoTimestamp(c.created_at_ms),
    updated_at: isoTimestamp(c.updated_at_ms),
    last_request_at: c.last_request_at,
    size: c.size,
    website: c.website,
    industry: c.industry,
    monthly_spend: c.monthly_spend,
    session_count: c.session_count,
    user_count: links.userCount,
    custom_attributes: { ...c.custom_attributes },
    tag_ids: links.tags.map((tag) => tag.id),
  };
}

/** The company inside `company.contact.attached|detached` items (recorded shape: `plan_id` instead of `plan`). */
export function attachmentCompanyJson(c: CompanyRecord, links: CompanyLinks) {
  return {
    type: "company",
    id: c.id,
    company_id: c.company_id,
    app_id: links.appId,
    name: c.name,
    plan_id: c.plan === null ? null : links.planId,
    remote_created_at: c.remote_created_at,
    created_at: isoTimestamp(c.created_at_ms),
    updated_at: isoTimestamp(c.updated_at_ms),
    last_request_at: c.last_request_at,
    monthly_spend: c.monthly_spend,
    session_count: c.session_count,
    user_count: links.userCount,
    tag_ids: links.tags.map((tag) => tag.id),
    custom_attributes: { ...c.custom_attributes },
  };
}

/** `{id, type, deleted}`: the minimal `company.deleted` item (no company_id, as recorded). */
export function deletedCompanyJson(c: Pick<CompanyRecord, "id">) {
  return { id: c.id, type: "company", deleted: true };
}

/** A tag, optionally with the tagging's `applied_at`/`applied_by`. */
export function tagJson(tag: TagRecord, applied?: { at: number; adminId: string }) {
  const json = { type: "tag", id: tag.id, name: tag.name };
  return applied ? { ...json, applied_at: applied.at, applied_by: { type: "admin", id: applied.adminId } } : json;
}

/** The `event.created` item (recorded shape). */
export function webhookEventJson(e: EventRecord, contact: Pick<ContactRecord, "id" | "external_id" | "email">) {
  return {
    type: "event",
    event_name: e.event_name,
    id: e.id,
    intercom_user_id: contact.id,
    user_id: contact.external_id,
    email: contact.email,
    metadata: e.metadata,
    created_at: e.created_at,
    ext_metadata: {},
  };
}

export interface ConversationInput {
  id: string;
  partId: string;
  createdAt: number;
  body: string;
  appId: string;
}

/** A contact-initiated Conversation (API model ≥ 2.5, Unix-int times) for `conversation.user.created`. */
export function conversationJson(contact: ContactRecord, input: ConversationInput) {
  return {
    type: "conversation",
    id: input.id,
    title: null,
    created_at: input.createdAt,
    updated_at: input.createdAt,
    waiting_since: input.createdAt,
    snoozed_until: null,
    open: true,
    state: "open",
    read: false,
    priority: "not_priority",
    admin_assignee_id: null,
    team_assignee_id: null,
    tags: { type: "tag.list", tags: [] },
    conversation_rating: null,
    source: {
      type: "conversation",
      id: input.partId,
      delivered_as: "customer_initiated",
      subject: "",
      body: input.body,
      author: { type: contact.role, id: contact.id, name: contact.name, email: contact.email ?? "" },
      attachments: [],
      url: null,
      redacted: false,
    },
    contacts: {
      type: "contact.list",
      contacts: [{ type: "contact", id: contact.id, external_id: contact.external_id }],
    },
    teammates: { type: "admin.list", admins: [] },
    custom_attributes: {},
    first_contact_reply: { created_at: input.createdAt, type: "conversation", url: null },
    sla_applied: null,
    statistics: null,
    conversation_parts: { type: "conversation_part.list", conversation_parts: [], total_count: 0 },
    linked_objects: { type: "list", data: [], total_count: 0, has_more: false },
    ai_agent_participated: false,
    links: { conversation_web: `https://app.intercom.com/a/apps/${input.appId}/conversations/${input.id}` },
  };
}
