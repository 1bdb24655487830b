/** Types shared by the simulator's modules: configuration, stored records, journal and webhook shapes. */

export type Region = "US" | "EU" | "AU";
export type Role = "user" | "lead";
export type AttributeModel = "contact" | "company";
export type DataType = "string" | "integer" | "float" | "boolean" | "date" | "datetime";
export type CustomValue = string | number | boolean;
export type WebhookDelivery = "auto" | "manual";
export type FaultPhase = "before" | "after";

/** A fixed search lag in milliseconds, or a range each write draws from. */
export type SearchLag = number | { min: number; max: number };

export interface RateLimitConfig {
  /** Requests allowed per window and workspace. */
  limit: number;
  /** Length of a fixed window in milliseconds. */
  window_ms: number;
}

export interface FaultConfig {
  /** Share of REST requests answered 500 or 503. */
  error_rate: number;
  /** Share of REST requests answered 429 although the budget is not spent. */
  rate_limit_rate: number;
  /** Delay added to every REST request, drawn uniformly in [min, max]. */
  latency_ms: { min: number; max: number };
  /** "before": a faulted request changes nothing; "after": the change is applied, then the error is returned. */
  fault_phase: FaultPhase;
}

export interface SimConfig {
  client_id: string;
  client_secret: string;
  webhook_url: string;
  webhook_delivery: WebhookDelivery;
  webhooks_enabled: boolean;
  /** Allow-list of topics; null sends every topic. */
  webhook_topics: string[] | null;
  /**
   * How long a created or changed contact stays invisible to search: a fixed number of milliseconds, or a range from
   * which each write draws its own lag (seeded, so runs repeat).
   */
  search_lag_ms: SearchLag;
  rate_limit: RateLimitConfig;
  faults: FaultConfig;
  /** OAuth consent answers `error=access_denied`. */
  oauth_deny: boolean;
  /** Workspace that consents in the OAuth flow; null means the first workspace. */
  oauth_app_id: string | null;
  /** Seed of the PRNG behind fault injection. */
  seed: number;
}

/** A partial configuration update: nested objects merge. */
export interface ConfigPatch extends Partial<Omit<SimConfig, "rate_limit" | "faults">> {
  rate_limit?: Partial<RateLimitConfig>;
  faults?: Partial<Omit<FaultConfig, "latency_ms">> & { latency_ms?: Partial<FaultConfig["latency_ms"]> };
}

export interface ContactRecord {
  id: string;
  role: Role;
  external_id: string | null;
  email: string | null;
  phone: string | null;
  name: string | null;
  avatar: string | null;
  owner_id: string | null;
  unsubscribed_from_emails: boolean;
  signed_up_at: number | null;
  last_seen_at: number | null;
  custom_attributes: Record<string, CustomValue>;
  created_at_ms: number;
  updated_at_ms: number;
  archived: boolean;
  /** When search starts to see this version of the contact (Intercom's search is eventually consistent). */
  searchable_at_ms: number;
  /** What Intercom records about the contact by itself; the REST API cannot write these. */
  observed: ObservedContactFields;
}

/** A social profile as listed in a contact's `social_profiles`. */
export interface SocialProfile {
  name: string;
  url: string;
}

/** A contact's location, as Intercom resolves it from the contact's sessions. */
export interface ContactLocation {
  country: string | null;
  region: string | null;
  city: string | null;
  country_code: string | null;
  continent_code: string | null;
}

/**
 * The Contact fields Intercom fills from the Messenger, emails and its own UI (read-only through the REST API):
 * activity times (Unix seconds), browser and device, location, social profiles, UTM parameters, notes.
 */
export interface ObservedContactFields {
  /** The phone in E.164, as webhooks carry it; null = the phone as written. */
  formatted_phone: string | null;
  has_hard_bounced: boolean;
  marked_email_as_spam: boolean;
  last_replied_at: number | null;
  last_contacted_at: number | null;
  last_email_opened_at: number | null;
  last_email_clicked_at: number | null;
  language_override: string | null;
  browser: string | null;
  browser_version: string | null;
  browser_language: string | null;
  os: string | null;
  location: ContactLocation;
  android_app_name: string | null;
  android_app_version: string | null;
  android_device: string | null;
  android_os_version: string | null;
  android_sdk_version: string | null;
  android_last_seen_at: number | null;
  ios_app_name: string | null;
  ios_app_version: string | null;
  ios_device: string | null;
  ios_os_version: string | null;
  ios_sdk_version: string | null;
  ios_last_seen_at: number | null;
  social_profiles: SocialProfile[];
  utm_campaign: string | null;
  utm_content: string | null;
  utm_medium: string | null;
  utm_source: string | null;
  utm_term: string | null;
  referrer: string | null;
  /** Ids of the notes admins wrote on the contact, oldest first. */
  note_ids: string[];
}

export interface CompanyRecord {
  id: string;
  company_id: string;
  name: string | null;
  plan: string | null;
  size: number | null;
  website: string | null;
  industry: string | null;
  monthly_spend: number;
  remote_created_at: number | null;
  last_request_at: number | null;
  /** Messenger sessions of the company's users, counted by Intercom (not writable through the API). */
  session_count: number;
  /** Tags applied to the company (in Intercom's UI or by bulk tagging), in tagging order. */
  tag_ids: string[];
  /** Segments the company belongs to. */
  segment_ids: string[];
  custom_attributes: Record<string, CustomValue>;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface SegmentRecord {
  id: string;
  name: string;
  person_type: "contact" | "user";
  created_at: number;
  updated_at: number;
}

export interface TagRecord {
  id: string;
  name: string;
}

/** A contact-initiated conversation (only what the conversation search and `conversation.user.created` show). */
export interface ConversationRecord {
  id: string;
  part_id: string;
  contact_id: string;
  /** Unix seconds. */
  created_at: number;
  body: string;
}

export interface EventRecord {
  id: string;
  contact_id: string;
  event_name: string;
  created_at: number;
  metadata: Record<string, unknown>;
}

export interface CustomAttributeRecord {
  id: number;
  name: string;
  model: AttributeModel;
  data_type: DataType;
  description: string | null;
  messenger_writable: boolean;
  created_at: number;
  admin_id: string;
}

export interface JournalEntry {
  seq: number;
  /** Arrival time, milliseconds. */
  at: number;
  /** Workspace of the bearer token; null when the request was not authenticated. */
  app_id: string | null;
  region: Region;
  method: string;
  /** Path without the region prefix. */
  path: string;
  query: Record<string, string>;
  /** The Intercom-Version header sent, so tests can check the client pins one. */
  intercom_version: string | null;
  /** Final status; 0 while the request is in flight. */
  status: number;
  request_body: unknown;
}

export interface NotificationEnvelope {
  type: "notification_event";
  app_id: string;
  data: { type: "notification_event_data"; item: unknown };
  links: Record<string, never>;
  /** `notif_<uuid>`; null for `ping`, as Intercom sends it. */
  id: string | null;
  topic: string;
  delivery_status: "pending";
  delivery_attempts: number;
  delivered_at: 0;
  first_sent_at: number;
  created_at: number;
  self: null;
}

export interface DeliveryRecord {
  id: string | null;
  topic: string;
  app_id: string;
  delivery_attempts: number;
  /** HTTP status of the receiver; 0 when the POST itself failed. */
  status: number;
  error?: string;
  at: number;
}

export interface WorkspaceInit {
  app_id?: string;
  name?: string;
  region?: Region;
  token?: string;
  rate_limit?: Partial<RateLimitConfig>;
}

export interface WorkspaceInfo {
  app_id: string;
  name: string;
  region: Region;
  token: string;
}

/** What `POST /_sim/webhooks/emit` and `sim.emit()` accept. */
export interface EmitRequest {
  app_id: string;
  topic: string;
  contact_id?: string;
  company_id?: string;
  /** `contact.merged`: the contact merged away into `contact_id`. */
  from_contact_id?: string;
  /** `ping`: the message; `conversation.user.created`: the first message's body. */
  message?: string;
  /** `conversation.user.created`: when the conversation started (Unix seconds; default now), for past ones. */
  created_at?: number;
  /** A raw `data.item`, sent as given (any topic). */
  item?: unknown;
}
