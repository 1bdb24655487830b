/**
 * The simulator's whole state and the operations every route shares: clock, configuration, workspaces and tokens,
 * OAuth codes, the request journal, the webhook outbox and the seeded PRNG. Everything lives in memory.
 */
import { applyConfigPatch, DEFAULT_CONFIG, drawSearchLag, mergeRateLimit } from "./config";
import { IntercomError } from "./errors";
import { accessToken, appIdCode, numericId } from "./ids";
import {
  type CompanyLinks,
  type ContactLinks,
  companyJson,
  contactJson,
  webhookCompanyJson,
  webhookContactJson,
} from "./payloads";
import { seededRandom } from "./random";
import type {
  CompanyRecord,
  ConfigPatch,
  ContactRecord,
  JournalEntry,
  NotificationEnvelope,
  RateLimitConfig,
  Region,
  SimConfig,
  WorkspaceInfo,
  WorkspaceInit,
} from "./types";
import { envelope, Outbox } from "./webhooks";
import { Workspace } from "./workspace";

export interface SimulatorOptions {
  /** Initial configuration (over the defaults); `reset()` returns to it. */
  config?: ConfigPatch;
  /** Clock in milliseconds; inject one to move time in tests without sleeping. */
  now?: () => number;
  /** How delivery POSTs webhooks; defaults to the global fetch at call time (so msw sees it). */
  fetch?: (request: Request) => Promise<Response>;
  /** How latency is waited for; defaults to setTimeout. */
  sleep?: (ms: number) => Promise<void>;
}

const REGIONS: readonly Region[] = ["US", "EU", "AU"];

/** The search-lag PRNG's seed, derived from the configured seed. */
const searchSeed = (seed: number) => seed ^ 0x5ea4c4;

export class SimCore {
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly fetch: (request: Request) => Promise<Response>;
  private readonly initialConfig: SimConfig;

  config: SimConfig;
  /** Draws fault injection and latency. */
  random: () => number;
  /** Draws search lags: a stream of its own, so turning lag on does not shift which requests fault. */
  searchRandom: () => number;
  readonly workspaces = new Map<string, Workspace>();
  /** token → workspace id; revoked tokens are removed. */
  readonly tokens = new Map<string, string>();
  /** OAuth code → consenting workspace; a code is deleted when exchanged. */
  readonly oauthCodes = new Map<string, string>();
  readonly journal: JournalEntry[] = [];
  private journalSeq = 0;
  readonly outbox = new Outbox();

  constructor(options: SimulatorOptions = {}) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.fetch = options.fetch ?? ((request) => fetch(request));
    this.initialConfig =
      options.config === undefined ? structuredClone(DEFAULT_CONFIG) : applyConfigPatch(DEFAULT_CONFIG, options.config);
    this.config = structuredClone(this.initialConfig);
    this.random = seededRandom(this.config.seed);
    this.searchRandom = seededRandom(searchSeed(this.config.seed));
  }

  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /** When search will see a contact written now: after the configured lag (a fresh draw for each write). */
  searchableAt(nowMs: number): number {
    return nowMs + drawSearchLag(this.config.search_lag_ms, this.searchRandom);
  }

  /** Lets search see every contact written so far, as if the index had caught up. */
  settleSearch(): void {
    const now = this.now();
    for (const ws of this.workspaces.values()) {
      for (const contact of ws.contacts.values()) {
        if (contact.searchable_at_ms > now) ws.putContact({ ...contact, searchable_at_ms: now }, contact);
      }
    }
  }

  /** Forgets every workspace, token, code, journal entry and webhook; configuration returns to the initial one. */
  reset(): void {
    this.workspaces.clear();
    this.tokens.clear();
    this.oauthCodes.clear();
    this.journal.length = 0;
    this.outbox.clear();
    this.config = structuredClone(this.initialConfig);
    this.random = seededRandom(this.config.seed);
    this.searchRandom = seededRandom(searchSeed(this.config.seed));
  }

  /** Applies a partial configuration; a new `seed` restarts the PRNG. */
  configure(patch: unknown): SimConfig {
    const next = applyConfigPatch(this.config, patch);
    if (next.seed !== this.config.seed) {
      this.random = seededRandom(next.seed);
      this.searchRandom = seededRandom(searchSeed(next.seed));
    }
    this.config = next;
    return structuredClone(this.config);
  }

  createWorkspace(init: WorkspaceInit = {}): WorkspaceInfo {
    const region = init.region ?? "US";
    if (!REGIONS.includes(region)) throw new IntercomError(400, "parameter_invalid", "region must be US, EU or AU");
    const appId = init.app_id ?? appIdCode();
    if (this.workspaces.has(appId)) throw new IntercomError(409, "conflict", `Workspace ${appId} already exists`);
    if (init.token !== undefined) this.assertTokenFree(init.token);
    const name = init.name ?? `Workspace ${appId}`;
    const ws = new Workspace(appId, name, region, this.nowSeconds(), {
      id: numericId(),
      name: "Sim Admin",
      email: `admin@${appId}.sim.test`,
    });
    if (init.rate_limit) ws.rateLimit = mergeRateLimit(this.config.rate_limit, init.rate_limit);
    this.workspaces.set(appId, ws);
    const token = this.issueToken(appId, init.token);
    return { app_id: appId, name, region, token };
  }

  /** Gives a workspace its own rate limit (merged into its current one); null returns it to the global limit. */
  setWorkspaceRateLimit(appId: string, rateLimit: Partial<RateLimitConfig> | null): void {
    const ws = this.workspace(appId);
    ws.rateLimit = rateLimit === null ? null : mergeRateLimit(ws.rateLimit ?? this.config.rate_limit, rateLimit);
  }

  workspace(appId: string): Workspace {
    const ws = this.workspaces.get(appId);
    if (!ws) throw new IntercomError(404, "not_found", `No workspace ${appId}`);
    return ws;
  }

  /** Registers `token` (or a new random one) for a workspace. */
  issueToken(appId: string, token: string = accessToken()): string {
    this.workspace(appId);
    this.assertTokenFree(token);
    this.tokens.set(token, appId);
    return token;
  }

  /** A token names one workspace only. */
  private assertTokenFree(token: string): void {
    if (this.tokens.has(token)) throw new IntercomError(409, "conflict", "That token is already in use");
  }

  /** Forgets every token of a workspace; revoked tokens answer 401 like unknown ones. */
  revokeTokens(appId: string): void {
    this.workspace(appId);
    for (const [token, owner] of this.tokens) if (owner === appId) this.tokens.delete(token);
  }

  rateLimitOf(ws: Workspace): RateLimitConfig {
    return ws.rateLimit ?? this.config.rate_limit;
  }

  /** Starts a journal entry; the caller fills in `status` (and `app_id`) when the response is known. */
  openJournalEntry(entry: Omit<JournalEntry, "seq" | "status">): JournalEntry {
    const full: JournalEntry = { seq: ++this.journalSeq, status: 0, ...entry };
    this.journal.push(full);
    return full;
  }

  journalSince(since = 0, appId?: string): JournalEntry[] {
    return this.journal.filter((e) => e.seq > since && (appId === undefined || e.app_id === appId));
  }

  contactLinks(ws: Workspace, contact: ContactRecord): ContactLinks {
    return { appId: ws.appId, tagIds: ws.tagIdsOf(contact.id), companyIds: ws.companyIdsOf(contact.id) };
  }

  companyLinks(ws: Workspace, company: CompanyRecord): CompanyLinks {
    return {
      appId: ws.appId,
      userCount: ws.userCount(company.id),
      planId: company.plan === null ? null : (ws.planIds.get(company.plan) ?? null),
      tags: company.tag_ids.flatMap((id) => ws.tags.get(id) ?? []),
      segments: company.segment_ids.flatMap((id) => ws.segments.get(id) ?? []),
    };
  }

  contactJson(ws: Workspace, contact: ContactRecord) {
    return contactJson(contact, this.contactLinks(ws, contact));
  }

  webhookContactJson(ws: Workspace, contact: ContactRecord) {
    return webhookContactJson(contact, this.contactLinks(ws, contact));
  }

  companyJson(ws: Workspace, company: CompanyRecord) {
    return companyJson(company, this.companyLinks(ws, company));
  }

  webhookCompanyJson(ws: Workspace, company: CompanyRecord) {
    return webhookCompanyJson(company, this.companyLinks(ws, company));
  }

  /**
   * Queues a notification when webhooks are on and the topic is subscribed (`ping` always is, as in Intercom).
   * Returns it, or null when it was filtered out.
   */
  notify(appId: string, topic: string, item: unknown): NotificationEnvelope | null {
    const { webhooks_enabled, webhook_topics } = this.config;
    if (!webhooks_enabled) return null;
    if (topic !== "ping" && webhook_topics !== null && !webhook_topics.includes(topic)) return null;
    const notification = envelope(appId, topic, item, this.nowSeconds());
    this.outbox.add(notification);
    return notification;
  }

  /** `contact.user.created` / `contact.lead.updated` …: the topic follows the contact's role. */
  notifyContact(ws: Workspace, contact: ContactRecord, change: "created" | "updated"): void {
    this.notify(ws.appId, `contact.${contact.role}.${change}`, this.webhookContactJson(ws, contact));
  }

  /** POSTs one notification to the configured URL, signed with the configured client secret. */
  deliver(notification: NotificationEnvelope, attempt?: number): Promise<number> {
    return this.outbox.deliver(
      notification,
      { url: this.config.webhook_url, secret: this.config.client_secret, fetch: this.fetch, nowMs: this.now() },
      attempt,
    );
  }

  /** Delivers every pending notification, one after the other in creation order; returns their statuses. */
  async deliverPending(): Promise<number[]> {
    const statuses: number[] = [];
    for (const notification of this.outbox.take()) statuses.push(await this.deliver(notification));
    return statuses;
  }
}
