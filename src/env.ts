/** The Worker's bindings and configuration, typed once for the whole project (see README, "Configuration"). */
import type { ContactSync } from "./destination/contact-sync";
import type { OutboundMessage } from "./destination/outbound-message";
import type { RateBudget } from "./intercom/rate-budget";
import type { InboundMessage } from "./source/inbound-message";

export interface Env {
  DB: D1Database;
  INBOUND: Queue<InboundMessage>;
  OUTBOUND: Queue<OutboundMessage>;
  CONTACT_SYNC: DurableObjectNamespace<ContactSync>;
  RATE_BUDGET: DurableObjectNamespace<RateBudget>;

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
  /** Attempts of a sync or action on 5xx/network failures before it becomes a dead letter (default 8). */
  SYNC_MAX_ATTEMPTS?: string;
  /** First retry delay after a 5xx, doubled per attempt with jitter (default 2000 ms). */
  SYNC_BACKOFF_BASE_MS?: string;
  /** Ingest writes running at once per isolate; more wait their turn (default 32). */
  INGEST_CONCURRENCY?: string;
  /** How long a quiet contact or company waits after its first change before it syncs (default 250 ms). */
  SYNC_DEBOUNCE_MS?: string;
  /** Chaos testing only: the share of OUTBOUND batches that fail on purpose. Never set in production. */
  CHAOS_OUTBOUND_FAILURE_RATE?: string;
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
