/**
 * Admin and ingest authentication: `Authorization: Bearer <JWT>` verified with jose against `ADMIN_JWT_SECRET`
 * (HS256) or the JWKS at `ADMIN_JWKS_URL` (RS256/ES256). Algorithms are pinned per key type, so neither `none` nor
 * an HS256 token signed with a public key is accepted.
 */
import type { MiddlewareHandler } from "hono";
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from "jose";
import type { AppEnv, AuthContext, Env } from "../env";
import { ProblemError } from "../lib/problem";

export type Scope = "admin" | "ingest";

const CLOCK_TOLERANCE_SECONDS = 30;
const SYMMETRIC_ALGORITHMS = ["HS256"];
const ASYMMETRIC_ALGORITHMS = ["RS256", "ES256"];
const BEARER = { "WWW-Authenticate": 'Bearer realm="intercom-connector"' };

const remoteKeySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

/** Rejects the request unless it carries a valid token with `scope`; sets `c.var.auth`. */
export function requireScope(scope: Scope): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const auth = await authenticate(c.env, c.req.header("authorization"));
    if (!auth.scopes.has(scope)) {
      throw new ProblemError(403, `This token lacks the "${scope}" scope.`);
    }
    c.set("auth", auth);
    await next();
  };
}

/** Verifies a bearer token and returns who it speaks for; throws a 401 problem otherwise. */
export async function authenticate(env: Env, header: string | undefined): Promise<AuthContext> {
  const token = header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  if (!token) throw unauthorized("A bearer token is required.");
  const payload = await verifyToken(env, token);
  const workspaceId = payload.workspace_id;
  if (typeof workspaceId !== "string" || workspaceId === "") throw unauthorized("The token has no workspace_id claim.");
  if (typeof payload.scope !== "string") throw unauthorized("The token has no scope claim.");
  return {
    workspaceId,
    scopes: new Set(payload.scope.split(/\s+/).filter(Boolean)),
    ...(payload.sub ? { subject: payload.sub } : {}),
  };
}

async function verifyToken(env: Env, token: string): Promise<JWTPayload> {
  const options = {
    issuer: env.ADMIN_JWT_ISSUER,
    audience: env.ADMIN_JWT_AUDIENCE,
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    requiredClaims: ["exp", "iss", "aud", "workspace_id", "scope"],
  };
  try {
    if (env.ADMIN_JWKS_URL) {
      const { payload } = await jwtVerify(token, remoteKeySet(env.ADMIN_JWKS_URL), {
        ...options,
        algorithms: ASYMMETRIC_ALGORITHMS,
      });
      return payload;
    }
    if (env.ADMIN_JWT_SECRET) {
      const { payload } = await jwtVerify(token, new TextEncoder().encode(env.ADMIN_JWT_SECRET), {
        ...options,
        algorithms: SYMMETRIC_ALGORITHMS,
      });
      return payload;
    }
  } catch (error) {
    throw unauthorized(describeJoseError(error));
  }
  throw new ProblemError(503, "Authentication is not configured: set ADMIN_JWT_SECRET or ADMIN_JWKS_URL.");
}

/** One cached remote key set per URL (jose refreshes it on unknown `kid`, with a cooldown). */
function remoteKeySet(url: string) {
  let keySet = remoteKeySets.get(url);
  if (!keySet) {
    keySet = createRemoteJWKSet(new URL(url), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 });
    remoteKeySets.set(url, keySet);
  }
  return keySet;
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return "The token has expired.";
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `The token's "${error.claim}" claim is not valid.`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return "The token's algorithm is not accepted.";
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return "The token's signature is not valid.";
  return "The token is not valid.";
}

function unauthorized(detail: string): ProblemError {
  return new ProblemError(401, detail, undefined, BEARER);
}
