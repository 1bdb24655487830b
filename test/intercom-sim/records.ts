/** New records as Intercom creates them: every field present, nothing observed yet. */
import type { CompanyRecord, ContactRecord, ObservedContactFields, Role } from "./types";

/** A contact nobody has seen yet: no activity, device, location, social profiles, UTM parameters or notes. */
export function blankObservedFields(): ObservedContactFields {
  return {
    formatted_phone: null,
    has_hard_bounced: false,
    marked_email_as_spam: false,
    last_replied_at: null,
    last_contacted_at: null,
    last_email_opened_at: null,
    last_email_clicked_at: null,
    language_override: null,
    browser: null,
    browser_version: null,
    browser_language: null,
    os: null,
    location: { country: null, region: null, city: null, country_code: null, continent_code: null },
    android_app_name: null,
    android_app_version: null,
    android_device: null,
    android_os_version: null,
    android_sdk_version: null,
    android_last_seen_at: null,
    ios_app_name: null,
    ios_app_version: null,
    ios_device: null,
    ios_os_version: null,
    ios_sdk_version: null,
    ios_last_seen_at: null,
    social_profiles: [],
    utm_campaign: null,
    utm_content: null,
    utm_medium: null,
    utm_source: null,
    utm_term: null,
    referrer: null,
    note_ids: [],
  };
}

/** A contact with only its identity set; the caller applies what the request wrote. */
export function blankContact(init: {
  id: string;
  role: Role;
  external_id: string | null;
  nowMs: number;
}): ContactRecord {
  return {
    id: init.id,
    role: init.role,
    external_id: init.external_id,
    email: null,
    phone: null,
    name: null,
    avatar: null,
    owner_id: null,
    unsubscribed_from_emails: false,
    signed_up_at: null,
    last_seen_at: null,
    custom_attributes: {},
    created_at_ms: init.nowMs,
    updated_at_ms: init.nowMs,
    archived: false,
    searchable_at_ms: init.nowMs,
    observed: blankObservedFields(),
  };
}

/** A company with only its ids set. */
export function blankCompany(init: { id: string; company_id: string; nowMs: number }): CompanyRecord {
  return {
    id: init.id,
    company_id: init.company_id,
    name: null,
    plan: null,
    size: null,
    website: null,
    industry: null,
    monthly_spend: 0,
    remote_created_at: null,
    last_request_at: null,
    session_count: 0,
    tag_ids: [],
    segment_ids: [],
    custom_attributes: {},
    created_at_ms: init.nowMs,
    updated_at_ms: init.nowMs,
  };
}
