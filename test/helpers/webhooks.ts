/**
 * Intercom webhooks in tests: recorded-shape fixtures with fresh ids, signed with the test client secret, posted to
 * the real route; polling for what the background queue consumer (about 1 s after a send) wrote; and a workspace with
 * one connection whose read API answers what was captured.
 */
import { env, exports } from "cloudflare:workers";
import type { DestinationSettings, SourceSettings } from "../../src/db/schema";
import companyContactAttached from "../fixtures/intercom/company.contact.attached.json";
import companyContactDetached from "../fixtures/intercom/company.contact.detached.json";
import companyCreated from "../fixtures/intercom/company.created.json";
import companyDeleted from "../fixtures/intercom/company.deleted.json";
import companyUpdated from "../fixtures/intercom/company.updated.json";
import contactDeleted from "../fixtures/intercom/contact.deleted.json";
import contactEmailUpdated from "../fixtures/intercom/contact.email.updated.json";
import contactLeadAddedEmail from "../fixtures/intercom/contact.lead.added_email.json";
import contactLeadCreated from "../fixtures/intercom/contact.lead.created.json";
import contactLeadSignedUp from "../fixtures/intercom/contact.lead.signed_up.json";
import contactLeadUpdated from "../fixtures/intercom/contact.lead.updated.json";
import contactMerged from "../fixtures/intercom/contact.merged.json";
import contactMergedWithoutMergedFrom from "../fixtures/intercom/contact.merged.without-merged-from.json";
import contactUserCreated from "../fixtures/intercom/contact.user.created.json";
import contactUserTagCreated from "../fixtures/intercom/contact.user.tag.created.json";
import contactUserUpdated from "../fixtures/intercom/contact.user.updated.json";
import conversationUserCreated from "../fixtures/intercom/conversation.user.created.json";
import conversationUserCreatedLegacy from "../fixtures/intercom/conversation.user.created.legacy.json";
import eventCreated from "../fixtures/intercom/event.created.json";
import ping from "../fixtures/intercom/ping.json";
import { authHeaders } from "./auth";
import { seedConnection } from "./connections";

export const WEBHOOK_URL = "https://connector.test/webhooks/intercom";

const FIXTURES = {
  "company.contact.attached": companyContactAttached,
  "company.contact.detached": companyContactDetached,
  "company.created": companyCreated,
  "company.deleted": companyDeleted,
  "company.updated": companyUpdated,
  "contact.deleted": contactDeleted,
  "contact.email.updated": contactEmailUpdated,
  "contact.lead.added_email": contactLeadAddedEmail,
  "contact.lead.created": contactLeadCreated,
  "contact.lead.signed_up": contactLeadSignedUp,
  "contact.lead.updated": contactLeadUpdated,
  "contact.merged": contactMerged,
  "contact.merged.without-merged-from": contactMergedWithoutMergedFrom,
  "contact.user.created": contactUserCreated,
  "contact.user.tag.created": contactUserTagCreated,
  "contact.user.updated": contactUserUpdated,
  "conversation.user.created": conversationUserCreated,
  "conversation.user.created.legacy": conversationUserCreatedLegacy,
  "event.created": eventCreated,
  ping,
} as const;

export type FixtureName = keyof typeof FIXTURES;

/** A notification envelope: the fixtures' shape, loosely typed so tests can edit any field. */
export type Envelope = {
  app_id: string;
  id: string | null;
  topic: string;
  created_at: number;
  data: { item: Item };
  [key: string]: unknown;
};
export type Item = Record<string, any>;

/** A deep copy of a fixture. */
export function fixture(name: FixtureName): Envelope {
  return structuredClone(FIXTURES[name]) as unknown as Envelope;
}

export interface NotificationOptions {
  appId: string;
  /** Defaults to a fresh `notif_<uuid>` (ping keeps its null). */
  id?: string | null;
  createdAt?: number;
  /** Edits the item in place (a deep copy of the fixture's). */
  edit?: (item: Item) => void;
}

/** A fixture as a new notification for `appId`, with a fresh id and the item edited. */
export function notification(name: FixtureName, options: NotificationOptions): Envelope {
  const envelope = fixture(name);
  envelope.app_id = options.appId;
  if (envelope.id !== null || options.id !== undefined)
    envelope.id = options.id === undefined ? `notif_${crypto.randomUUID()}` : options.id;
  if (options.createdAt !== undefined) envelope.created_at = options.createdAt;
  options.edit?.(envelope.data.item);
  return envelope;
}

/** A 24-hex-digit id like Intercom's. */
export function intercomId(): string {
  return crypto.randomUUID().replaceAll("-", "").slice(0, 24);
}

/** `sha1=<hex>` HMAC-SHA1 of the body with the test client secret (as Intercom signs). */
export async function sign(body: string | Uint8Array, secret: string = env.INTERCOM_CLIENT_SECRET): Promise<string> {
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-1" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, bytes));
  return `sha1=${[...mac].map((byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}

export interface PostOptions {
  /** The X-Hub-Signature to send: computed when undefined, omitted when null. */
  signature?: string | null;
  headers?: Record<string, string>;
}

/** The request Intercom would send: the body (an object as JSON; a string or bytes as is), its signature, Intercom's headers. */
export async function webhookRequest(payload: unknown, options: PostOptions = {}): Promise<Request> {
  const body = typeof payload === "string" || payload instanceof Uint8Array ? payload : JSON.stringify(payload);
  const signature = options.signature === undefined ? await sign(body) : options.signature;
  return new Request(WEBHOOK_URL, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json",
      "user-agent": "intercom-parrot-service-client/1.0",
      ...(signature === null ? {} : { "x-hub-signature": signature }),
      ...options.headers,
    },
    body,
  });
}

/** Posts a webhook to the Worker (the real route, queue and consumer). */
export async function postWebhook(payload: unknown, options: PostOptions = {}): Promise<Response> {
  return exports.default.fetch(await webhookRequest(payload, options));
}

/** Posts a notification and expects Intercom's 200. */
export async function deliver(envelope: Envelope): Promise<void> {
  const res = await postWebhook(envelope);
  if (res.status !== 200) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
}

/** Polls `probe` until it returns something truthy; fails after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what ?? "a condition"}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}

export interface SyncLogRow {
  id: number;
  connection_id: string | null;
  direction: string;
  outcome: string;
  object_type: string;
  object_id: string | null;
  intercom_id: string | null;
  action: string | null;
  detail: string | null;
}

/** The sync-log rows of a connection, oldest first. */
export async function syncLogsOf(connectionId: string): Promise<SyncLogRow[]> {
  const { results } = await env.DB.prepare("SELECT * FROM sync_logs WHERE connection_id = ? ORDER BY id")
    .bind(connectionId)
    .all<SyncLogRow>();
  return results;
}

/**
 * The counted outcomes of a connection (`noop`, `duplicate`, `ignored`, `dropped`: no rows, see src/lib/sync-log.ts),
 * summed over every window, keyed `direction.outcome`.
 */
export async function syncLogCountsOf(connectionId: string): Promise<Record<string, number>> {
  const { results } = await env.DB.prepare(
    "SELECT direction, outcome, sum(n) AS n FROM sync_log_counts WHERE connection_id = ? AND direction <> '*' GROUP BY direction, outcome",
  )
    .bind(connectionId)
    .all<{ direction: string; outcome: string; n: number }>();
  return Object.fromEntries(results.map((row) => [`${row.direction}.${row.outcome}`, row.n]));
}

/** Waits until the connection has at least `count` sync-log rows (of `action`, when given) and returns them all. */
export async function waitForLogs(connectionId: string, count: number, action?: string): Promise<SyncLogRow[]> {
  return waitFor(
    async () => {
      const rows = await syncLogsOf(connectionId);
      const matching = action ? rows.filter((row) => row.action === action) : rows;
      return matching.length >= count ? rows : null;
    },
    { what: `${count} sync-log row(s)${action ? ` for ${action}` : ""} of connection ${connectionId}` },
  );
}

/**
 * Delivers a notification and waits until the consumer logged it; returns the connection's rows written since (one
 * notification's rows land in one batch, so all of them are there at once).
 */
export async function deliverAndWait(connectionId: string, envelope: Envelope): Promise<SyncLogRow[]> {
  const lastId = (await syncLogsOf(connectionId)).at(-1)?.id ?? 0;
  await deliver(envelope);
  return waitFor(
    async () => {
      const fresh = (await syncLogsOf(connectionId)).filter((row) => row.id > lastId);
      return fresh.some((row) => row.action === envelope.topic) ? fresh : null;
    },
    { what: `the processing of ${envelope.topic} for connection ${connectionId}` },
  );
}

/** A CDP workspace with one connection, and its ingest-scoped read API, for end-to-end tests of the source. */
export interface ApiAnswer {
  status: number;
  body: any;
}

/** Seeds a connection in a fresh workspace; returns it with read-API helpers scoped to that workspace. */
export async function sourceWorkspace(
  options: { source?: Partial<SourceSettings>; destination?: Partial<DestinationSettings> } = {},
) {
  const workspaceId = `ws_${crypto.randomUUID().slice(0, 8)}`;
  const connection = await seedConnection({ workspaceId, ...options });
  const headers = await authHeaders({ workspaceId, scope: "ingest" });
  const get = async (path: string): Promise<ApiAnswer> => {
    const res = await exports.default.fetch(`https://connector.test${path}`, { headers });
    return { status: res.status, body: await res.json() };
  };
  return {
    workspaceId,
    connection,
    appId: connection.appId,
    lookup: (query: Record<string, string>) => get(`/v1/users/lookup?${new URLSearchParams(query)}`),
    events: (query: Record<string, string>) => get(`/v1/users/events?${new URLSearchParams(query)}`),
    account: (accountId: string) => get(`/v1/accounts/${encodeURIComponent(accountId)}`),
    /** Changes source settings in place, as a PATCH of the connection would. */
    setSource: async (source: Partial<SourceSettings>) => {
      const patch = Object.entries(source).flatMap(([key, value]) => [
        `'$.${key}'`,
        value ? "json('true')" : "json('false')",
      ]);
      await env.DB.prepare(`UPDATE connections SET source = json_set(source, ${patch.join(", ")}) WHERE id = ?`)
        .bind(connection.id)
        .run();
    },
  };
}
