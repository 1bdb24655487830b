/**
 * Connect by OAuth (README, API): `POST /v1/connections/oauth` hands out Intercom's authorize URL with a signed,
 * single-use, 10-minute `state`; `GET /oauth/intercom/callback` checks it, exchanges the code, identifies the
 * workspace with `GET /me` and stores the connection, then redirects to `OAUTH_RETURN_URL` (or answers JSON).
 *
 * `state` is an HS256 JWT under a key derived (HKDF) from `INTERCOM_CLIENT_SECRET`, carrying the CDP workspace,
 * the connection name and a nonce; the nonce is a row of `oauth_states`, marked used by the first callback.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, isNull } from "drizzle-orm";
import { type JWTPayload, errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { WorkspaceTakenError } from "../../connections/repository";
import { connect } from "../../connections/service";
import { ConnectionName, ConnectionSchema, connectionJson } from "../../connections/settings";
import { controlDb } from "../../db/placement";
import { oauthStates } from "../../db/schema";
import type { Env } from "../../env";
import { IntercomCallError } from "../../intercom/errors";
import { exchangeCode } from "../../intercom/oauth";
import { log } from "../../lib/log";
import { autoStartImport } from "../../source/import/run";
import { requireScope } from "../auth";
import { EXAMPLES } from "../examples";
import { ProblemError } from "../problem";
import { problems } from "../problems";
import { router } from "../router";
import { emptyBodyIsEmptyObject } from "./connection-schemas";
import { onRestored } from "./restore";

export const STATE_TTL_SECONDS = 600;
export const CALLBACK_PATH = "/oauth/intercom/callback";
const STATE_AUDIENCE = "intercom-connector:oauth-state";
const tags = ["Connections"];

/** The HS256 key of `state` JWTs: HKDF-SHA256 of the Intercom client secret (never the secret itself). */
async function stateKey(env: Env): Promise<Uint8Array> {
  if (!env.INTERCOM_CLIENT_ID || !env.INTERCOM_CLIENT_SECRET) {
    throw new ProblemError(503, "OAuth is not configured: set INTERCOM_CLIENT_ID and INTERCOM_CLIENT_SECRET.");
  }
  const material = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(env.INTERCOM_CLIENT_SECRET),
    "HKDF",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: new TextEncoder().encode(STATE_AUDIENCE) },
    material,
    256,
  );
  return new Uint8Array(bits);
}

function callbackUrl(env: Env): string {
  if (!env.PUBLIC_URL) throw new ProblemError(503, "OAuth is not configured: set PUBLIC_URL.");
  return `${env.PUBLIC_URL.replace(/\/+$/, "")}${CALLBACK_PATH}`;
}

const StartBody = z
  .strictObject({ name: ConnectionName.optional() })
  .openapi("StartOAuth", { example: EXAMPLES.startOAuth });

/** `POST /v1/connections/oauth`, mounted under `/v1/connections`. */
export const oauthStart = router().openapi(
  createRoute({
    method: "post",
    path: "/oauth",
    tags,
    security: [{ bearerAuth: [] }],
    middleware: [requireScope("admin"), emptyBodyIsEmptyObject] as const,
    summary: "Start connecting with OAuth",
    description:
      "Returns Intercom's authorize URL. Send the admin's browser there; Intercom returns it to " +
      "`PUBLIC_URL/oauth/intercom/callback`, which stores the connection. The URL is valid once, for 10 minutes.",
    request: { body: { required: false, content: { "application/json": { schema: StartBody } } } },
    responses: {
      200: {
        description: "The authorize URL.",
        content: {
          "application/json": {
            schema: z
              .object({
                authorize_url: z.string().openapi({ format: "uri" }),
                expires_at: z.string().openapi({ format: "date-time" }),
              })
              .openapi("OAuthStart", { example: EXAMPLES.oauthStart }),
          },
        },
      },
      ...problems(401, 403, 422, 503),
    },
  }),
  async (c) => {
    const body = (c.req.valid("json") as z.infer<typeof StartBody> | undefined) ?? {};
    const { workspaceId } = c.var.auth;
    const key = await stateKey(c.env);
    const redirectUri = callbackUrl(c.env);
    const nonce = crypto.randomUUID();
    const expiresAt = (Math.floor(Date.now() / 1000) + STATE_TTL_SECONDS) * 1000;
    await controlDb(c.env).insert(oauthStates).values({ nonce, workspaceId, expiresAt });
    const state = await new SignJWT({ workspace_id: workspaceId, ...(body.name ? { name: body.name } : {}) })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setJti(nonce)
      .setAudience(STATE_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt / 1000))
      .sign(key);
    const url = new URL(c.env.INTERCOM_OAUTH_URL || "https://app.intercom.com/oauth");
    url.searchParams.set("client_id", c.env.INTERCOM_CLIENT_ID);
    url.searchParams.set("state", state);
    url.searchParams.set("redirect_uri", redirectUri);
    log({ msg: "oauth started", outcome: "started", workspace_id: workspaceId });
    return c.json({ authorize_url: url.toString(), expires_at: new Date(expiresAt).toISOString() }, 200);
  },
);

type FailureCode =
  | "invalid_request"
  | "invalid_state"
  | "expired_state"
  | "state_reused"
  | "access_denied"
  | "exchange_failed"
  | "workspace_conflict"
  | "intercom_unavailable";

/**
 * What the browser is told on `OAUTH_RETURN_URL` for each failure: a fixed text, never Intercom's words (anyone can
 * put any `error_description` in a callback URL and have it shown on the CDP's page). Intercom's text is logged.
 */
const RETURN_DESCRIPTIONS: Record<FailureCode, string> = {
  invalid_request: "The sign-in came back without what it needs; start connecting again.",
  invalid_state: "This sign-in link is not one this connector issued; start connecting again.",
  expired_state: "This sign-in link has expired (10 minutes); start connecting again.",
  state_reused: "This sign-in link was already used; start connecting again.",
  access_denied: "The Intercom admin did not grant access.",
  exchange_failed: "Intercom refused the authorization code; start connecting again.",
  workspace_conflict: "This Intercom workspace is connected to another CDP workspace; disconnect it there first.",
  intercom_unavailable: "Intercom could not complete the connection now; try again shortly.",
};

/** Intercom's text about a failure, as much of it as a log line keeps. */
const MAX_LOGGED_INTERCOM_TEXT = 200;

/** A failed callback: a redirect with `?error=` when `OAUTH_RETURN_URL` is set, a problem otherwise. */
class CallbackFailure extends Error {
  constructor(
    readonly code: FailureCode,
    readonly status: 400 | 403 | 409 | 502 | 503,
    detail: string,
    /** What Intercom said (query `error`/`error_description`, or its answer to a call), for the logs only. */
    readonly intercomText: Record<string, string> = {},
  ) {
    super(detail);
  }
}

const CallbackQuery = z.object({
  code: z.string().max(2048).optional().openapi({ description: "The authorization code (may end with `=`)." }),
  state: z.string().max(4096).optional(),
  error: z.string().max(200).optional().openapi({ description: "Set by Intercom when the admin denied access." }),
  error_description: z.string().max(1000).optional(),
});

/** `GET /oauth/intercom/callback`, mounted under `/oauth/intercom`. */
export const oauthCallback = router().openapi(
  createRoute({
    method: "get",
    path: "/callback",
    tags,
    summary: "OAuth callback (Intercom redirects the admin's browser here)",
    description:
      "Checks `state` (signature, expiry, single use), exchanges `code` at Intercom, identifies the workspace and " +
      "stores the connection. Then 302 to `OAUTH_RETURN_URL?connection_id=…` (on failure `?error=<code>&" +
      "error_description=…`), or, without `OAUTH_RETURN_URL`, the connection as JSON (on failure a problem). Error " +
      "codes: invalid_request, invalid_state, expired_state, state_reused, access_denied, exchange_failed, " +
      "workspace_conflict, intercom_unavailable.",
    request: { query: CallbackQuery },
    responses: {
      200: {
        description: "Connected (no OAUTH_RETURN_URL).",
        content: { "application/json": { schema: ConnectionSchema } },
      },
      302: { description: "Back to OAUTH_RETURN_URL with `connection_id` or `error`." },
      ...problems(400, 403, 409, 502, 503),
    },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const started = Date.now();
    try {
      const { workspaceId, name } = await consumeState(c.env, query.state);
      if (query.error) {
        throw new CallbackFailure("access_denied", 403, RETURN_DESCRIPTIONS.access_denied, {
          intercom_error: query.error,
          ...(query.error_description ? { intercom_error_description: query.error_description } : {}),
        });
      }
      if (!query.code) throw new CallbackFailure("invalid_request", 400, "The callback has no code.");
      const token = await exchange(c.env, query.code);
      let connectionJsonBody: ReturnType<typeof connectionJson>;
      try {
        const { row } = await connect(
          c.env,
          controlDb(c.env),
          {
            workspaceId,
            ...(name ? { name } : {}),
            token,
            method: "oauth",
          },
          onRestored(c.env),
        );
        await autoStartImport(c.env, row);
        connectionJsonBody = connectionJson(row);
      } catch (error) {
        if (error instanceof WorkspaceTakenError) {
          throw new CallbackFailure("workspace_conflict", 409, `${error.message} Disconnect it there first.`);
        }
        if (error instanceof IntercomCallError) {
          throw new CallbackFailure(
            "intercom_unavailable",
            502,
            `Intercom failed ${error.operation} (${error.failure.message}).`,
            { intercom_message: error.failure.message },
          );
        }
        throw error;
      }
      log({
        msg: "oauth completed",
        outcome: "connected",
        workspace_id: workspaceId,
        connection_id: connectionJsonBody.id,
        duration_ms: Date.now() - started,
      });
      const returnUrl = c.env.OAUTH_RETURN_URL;
      if (returnUrl) return c.redirect(withParams(returnUrl, { connection_id: connectionJsonBody.id }), 302);
      return c.json(connectionJsonBody, 200);
    } catch (error) {
      if (!(error instanceof CallbackFailure)) throw error;
      log({
        level: "warn",
        msg: "oauth callback failed",
        outcome: error.code,
        ...Object.fromEntries(
          Object.entries(error.intercomText).map(([key, text]) => [key, text.slice(0, MAX_LOGGED_INTERCOM_TEXT)]),
        ),
        duration_ms: Date.now() - started,
      });
      const returnUrl = c.env.OAUTH_RETURN_URL;
      if (returnUrl) {
        const description = RETURN_DESCRIPTIONS[error.code];
        return c.redirect(withParams(returnUrl, { error: error.code, error_description: description }), 302);
      }
      throw new ProblemError(error.status, `${error.code}: ${error.message}`);
    }
  },
);

/** Verifies the state JWT and marks its nonce used (only the first callback gets through). */
async function consumeState(
  env: Env,
  state: string | undefined,
): Promise<{ workspaceId: string; name: string | undefined }> {
  if (!state) throw new CallbackFailure("invalid_request", 400, "The callback has no state.");
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(state, await stateKey(env), {
      algorithms: ["HS256"],
      audience: STATE_AUDIENCE,
      requiredClaims: ["exp", "jti", "workspace_id"],
    }));
  } catch (error) {
    if (error instanceof ProblemError) throw error;
    if (error instanceof joseErrors.JWTExpired) {
      throw new CallbackFailure(
        "expired_state",
        400,
        "This sign-in link has expired (10 minutes); start connecting again.",
      );
    }
    throw new CallbackFailure("invalid_state", 400, "The state is not one this connector issued.");
  }
  const nonce = payload.jti!;
  const workspaceId = payload.workspace_id;
  if (typeof workspaceId !== "string")
    throw new CallbackFailure("invalid_state", 400, "The state is not one this connector issued.");
  const db = controlDb(env);
  const now = Date.now();
  const [claimed] = await db
    .update(oauthStates)
    .set({ usedAt: now })
    .where(and(eq(oauthStates.nonce, nonce), isNull(oauthStates.usedAt), eq(oauthStates.workspaceId, workspaceId)))
    .returning();
  if (!claimed) {
    const known = await db.query.oauthStates.findFirst({ where: eq(oauthStates.nonce, nonce) });
    if (known?.usedAt)
      throw new CallbackFailure("state_reused", 400, "This sign-in link was already used; start connecting again.");
    throw new CallbackFailure("invalid_state", 400, "The state is not one this connector issued.");
  }
  if (claimed.expiresAt <= now) {
    throw new CallbackFailure(
      "expired_state",
      400,
      "This sign-in link has expired (10 minutes); start connecting again.",
    );
  }
  return { workspaceId, name: typeof payload.name === "string" ? payload.name : undefined };
}

async function exchange(env: Env, code: string): Promise<string> {
  try {
    return await exchangeCode(env, code);
  } catch (error) {
    if (!(error instanceof IntercomCallError)) throw error;
    const { failure } = error;
    const intercomText = { intercom_message: failure.message };
    if (failure.kind === "server") {
      throw new CallbackFailure(
        "intercom_unavailable",
        502,
        `Intercom did not answer the code exchange (${failure.message}); try again.`,
        intercomText,
      );
    }
    if (failure.kind === "rate_limited") {
      throw new CallbackFailure(
        "intercom_unavailable",
        503,
        "Intercom is rate limiting the code exchange; try again shortly.",
        intercomText,
      );
    }
    throw new CallbackFailure(
      "exchange_failed",
      400,
      `Intercom refused the authorization code (${failure.status}: ${failure.message}).`,
      intercomText,
    );
  }
}

function withParams(base: string, params: Record<string, string>): string {
  const url = new URL(base);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}
