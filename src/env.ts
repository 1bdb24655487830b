/**
 * The Worker's bindings and configuration, typed once for the whole project (see README, "Configuration"). This
 * module imports only the queue message contracts (leaf modules), never a consumer or a Durable Object: the typed
 * stubs of the Durable Objects come from their own modules (`contactSyncObject`, `rateBudgetObject`).
 */
import type { OutboundMessage } from "./destination/outbound-message";
import type { JobMessage } from "./jobs/messages";
import type { InboundMessage } from "./source/inbound-message";

export interface Env {
  /** The control database (connections, OAuth state, placements); also the data database unless DATA_DATABASES says. */
  DB: D1Database;
  /** Binding names of the data databases, comma-separated (default `DB`); see README, "Scaling past one database". */
  DATA_DATABASES?: string;
  /** The data databases new workspaces are placed on (default: all of DATA_DATABASES). */
  DATA_DATABASES_OPEN?: string;
  INBOUND: Queue<InboundMessage>;
  OUTBOUND: Queue<OutboundMessage>;
  /** The bulk lane: one page of a job (a connection's sweep, a resync) per message. */
  JOBS: Queue<JobMessage>;
  /** Typed through `contactSyncObject()` (destination/contact-sync.ts). */
  CONTACT_SYNC: DurableObjectNamespace;
  /** Typed through `rateBudgetObject()` (intercom/rate-budget.ts). */
  RATE_BUDGET: DurableObjectNamespace;

  /** Intercom app credentials: the client secret is also the webhook HMAC key. */
  INTERCOM_CLIENT_ID: string;
  INTERCOM_CLIENT_SECRET: string;
  /** Overrides the regional Intercom API host (the simulator locally and in tests). */
  INTERCOM_API_BASE?: string;
  INTERCOM_OAUTH_URL: string;

  ADMIN_JWT_SECRET?: string;
  ADMIN_JWKS_URL?: string;
  ADMIN_JWT_ISSUER: string;
  ADMIN_JWT_AUDIENCE: string;

  /** `kid:base64url-key[,kid:key…]`: the first key encrypts, every key decrypts. */
  TOKEN_ENCRYPTION_KEY: string;
  PUBLIC_URL: string;
  OAUTH_RETURN_URL?: string;
  LOG_RETENTION_DAYS?: string;
  /** Sync-log rows written at most per connection and UTC day; past it they are counted as dropped (default 50,000). */
  LOG_ROWS_PER_DAY?: string;
  /** Days a captured event is kept (by its `occurred_at`; default 395). */
  EVENT_RETENTION_DAYS?: string;
  /** Secret of the erasure digest (HMAC-SHA-256); default: derived with HKDF from TOKEN_ENCRYPTION_KEY's first key. */
  ERASURE_DIGEST_KEY?: string;
  /** Attempts of a sync or action on 5xx/network failures before it becomes a dead letter (default 8). */
  SYNC_MAX_ATTEMPTS?: string;
  /** First retry delay after a 5xx, doubled per attempt with jitter (default 2000 ms). */
  SYNC_BACKOFF_BASE_MS?: string;
  /** Ingest writes running at once per isolate; more wait their turn (default 32). */
  INGEST_CONCURRENCY?: string;
  /** How long a quiet contact or company waits after its first change before it syncs (default 250 ms). */
  SYNC_DEBOUNCE_MS?: string;
  /** Share (0–1] of each Intercom rate window bulk calls (resync, import) may take while real-time is recent (0.5). */
  RESYNC_BUDGET_SHARE?: string;
  /** Chaos testing only: the share of OUTBOUND batches that fail on purpose. Never set in production. */
  CHAOS_OUTBOUND_FAILURE_RATE?: string;
  /** `enforce`: check production's D1, Queues and Workers limits locally (tests, `npm run dev`). Unset in production. */
  PLATFORM_LIMITS?: string;
}

/** Hono's generic for this app. */
export interface AppEnv {
  Bindings: Env;
  Variables: { auth: AuthContext };
}

/** Who called an authenticated route. */
export interface AuthContext {
  workspaceId: string;
  scopes: ReadonlySet<string>;
  subject?: string;
}
