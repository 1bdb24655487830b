/**
 * Admin and ingest authentication: `Authorization: Bearer <JWT>` verified with jose.
 *
 * - HS256 tokens are checked against `ADMIN_JWT_SECRET` (≥ 32 bytes), RS256/ES256 tokens against the JWKS at
 *   `ADMIN_JWKS_URL`. Each key source accepts only its own algorithms, so `none`, an HS256 token "signed" with a
 *   public key, or an RS256 token when only a secret is configured are all rejected.
 * - Required claims: `exp`, `iss` = `ADMIN_JWT_ISSUER`, `aud` = `ADMIN_JWT_AUDIENCE`, `workspace_id`, `scope`
 *   (space-separated); 30 s of clock tolerance.
 * - 401 for a missing or invalid token, 403 for a missing scope, 503 when no key source is configured or the JWKS
 *   cannot be fetched (the caller is not at fault). Objects of another workspace answer 404 in the routes.
 */
import type { MiddlewareHandler } from "hono";
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
  errors as joseErrors,
  jwtVerify,
} from "jose";
import type { AppEnv, AuthContext, Env } from "../env";
import { log } from "../lib/log";
import { ProblemError } from "./problem";

export type Scope = "admin" | "ingest";

export const CLOCK_TOLERANCE_SECONDS = 30;
const SYMMETRIC_ALGORITHMS = ["HS256"];
const ASYMMETRIC_ALGORITHMS = ["RS256", "ES256"];
const MIN_SECRET_BYTES = 32;
const MAX_WORKSPACE_ID_LENGTH = 128;
const REALM = 'Bearer realm="intercom-connector"';

/** Rejects the request unless it carries a valid token with `scope`; sets `c.var.auth`. */
export function requireScope(scope: Scope): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    let auth: AuthContext;
    try {
      auth = await authenticate(c.env, c.req.header("authorization"));
    } catch (error) {
      if (error instanceof ProblemError) {
        log({
          level: error.status >= 500 ? "error" : "warn",
          msg: "request not authenticated",
          outcome: error.status === 401 ? "unauthorized" : "auth_unavailable",
          method: c.req.method,
          path: c.req.path,
          reason: error.message,
        });
      }
      throw error;
    }
    if (!auth.scopes.has(scope)) {
      log({
        level: "warn",
        msg: "request lacks a scope",
        outcome: "forbidden",
        workspace_id: auth.workspaceId,
        method: c.req.method,
        path: c.req.path,
        required_scope: scope,
      });
      throw new ProblemError(403, `This token lacks the "${scope}" scope.`, undefined, {
        "WWW-Authenticate": `${REALM}, error="insufficient_scope", scope="${scope}"`,
      });
    }
    c.set("auth", auth);
    await next();
  };
}

/** Verifies a bearer token and returns who it speaks for; throws a 401 (or 503) problem otherwise. */
export async function authenticate(env: Env, header: string | undefined): Promise<AuthContext> {
  if (!header) throw unauthorized("A bearer token is required (Authorization: Bearer <JWT>).");
  const token = header.match(/^Bearer[ \t]+([A-Za-z0-9_\-.=+/]+)[ \t]*$/i)?.[1];
  if (!token) throw unauthorized('The Authorization header must be "Bearer <JWT>".');
  const payload = await verifyToken(env, token);
  const workspaceId = payload.workspace_id;
  if (typeof workspaceId !== "string" || workspaceId.trim() === "" || workspaceId.length > MAX_WORKSPACE_ID_LENGTH) {
    throw unauthorized("The token's workspace_id claim must be a non-empty string.");
  }
  if (typeof payload.scope !== "string")
    throw unauthorized("The token's scope claim must be a space-separated string.");
  return {
    workspaceId,
    scopes: new Set(payload.scope.split(/\s+/).filter(Boolean)),
    ...(typeof payload.sub === "string" && payload.sub ? { subject: payload.sub } : {}),
  };
}

async function verifyToken(env: Env, token: string): Promise<JWTPayload> {
  if (!env.ADMIN_JWT_SECRET && !env.ADMIN_JWKS_URL) {
    throw new ProblemError(503, "Authentication is not configured: set ADMIN_JWT_SECRET or ADMIN_JWKS_URL.");
  }
  if (!env.ADMIN_JWT_ISSUER || !env.ADMIN_JWT_AUDIENCE) {
    throw new ProblemError(503, "Authentication is not configured: set ADMIN_JWT_ISSUER and ADMIN_JWT_AUDIENCE.");
  }
  let alg: unknown;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    throw unauthorized("The bearer token is not a JWT.");
  }
  const options = {
    issuer: env.ADMIN_JWT_ISSUER,
    audience: env.ADMIN_JWT_AUDIENCE,
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    requiredClaims: ["exp", "iss", "aud", "workspace_id", "scope"],
  };
  try {
    if (typeof alg === "string" && SYMMETRIC_ALGORITHMS.includes(alg) && env.ADMIN_JWT_SECRET) {
      const { payload } = await jwtVerify(token, hmacSecret(env.ADMIN_JWT_SECRET), {
        ...options,
        algorithms: SYMMETRIC_ALGORITHMS,
      });
      return payload;
    }
    if (typeof alg === "string" && ASYMMETRIC_ALGORITHMS.includes(alg) && env.ADMIN_JWKS_URL) {
      const { payload } = await jwtVerify(token, remoteKeys(env.ADMIN_JWKS_URL), {
        ...options,
        algorithms: ASYMMETRIC_ALGORITHMS,
      });
      return payload;
    }
  } catch (error) {
    if (error instanceof ProblemError) throw error;
    throw unauthorized(describeJoseError(error));
  }
  const accepted = [
    ...(env.ADMIN_JWT_SECRET ? SYMMETRIC_ALGORITHMS : []),
    ...(env.ADMIN_JWKS_URL ? ASYMMETRIC_ALGORITHMS : []),
  ];
  throw unauthorized(
    `The token's algorithm (${typeof alg === "string" ? alg : "none"}) is not accepted; use ${accepted.join(" or ")}.`,
  );
}

function hmacSecret(secret: string): Uint8Array {
  const bytes = new TextEncoder().encode(secret);
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new ProblemError(
      503,
      `Authentication is misconfigured: ADMIN_JWT_SECRET must be at least ${MIN_SECRET_BYTES} bytes.`,
    );
  }
  return bytes;
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return "The token has expired.";
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return error.reason === "missing"
      ? `The token has no "${error.claim}" claim.`
      : `The token's "${error.claim}" claim is not valid.`;
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return "The token's algorithm is not accepted.";
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return "The token's signature is not valid.";
  if (error instanceof joseErrors.JWKSNoMatchingKey) return "No key of the JWKS matches the token's kid and algorithm.";
  if (error instanceof joseErrors.JWKSMultipleMatchingKeys)
    return "Several keys of the JWKS match the token; give it a kid.";
  return "The token is not valid.";
}

function unauthorized(detail: string): ProblemError {
  return new ProblemError(401, detail, undefined, { "WWW-Authenticate": `${REALM}, error="invalid_token"` });
}

// ---------------------------------------------------------------------------------------------------------------
// JWKS: fetched on demand and cached per isolate. A kid that is not in the cached set triggers a refetch (at most
// every 30 s); when a refetch fails, keys fetched in the last 24 h keep working; without any, the request gets a 503.
// A failed fetch is remembered too: the next try waits 30 s, and meanwhile requests are answered from the cached keys
// (or a 503 with Retry-After), so an identity provider that is down gets one fetch per 30 s per isolate, not one per
// request. Fetches are not shared between requests (Workers forbids awaiting another request's I/O).

const JWKS_FRESH_MS = 10 * 60_000;
const JWKS_STALE_MAX_MS = 24 * 60 * 60_000;
const JWKS_REFETCH_COOLDOWN_MS = 30_000;
const JWKS_TIMEOUT_MS = 5_000;

interface CachedKeySet {
  keys: JWTVerifyGetKey;
  fetchedAt: number;
}

const keySets = new Map<string, CachedKeySet>();
/** When the last fetch of a URL failed (or a retry after a failure began); absent once a fetch succeeds. */
const failedFetches = new Map<string, number>();

/** Forgets cached key sets and failed fetches (tests). */
export function clearJwksCache(): void {
  keySets.clear();
  failedFetches.clear();
}

function remoteKeys(url: string): JWTVerifyGetKey {
  return async (protectedHeader, token) => {
    let cached = keySets.get(url);
    const age = cached ? Date.now() - cached.fetchedAt : Infinity;
    if (!cached || age > JWKS_FRESH_MS) cached = await refresh(url, cached);
    try {
      return await importKey(cached, protectedHeader, token);
    } catch (error) {
      if (!(error instanceof joseErrors.JWKSNoMatchingKey) || Date.now() - cached.fetchedAt < JWKS_REFETCH_COOLDOWN_MS)
        throw error;
      const fresh = await refresh(url, cached);
      // No newer set (the fetch failed, or waits for its cooldown): the cached keys have answered.
      if (fresh === cached) throw error;
      return importKey(fresh, protectedHeader, token);
    }
  };
}

/** The key for a token; a key of the set that cannot be imported is the operator's fault (503), not the caller's. */
async function importKey(set: CachedKeySet, ...args: Parameters<JWTVerifyGetKey>) {
  try {
    return await set.keys(...args);
  } catch (error) {
    if (
      error instanceof joseErrors.JWKInvalid ||
      error instanceof joseErrors.JWKSInvalid ||
      error instanceof joseErrors.JOSENotSupported
    ) {
      log({ level: "error", msg: "JWKS key unusable", outcome: "jwks_unavailable", reason: error.message });
      throw new ProblemError(503, "The token cannot be verified: the matching key at ADMIN_JWKS_URL is not usable.");
    }
    throw error;
  }
}

/**
 * A fresh key set, or, when the fetch fails or must wait for the cooldown after a failure, `previous` while it is
 * less than 24 h old; otherwise a 503 problem with Retry-After.
 */
async function refresh(url: string, previous: CachedKeySet | undefined): Promise<CachedKeySet> {
  const failedAt = failedFetches.get(url);
  if (failedAt !== undefined && Date.now() - failedAt < JWKS_REFETCH_COOLDOWN_MS) {
    return lastKnown(previous, failedAt, null);
  }
  // A retry after a failure: claimed before the fetch, so the other requests of this isolate do not join it.
  if (failedAt !== undefined) failedFetches.set(url, Date.now());
  try {
    const keys = createLocalJWKSet(await fetchJwks(url));
    const next = { keys, fetchedAt: Date.now() };
    keySets.set(url, next);
    failedFetches.delete(url);
    return next;
  } catch (error) {
    const now = Date.now();
    failedFetches.set(url, now);
    return lastKnown(previous, now, error instanceof Error ? error.message : String(error));
  }
}

/** The keys to use while the JWKS cannot be fetched; `reason` is set when a fetch just failed (logged once). */
function lastKnown(previous: CachedKeySet | undefined, failedAt: number, reason: string | null): CachedKeySet {
  if (previous && Date.now() - previous.fetchedAt < JWKS_STALE_MAX_MS) {
    if (reason !== null)
      log({ level: "warn", msg: "JWKS refresh failed; using cached keys", outcome: "jwks_stale", reason });
    return previous;
  }
  if (reason !== null) log({ level: "error", msg: "JWKS unavailable", outcome: "jwks_unavailable", reason });
  const retryAfter = Math.max(1, Math.ceil((failedAt + JWKS_REFETCH_COOLDOWN_MS - Date.now()) / 1000));
  throw new ProblemError(
    503,
    "The token cannot be verified now: the key set at ADMIN_JWKS_URL is unavailable.",
    undefined,
    { "Retry-After": String(retryAfter) },
  );
}

async function fetchJwks(url: string): Promise<JSONWebKeySet> {
  const response = await fetch(url, {
    headers: { accept: "application/jwk-set+json, application/json" },
    redirect: "manual",
    signal: AbortSignal.timeout(JWKS_TIMEOUT_MS),
  });
  if (response.status !== 200) throw new Error(`JWKS answered HTTP ${response.status}`);
  const body = (await response.json()) as { keys?: unknown };
  if (!body || !Array.isArray(body.keys)) throw new Error("JWKS response has no keys array");
  return body as JSONWebKeySet;
}
