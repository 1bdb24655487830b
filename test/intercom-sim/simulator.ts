/**
 * The Intercom simulator: `createSimulator()` returns the in-memory state, a Hono app serving Intercom's REST API
 * (US at the root, EU and AU under /eu and /au) and the control API under /_sim, and methods for in-process tests.
 * Every control route is a thin wrapper over one of these methods.
 */
import { Hono } from "hono";
import { SimCore, type SimulatorOptions } from "./core";
import { emit } from "./emit";
import { errorResponse, IntercomError } from "./errors";
import type { SimEnv } from "./http";
import { workspaceList, workspaceState } from "./inspect";
import { authenticate, autoDeliver, injectFaults, journal, rateLimit, regionlessPath } from "./middleware";
import { meRoutes, oauthRoutes, uninstallRoutes } from "./routes/auth";
import { companyRoutes } from "./routes/companies";
import { contactRoutes } from "./routes/contacts";
import { controlRoutes } from "./routes/control";
import { conversationRoutes } from "./routes/conversations";
import { dataAttributeRoutes } from "./routes/data-attributes";
import { eventRoutes } from "./routes/events";
import { tagRoutes } from "./routes/tags";
import type {
  ConfigPatch,
  DeliveryRecord,
  EmitRequest,
  JournalEntry,
  NotificationEnvelope,
  RateLimitConfig,
  SimConfig,
  WorkspaceInfo,
  WorkspaceInit,
} from "./types";
import { seedWideWorkspace, type WideWorkspaceOptions, type WideWorkspaceSummary } from "./wide/seed";

export type { SimulatorOptions } from "./core";
export type * from "./types";
export type { WideWorkspaceOptions, WideWorkspaceSummary } from "./wide/seed";

export interface Simulator {
  /** Serves Intercom's REST API and the control API; `sim.app.fetch(request)`. */
  readonly app: Hono<SimEnv>;
  /** A copy of the current configuration. */
  readonly config: SimConfig;
  /** Forgets all state (workspaces, tokens, journal, webhooks); configuration returns to the creation options. */
  reset(): void;
  /** Partial configuration update; returns the resulting configuration. */
  configure(patch: ConfigPatch): SimConfig;
  /** Creates a workspace and a first token, generating whatever `init` leaves out. */
  createWorkspace(init?: WorkspaceInit): WorkspaceInfo;
  /** Gives a workspace its own rate limit; null returns it to the global one. */
  setWorkspaceRateLimit(appId: string, rateLimit: Partial<RateLimitConfig> | null): void;
  /** Issues another valid token for a workspace (or registers `token`). */
  issueToken(appId: string, token?: string): string;
  /** Revokes every token of a workspace: its next calls answer 401. */
  revokeTokens(appId: string): void;
  workspaces(): ReturnType<typeof workspaceList>;
  /** REST requests recorded after `since` (a seq), optionally of one workspace. */
  journal(filter?: { since?: number; app_id?: string }): JournalEntry[];
  clearJournal(): void;
  /** Everything a workspace holds. */
  state(appId: string): ReturnType<typeof workspaceState>;
  /**
   * Fills a workspace with wide, real-shaped data (custom attributes of mixed types, unicode and long values, users,
   * leads, companies, tags, segments), deterministic for `options.seed`; no webhooks, searchable at once.
   */
  seedWideWorkspace(appId: string, options?: WideWorkspaceOptions): WideWorkspaceSummary;
  /** Makes every contact written so far visible to search, as if the search index had caught up. */
  settleSearch(): void;
  /** Queues a notification of something that happened inside Intercom; null when filtered out by the config. */
  emit(request: EmitRequest): NotificationEnvelope | null;
  /** Pending notifications, left in the outbox. */
  pendingWebhooks(): NotificationEnvelope[];
  /** Removes and returns the pending notifications (to reorder, drop or redeliver them). */
  takeWebhooks(): NotificationEnvelope[];
  /** POSTs every pending notification in order; returns the receiver's statuses. */
  deliverWebhooks(): Promise<number[]>;
  /** POSTs one notification; a redelivery keeps its id and counts `delivery_attempts` up (or sets `attempt`). */
  deliver(notification: NotificationEnvelope, options?: { attempt?: number }): Promise<number>;
  /** Every delivery attempt made, with the receiver's status. */
  deliveries(): DeliveryRecord[];
}

/** Creates a simulator with its own in-memory state. */
export function createSimulator(options: SimulatorOptions = {}): Simulator {
  const core = new SimCore(options);
  const sim: Omit<Simulator, "app"> = {
    get config() {
      return structuredClone(core.config);
    },
    reset: () => core.reset(),
    configure: (patch) => core.configure(patch),
    createWorkspace: (init) => core.createWorkspace(init),
    setWorkspaceRateLimit: (appId, limit) => core.setWorkspaceRateLimit(appId, limit),
    issueToken: (appId, token) => core.issueToken(appId, token),
    revokeTokens: (appId) => core.revokeTokens(appId),
    workspaces: () => workspaceList(core),
    journal: (filter = {}) => core.journalSince(filter.since, filter.app_id),
    clearJournal: () => {
      core.journal.length = 0;
    },
    state: (appId) => workspaceState(core, appId),
    seedWideWorkspace: (appId, seedOptions) => seedWideWorkspace(core, appId, seedOptions),
    settleSearch: () => core.settleSearch(),
    emit: (request) => emit(core, request),
    pendingWebhooks: () => core.outbox.peek(),
    takeWebhooks: () => core.outbox.take(),
    deliverWebhooks: () => core.deliverPending(),
    deliver: (notification, { attempt } = {}) => core.deliver(notification, attempt),
    deliveries: () => core.outbox.log(),
  };

  // Registration order is the pipeline: Hono runs matching handlers in the order they were added, and a handler that
  // answers ends the chain. So control routes answer before the REST middleware sees them, and OAuth routes answer
  // before authentication and fault injection.
  const app = new Hono<SimEnv>({ getPath: regionlessPath })
    .use("*", autoDeliver(core))
    .route("/_sim", controlRoutes(sim))
    .use("*", journal(core))
    .route("/", oauthRoutes(core))
    .use("*", authenticate(core), rateLimit(core))
    .route("/", uninstallRoutes(core))
    .use("*", injectFaults(core))
    .route("/", meRoutes())
    .route("/", contactRoutes(core))
    .route("/", companyRoutes(core))
    .route("/", tagRoutes(core))
    .route("/", eventRoutes(core))
    .route("/", conversationRoutes())
    .route("/", dataAttributeRoutes(core))
    .notFound(() => errorResponse(404, "not_found", "Resource Not Found"))
    .onError((err) => {
      if (err instanceof IntercomError) return errorResponse(err.status, err.code, err.message, err.headers);
      console.error({
        level: "error",
        msg: "intercom-sim: unhandled error",
        error: String(err),
        stack: (err as Error).stack,
      });
      return errorResponse(500, "server_error", "Server Error");
    });

  return Object.assign(sim, { app }) as Simulator;
}
