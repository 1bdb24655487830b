import { env, exports } from "cloudflare:workers";
import { decodeJwt, SignJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { app } from "../src/api/app";
import { openToken } from "../src/connections/token-vault";
import { authHeaders } from "./helpers/auth";
import { connectionRow, connectViaApi } from "./helpers/connections";
import { useIntercomSim } from "./helpers/intercom-sim";

const sim = useIntercomSim();
const BASE = "https://connector.test";
const RETURN_URL = "https://cdp.test/settings/intercom?tab=connections";

afterEach(() => vi.useRealTimers());

async function start(workspaceId = "ws_oauth", body?: unknown) {
  const res = await exports.default.fetch(`${BASE}/v1/connections/oauth`, {
    method: "POST",
    headers: await authHeaders({ workspaceId, scope: "admin" }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

/** The admin's browser at Intercom: consent redirects straight back to our callback with `code` and `state`. */
async function consent(authorizeUrl: string): Promise<string> {
  const res = await fetch(authorizeUrl, { redirect: "manual" });
  expect(res.status).toBe(302);
  return res.headers.get("location")!;
}

/** The browser following Intercom's redirect; with `returnUrl`, the connector is configured with OAUTH_RETURN_URL. */
async function callback(url: string, returnUrl?: string) {
  const path = new URL(url).pathname + new URL(url).search;
  const res = returnUrl
    ? await app.request(path, { redirect: "manual" }, { ...env, OAUTH_RETURN_URL: returnUrl })
    : await exports.default.fetch(`${BASE}${path}`, { redirect: "manual" });
  const text = await res.text();
  return {
    status: res.status,
    location: res.headers.get("location"),
    type: res.headers.get("content-type"),
    body: (text ? JSON.parse(text) : null) as any,
  };
}

async function connectionsOf(workspaceId: string) {
  const res = await exports.default.fetch(`${BASE}/v1/connections`, { headers: await authHeaders({ workspaceId }) });
  return ((await res.json()) as { items: any[] }).items;
}

/** The state of an authorize URL. */
const stateOf = (authorizeUrl: string) => new URL(authorizeUrl).searchParams.get("state")!;
const withState = (callbackUrl: string, state: string) => {
  const url = new URL(callbackUrl);
  url.searchParams.set("state", state);
  return url.toString();
};

describe("POST /v1/connections/oauth", () => {
  it("returns Intercom's authorize URL with client_id, redirect_uri and a signed 10-minute state", async () => {
    const { status, body } = await start("ws_oauth", { name: "Support" });
    expect(status).toBe(200);
    const url = new URL(body.authorize_url);
    expect(`${url.origin}${url.pathname}`).toBe(env.INTERCOM_OAUTH_URL);
    expect(url.searchParams.get("client_id")).toBe(env.INTERCOM_CLIENT_ID);
    expect(url.searchParams.get("redirect_uri")).toBe("https://connector.test/oauth/intercom/callback");
    const claims = decodeJwt(url.searchParams.get("state")!);
    expect(claims).toMatchObject({ workspace_id: "ws_oauth", name: "Support", jti: expect.any(String) });
    expect(claims.exp! - claims.iat!).toBe(600);
    expect(Date.parse(body.expires_at)).toBe(claims.exp! * 1000);
  });

  it("works without a body; validates one when given; needs the admin scope", async () => {
    expect((await start("ws_oauth")).status).toBe(200);
    const bad = await start("ws_oauth", { name: "", region: "EU" });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: any) => e.path).sort()).toEqual(["name", "region"]);
    const res = await exports.default.fetch(`${BASE}/v1/connections/oauth`, {
      method: "POST",
      headers: await authHeaders({ scope: "ingest" }),
    });
    expect(res.status).toBe(403);
  });
});

describe("GET /oauth/intercom/callback", () => {
  it("round trip: consent, code exchange, GET /me, connection stored; 200 JSON without OAUTH_RETURN_URL", async () => {
    const ws = sim.createWorkspace({ name: "Support workspace" });
    const { body } = await start("ws_round", { name: "Support" });
    const mark = sim.journal().at(-1)?.seq ?? 0;
    const res = await callback(await consent(body.authorize_url));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      name: "Support",
      status: "connected",
      intercom: { app_id: ws.app_id, name: "Support workspace", region: "US" },
    });
    expect(sim.journal({ since: mark }).map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([
      "GET /oauth 302",
      "POST /auth/eagle/token 200",
      "GET /me 200",
    ]);
    // The form-encoded exchange carries the app credentials (to Intercom only).
    const exchange = sim.journal({ since: mark }).find((e) => e.path === "/auth/eagle/token")!;
    expect(exchange.request_body).toMatchObject({ client_id: env.INTERCOM_CLIENT_ID, code: expect.any(String) });
    const row = await connectionRow(res.body.id);
    expect(row!.workspaceId).toBe("ws_round");
    // The stored token is the one Intercom issued, and it works.
    const token = await openToken(env, row!.tokenJwe!, row!.id);
    expect(
      (await fetch("https://intercom.sim.test/me", { headers: { authorization: `Bearer ${token}` } })).status,
    ).toBe(200);
  });

  it("302 to OAUTH_RETURN_URL?connection_id=… when it is set (keeping its own query)", async () => {
    sim.createWorkspace();
    const { body } = await start("ws_return");
    const res = await callback(await consent(body.authorize_url), RETURN_URL);
    expect(res.status).toBe(302);
    const location = new URL(res.location!);
    expect(`${location.origin}${location.pathname}`).toBe("https://cdp.test/settings/intercom");
    expect(location.searchParams.get("tab")).toBe("connections");
    const [connection] = await connectionsOf("ws_return");
    expect(location.searchParams.get("connection_id")).toBe(connection.id);
  });

  it("finds an EU workspace (the token works on its regional host only); the name defaults to the workspace's", async () => {
    const eu = sim.createWorkspace({ region: "EU", name: "Europe" });
    sim.configure({ oauth_app_id: eu.app_id });
    const { body } = await start("ws_eu");
    const res = await callback(await consent(body.authorize_url));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: "Europe", intercom: { app_id: eu.app_id, region: "EU" } });
  });

  it("denied consent: 403 access_denied problem, or ?error=access_denied on the return URL; nothing stored", async () => {
    sim.createWorkspace();
    sim.configure({ oauth_deny: true });
    const first = await start("ws_denied");
    const problem = await callback(await consent(first.body.authorize_url));
    expect(problem.status).toBe(403);
    expect(problem.type).toBe("application/problem+json");
    expect(problem.body.detail).toMatch(/^access_denied: /);
    const second = await start("ws_denied");
    const redirect = await callback(await consent(second.body.authorize_url), RETURN_URL);
    expect(redirect.status).toBe(302);
    const location = new URL(redirect.location!);
    expect(location.searchParams.get("error")).toBe("access_denied");
    expect(location.searchParams.get("error_description")).toMatch(/did not grant access/);
    expect(location.searchParams.has("connection_id")).toBe(false);
    expect(await connectionsOf("ws_denied")).toEqual([]);
  });

  it("Intercom's error text never reaches the return URL or the answer: a fixed text per code, Intercom's words in the logs", async () => {
    const injected = `Your account is locked. Call +1-555-0100 <script>alert(1)</script> ${"x".repeat(900)}`;
    const denied = async (returnUrl?: string) => {
      const { body } = await start("ws_inject");
      const url = new URL(`${BASE}/oauth/intercom/callback`);
      url.searchParams.set("state", stateOf(body.authorize_url));
      url.searchParams.set("error", "access_denied");
      url.searchParams.set("error_description", injected);
      return callback(url.toString(), returnUrl);
    };
    const warnings = vi.spyOn(console, "warn");
    const redirect = await denied(RETURN_URL);
    const problem = await denied();
    const logged = JSON.stringify(warnings.mock.calls);
    warnings.mockRestore();
    const location = new URL(redirect.location!);
    expect(location.searchParams.get("error")).toBe("access_denied");
    expect(location.searchParams.get("error_description")).toBe("The Intercom admin did not grant access.");
    expect(redirect.location).not.toMatch(/locked|alert|555/);
    expect(problem.status).toBe(403);
    expect(problem.body.detail).toBe("access_denied: The Intercom admin did not grant access.");
    // Intercom's own words are kept for the operator: at warn level, cut to 200 characters.
    expect(logged).toContain('"outcome":"access_denied"');
    expect(logged).toContain('"intercom_error":"access_denied"');
    expect(logged).toContain("Your account is locked. Call +1-555-0100");
    expect(logged).not.toContain("x".repeat(200));
    // The same for a code Intercom refuses: the return URL gets the fixed text, not Intercom's message.
    sim.createWorkspace();
    const { body } = await start("ws_inject");
    const url = new URL(await consent(body.authorize_url));
    url.searchParams.set("code", "forged-code");
    const refused = await callback(url.toString(), RETURN_URL);
    const refusedAt = new URL(refused.location!);
    expect(refusedAt.searchParams.get("error")).toBe("exchange_failed");
    expect(refusedAt.searchParams.get("error_description")).toBe(
      "Intercom refused the authorization code; start connecting again.",
    );
  });

  it("a state is single-use: the second callback is state_reused", async () => {
    sim.createWorkspace();
    const { body } = await start("ws_reuse");
    const url = await consent(body.authorize_url);
    expect((await callback(url)).status).toBe(200);
    const again = await callback(url);
    expect(again.status).toBe(400);
    expect(again.body.detail).toMatch(/^state_reused: /);
    // Even with a fresh code from Intercom.
    const fresh = await consent(body.authorize_url);
    expect((await callback(fresh)).body.detail).toMatch(/^state_reused/);
    const redirected = await callback(fresh, RETURN_URL);
    expect(new URL(redirected.location!).searchParams.get("error")).toBe("state_reused");
    expect(await connectionsOf("ws_reuse")).toHaveLength(1);
  });

  it("an expired state (after 10 minutes) is expired_state, and nothing is stored", async () => {
    sim.createWorkspace();
    vi.useFakeTimers({ toFake: ["Date"] });
    const { body } = await start("ws_expired");
    const url = await consent(body.authorize_url);
    vi.setSystemTime(Date.now() + 10 * 60_000 + 1_000);
    const res = await callback(url);
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/^expired_state: /);
    expect(await connectionsOf("ws_expired")).toEqual([]);
  });

  it("a tampered or foreign state is invalid_state, and no code is exchanged", async () => {
    sim.createWorkspace();
    const { body } = await start("ws_victim");
    const url = await consent(body.authorize_url);
    const state = stateOf(body.authorize_url);
    const [header, payload, signature] = state.split(".");
    const claims = JSON.parse(atob(payload!.replace(/-/g, "+").replace(/_/g, "/")));
    const evilPayload = btoa(JSON.stringify({ ...claims, workspace_id: "ws_attacker" }))
      .replace(/=+$/, "")
      .replace(/\+/g, "-")
      .replace(/\//g, "_");
    const signedWithOtherKey = await new SignJWT({ workspace_id: "ws_victim" })
      .setProtectedHeader({ alg: "HS256" })
      .setJti(claims.jti)
      .setAudience("intercom-connector:oauth-state")
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode(env.ADMIN_JWT_SECRET));
    const mark = sim.journal().at(-1)?.seq ?? 0;
    for (const forged of [
      `${header}.${evilPayload}.${signature}`,
      `${header}.${payload}.${signature!.slice(0, -4)}AAAA`,
      signedWithOtherKey,
      "not-a-jwt",
      `${header}.${payload}.`,
    ]) {
      const res = await callback(withState(url, forged));
      expect(res.status, forged).toBe(400);
      expect(res.body.detail).toMatch(/^invalid_state: /);
    }
    expect(sim.journal({ since: mark }).filter((e) => e.path === "/auth/eagle/token")).toEqual([]);
    expect(await connectionsOf("ws_attacker")).toEqual([]);
    // The genuine state still works: the forgeries did not burn it.
    expect((await callback(url)).status).toBe(200);
  });

  it("missing state or code: invalid_request", async () => {
    expect((await callback(`${BASE}/oauth/intercom/callback?code=abc`)).body.detail).toMatch(
      /^invalid_request: .*no state/,
    );
    const { body } = await start("ws_nocode");
    const res = await callback(
      `${BASE}/oauth/intercom/callback?state=${encodeURIComponent(stateOf(body.authorize_url))}`,
    );
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/^invalid_request: .*no code/);
  });

  it("a code Intercom refuses is exchange_failed; nothing stored", async () => {
    sim.createWorkspace();
    const { body } = await start("ws_badcode");
    const url = new URL(await consent(body.authorize_url));
    url.searchParams.set("code", "forged-code");
    const res = await callback(url.toString());
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(
      /^exchange_failed: Intercom refused the authorization code \(401: Unauthorized Code\)/,
    );
    expect(await connectionsOf("ws_badcode")).toEqual([]);
  });

  it("wrong app credentials at the exchange are exchange_failed too", async () => {
    sim.createWorkspace();
    const { body } = await start("ws_badsecret");
    const url = await consent(body.authorize_url);
    sim.configure({ client_secret: "rotated-at-intercom" });
    const res = await callback(url, RETURN_URL);
    expect(new URL(res.location!).searchParams.get("error")).toBe("exchange_failed");
    expect(await connectionsOf("ws_badsecret")).toEqual([]);
  });

  it("GET /me failing after the exchange is intercom_unavailable (502)", async () => {
    sim.createWorkspace();
    const { body } = await start("ws_down");
    const url = await consent(body.authorize_url);
    sim.configure({ faults: { error_rate: 1 } });
    const res = await callback(url);
    sim.configure({ faults: { error_rate: 0 } });
    expect(res.status).toBe(502);
    expect(res.body.detail).toMatch(/^intercom_unavailable: /);
    expect(await connectionsOf("ws_down")).toEqual([]);
  });

  it("an Intercom workspace connected to another CDP workspace is workspace_conflict (409)", async () => {
    const { workspace } = await connectViaApi(sim, { workspaceId: "ws_first" });
    sim.configure({ oauth_app_id: workspace.app_id });
    const { body } = await start("ws_second");
    const res = await callback(await consent(body.authorize_url));
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/^workspace_conflict: /);
    expect(await connectionsOf("ws_second")).toEqual([]);
  });

  it("OAuth for an Intercom workspace the CDP workspace already has replaces its token", async () => {
    const { connection, workspace } = await connectViaApi(sim, { workspaceId: "ws_again" });
    sim.configure({ oauth_app_id: workspace.app_id });
    const { body } = await start("ws_again");
    const res = await callback(await consent(body.authorize_url));
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(connection.id);
    expect(await openToken(env, (await connectionRow(connection.id))!.tokenJwe!, connection.id)).not.toBe(
      workspace.token,
    );
  });
});
