/**
 * Examples for the OpenAPI description (`GET /openapi.json`, rendered at `/docs`): one realistic value per request
 * and response shape, attached to the schemas with `.openapi({ example })`. They are checked against their schemas
 * by test/openapi-examples.test.ts.
 */
import { problemBody } from "./problem";

const CONNECTION_ID = "2b0c6d6e-3f7e-4c52-9a51-1f0d3c8e9a10";
const AT = "2026-11-28T09:58:02.000Z";

export const EXAMPLES = {
  connectionId: CONNECTION_ID,
  createConnection: { name: "Acme Intercom", access_token: "<an Intercom access token>", region: "EU" },
  connectionTest: { ok: true, app: { id: "abc123de", name: "Acme", region: "EU" } },
  startOAuth: { name: "Acme Intercom" },
  oauthStart: {
    authorize_url:
      "https://app.intercom.com/oauth?client_id=dev-client-id&state=eyJhbGciOiJIUzI1NiJ9.example&redirect_uri=https%3A%2F%2Fconnector.example.com%2Foauth%2Fintercom%2Fcallback",
    expires_at: "2026-11-28T10:08:02.000Z",
  },
  syncLogPage: {
    items: [
      {
        id: "18231",
        direction: "out",
        outcome: "synced",
        object_type: "user",
        object_id: "u-42",
        intercom_id: "6a1f0c2b9e8d7f6a5b4c3d2e",
        email: "ada@example.com",
        action: "update",
        detail: "name, custom_attributes.health",
        created_at: AT,
      },
    ],
    next_cursor: "18231",
  },
  preview: {
    user_id: "u-42",
    email: "ada@example.com",
    intercom_contact_id: "6a1f0c2b9e8d7f6a5b4c3d2e",
    requests: [
      {
        method: "PUT",
        url: "/contacts/6a1f0c2b9e8d7f6a5b4c3d2e",
        body: { name: "Ada Lovelace", custom_attributes: { health: 0.82 } },
      },
    ],
    notes: ["the contact is known from the identity map: no search"],
    warnings: [],
  },
  resyncJob: {
    id: "5d3c1e9a-7b2f-4a61-8e0d-2c4b6a8f1e37",
    connection_id: CONNECTION_ID,
    state: "running" as const,
    total: 1250,
    queued: 1000,
    synced: 412,
    noop: 301,
    skipped: 12,
    failed: 1,
    paged_all: false,
    detail: null,
    started_at: "2026-11-28T09:50:00.000Z",
    finished_at: null,
    updated_at: AT,
    eta_seconds: 250,
  },
  importJob: {
    id: "9b1f4c2e-3d5a-4e6f-8a7b-1c2d3e4f5a6b",
    connection_id: CONNECTION_ID,
    state: "running" as const,
    objects: ["companies" as const, "contacts" as const],
    since: null,
    include_tags: false,
    include_conversations: false,
    conversations_since: null,
    include_events: false,
    phase: "contacts" as const,
    phases: [
      { object: "companies" as const, total: 320, done: 320, skipped: 4, failed: 0, calls: 7 },
      { object: "contacts" as const, total: 2000, done: 750, skipped: 12, failed: 0, calls: 5 },
    ],
    detail: null,
    started_at: "2026-11-28T09:50:00.000Z",
    finished_at: null,
    updated_at: AT,
    eta_seconds: 40,
  },
  deadLetterPage: {
    items: [
      {
        id: "7",
        queue: "intercom-outbound",
        body: { kind: "user", connection_id: CONNECTION_ID, local_pk: 42 },
        created_at: AT,
        replayed_at: null,
      },
    ],
    next_cursor: null,
  },
  replay: { replayed: 1 },
  erasureAccepted: { id: "7d1f3c7e-5a2b-4f0e-9c1d-2e3f4a5b6c7d", state: "running" },
  erasure: {
    id: "7d1f3c7e-5a2b-4f0e-9c1d-2e3f4a5b6c7d",
    state: "done",
    origin: "api",
    requested_by: "ops@cdp.example.com",
    digest: "erased:Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cQ",
    steps: [
      { name: "contacts", state: "done", count: 1 },
      { name: "actions", state: "done", count: 3 },
      { name: "events", state: "done", count: 120 },
      { name: "graph", state: "done", count: 2 },
      { name: "sync_logs", state: "done", count: 41 },
      { name: "dead_letters", state: "done", count: 0 },
    ],
    created_at: AT,
    finished_at: "2026-11-28T09:58:09.000Z",
  },
  healthz: { ok: true },
  uninstall: { app_id: "abc123de" },
  identify: {
    user_id: "u-42",
    email: "ada@example.com",
    properties: { full_name: "Ada Lovelace", plan: "pro", health: 0.82 },
    segments: ["beta"],
  },
  user: {
    user_id: "u-42",
    email: "ada@example.com",
    properties: { full_name: "Ada Lovelace", plan: "pro", health: 0.82 },
    segments: ["beta"],
    account_ids: ["acme"],
    intercom_contact_id: "6a1f0c2b9e8d7f6a5b4c3d2e",
    created_at: "2026-01-10T04:22:28.240Z",
    updated_at: AT,
  },
  eventsPage: {
    items: [{ name: "Chat started", properties: {}, occurred_at: AT, source: "intercom" }],
    next_cursor: null,
  },
  accountUpsert: { name: "Acme Inc.", properties: { plan: "Scale", mrr: 1200 } },
  account: {
    account_id: "acme",
    name: "Acme Inc.",
    properties: { plan: "Scale", mrr: 1200 },
    user_ids: ["u-42"],
    members: [
      { user_id: "u-42", email: "ada@example.com" },
      { user_id: null, email: "lead@example.com" },
    ],
    intercom_company_id: "65f1a2b3c4d5e6f7a8b9c0d1",
    created_at: "2026-01-10T04:22:28.240Z",
    updated_at: AT,
  },
  membership: { account_id: "acme", user_id: "u-42", linked: true },
  actionRequest: {
    user_id: "u-42",
    type: "trigger_event",
    event: { name: "invited-teammate", metadata: { seats: 3 } },
    idempotency_key: "invite-u-42-2026-11-28",
  },
  actionAccepted: { id: "act_01JD3X9Z5Q" },
  action: {
    id: "act_01JD3X9Z5Q",
    type: "trigger_event",
    status: "done",
    detail: null,
    attempts: 1,
    created_at: AT,
    updated_at: AT,
  },
  webhook: {
    type: "notification_event",
    app_id: "abc123de",
    id: "notif_0b6a5c1e-1d2f-4c3b-9a8e-7f6d5c4b3a21",
    topic: "contact.user.updated",
    created_at: 1764323882,
    delivery_attempts: 1,
    data: {
      type: "notification_event_data",
      item: { type: "contact", id: "6a1f0c2b9e8d7f6a5b4c3d2e", external_id: "u-42", email: "ada@example.com" },
    },
  },
} as const;

const PROBLEM_EXAMPLES: Record<number, { detail: string; errors?: Array<{ path: string; message: string }> }> = {
  400: { detail: "The body is not valid JSON." },
  401: { detail: "The token has expired." },
  403: { detail: 'This token lacks the "admin" scope.' },
  404: { detail: `No connection ${CONNECTION_ID} in this workspace.` },
  405: { detail: "This route answers GET, PATCH, DELETE." },
  409: { detail: "The destination is switched off: turn it on first." },
  413: { detail: "The body is larger than 1 MiB." },
  422: {
    detail: "The request is not valid; see `errors`.",
    errors: [
      {
        path: "destination.mappings.contact.0.type",
        message: '"signed_up_at" is a date attribute; "boolean" does not fit it',
      },
    ],
  },
  502: { detail: "Intercom did not answer GET /me (HTTP 500); try again." },
  503: { detail: "Intercom is rate limiting this workspace; try again shortly." },
};

/** An example problem+json body for `status`, or undefined for a status without one. */
export function problemExample(status: number) {
  const example = PROBLEM_EXAMPLES[status];
  return example && problemBody(status, example.detail, example.errors);
}
