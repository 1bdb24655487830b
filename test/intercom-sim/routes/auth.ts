/** Who the token is (`GET /me`), OAuth consent and token exchange, and app uninstall. */
import { Hono } from "hono";
import type { SimCore } from "../core";
import { IntercomError } from "../errors";
import { bodyObject, type SimEnv } from "../http";
import { oauthCode } from "../ids";

/** OAuth consent and code exchange: no bearer token, no faults (registered before the auth middleware). */
export function oauthRoutes(core: SimCore) {
  return new Hono<SimEnv>()
    .get("/oauth", (c) => {
      const { client_id: clientId, state, redirect_uri: redirectUri } = c.req.query();
      if (clientId !== core.config.client_id) throw new IntercomError(400, "parameter_invalid", "Unknown client_id");
      // Intercom falls back to the app's first registered redirect URL; the simulator has none, so it needs one.
      if (!redirectUri || !URL.canParse(redirectUri))
        throw new IntercomError(400, "parameter_invalid", "redirect_uri must be an absolute URL");
      const target = new URL(redirectUri);
      if (core.config.oauth_deny) {
        target.searchParams.set("error", "access_denied");
      } else {
        target.searchParams.set("code", issueCode(core));
      }
      if (state !== undefined) target.searchParams.set("state", state);
      return c.redirect(target.toString(), 302);
    })
    .post("/auth/eagle/token", (c) => {
      const body = bodyObject(c);
      if (body.client_id !== core.config.client_id || body.client_secret !== core.config.client_secret) {
        throw new IntercomError(401, "unauthorized", "Unauthorized");
      }
      const appId = typeof body.code === "string" ? core.oauthCodes.get(body.code) : undefined;
      if (appId === undefined || !core.workspaces.has(appId))
        throw new IntercomError(401, "unauthorized", "Unauthorized Code");
      core.oauthCodes.delete(body.code as string);
      const token = core.issueToken(appId);
      return c.json({ token_type: "Bearer", token, access_token: token });
    });
}

/** A single-use code for the consenting workspace: `oauth_app_id`, else the first one (created if there is none). */
function issueCode(core: SimCore): string {
  const configured = core.config.oauth_app_id;
  if (configured !== null && !core.workspaces.has(configured)) {
    throw new IntercomError(400, "parameter_invalid", `oauth_app_id ${configured} names no workspace`);
  }
  const appId = configured ?? core.workspaces.keys().next().value ?? core.createWorkspace().app_id;
  const code = oauthCode();
  core.oauthCodes.set(code, appId);
  return code;
}

/** `POST /auth/uninstall`: authenticated, but part of the OAuth surface, so no faults (registered before them). */
export function uninstallRoutes(core: SimCore) {
  return new Hono<SimEnv>().post("/auth/uninstall", (c) => {
    core.revokeTokens(c.get("ws").appId);
    return c.json({});
  });
}

/** `GET /me`: the admin behind the token and the workspace (app) it belongs to. */
export function meRoutes() {
  return new Hono<SimEnv>().get("/me", (c) => {
    const ws = c.get("ws");
    return c.json({
      type: "admin",
      id: ws.admin.id,
      email: ws.admin.email,
      name: ws.admin.name,
      email_verified: true,
      app: {
        type: "app",
        id_code: ws.appId,
        name: ws.name,
        created_at: ws.createdAt,
        secure: true,
        identity_verification: false,
        // Search matches dates by UTC day, so the workspace says it lives in UTC.
        timezone: "Etc/UTC",
        region: ws.region,
      },
      avatar: { type: "avatar", image_url: null },
      has_inbox_seat: true,
    });
  });
}
