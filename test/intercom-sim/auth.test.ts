import { describe, expect, it } from "vitest";
import { send, setup } from "./support";

const UNAUTHORIZED = { type: "error.list", errors: [{ code: "unauthorized", message: "Access Token Invalid" }] };

describe("bearer tokens", () => {
  it("answers 401 error.list for a missing, unknown or revoked token", async () => {
    const { sim, ws, api } = setup();
    for (const init of [{}, { token: "nope" }, { headers: { Authorization: "Basic abc" } }]) {
      const res = await send(sim, "GET", "/me", init);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject(UNAUTHORIZED);
      expect(res.body.request_id).toMatch(/^[0-9a-f-]{36}$/);
      // Intercom sends no rate-limit headers without valid credentials.
      expect(res.headers.get("X-RateLimit-Limit")).toBeNull();
    }
    expect((await api.get("/me")).status).toBe(200);
    sim.revokeTokens(ws.app_id);
    expect(await api.get("/me")).toMatchObject({ status: 401, body: UNAUTHORIZED });
  });

  it("issues further tokens that work side by side, and revokes them all at once", async () => {
    const { sim, ws } = setup();
    const second = sim.issueToken(ws.app_id);
    expect((await send(sim, "GET", "/me", { token: second })).status).toBe(200);
    expect((await send(sim, "GET", "/me", { token: ws.token })).status).toBe(200);
    sim.revokeTokens(ws.app_id);
    expect((await send(sim, "GET", "/me", { token: second })).status).toBe(401);
  });
});

describe("GET /me", () => {
  it("returns the admin with the workspace as app (id_code, region, …)", async () => {
    const { api } = setup();
    const res = await api.get("/me");
    expect(res.body).toMatchObject({
      type: "admin",
      id: expect.stringMatching(/^\d+$/),
      email: expect.any(String),
      name: expect.any(String),
      email_verified: true,
      app: {
        type: "app",
        id_code: "app_us",
        name: "US workspace",
        created_at: expect.any(Number),
        secure: true,
        identity_verification: false,
        timezone: expect.any(String),
        region: "US",
      },
    });
  });
});

describe("OAuth", () => {
  const REDIRECT = "https://connector.test/oauth/intercom/callback";
  const consent = (sim: ReturnType<typeof setup>["sim"], clientId = "sim-client-id") =>
    send(sim, "GET", `/oauth?client_id=${clientId}&state=st%3D1&redirect_uri=${encodeURIComponent(REDIRECT)}`);

  it("redirects at once to redirect_uri with a code and the state", async () => {
    const { sim } = setup();
    const res = await consent(sim);
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location")!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
    expect(location.searchParams.get("state")).toBe("st=1");
    expect(location.searchParams.get("code")).toBeTruthy();
  });

  it("redirects with error=access_denied when consent is denied", async () => {
    const { sim } = setup();
    sim.configure({ oauth_deny: true });
    const location = new URL((await consent(sim)).headers.get("location")!);
    expect(location.searchParams.get("error")).toBe("access_denied");
    expect(location.searchParams.get("state")).toBe("st=1");
    expect(location.searchParams.has("code")).toBe(false);
  });

  it("answers 400 for an unknown client_id", async () => {
    const { sim } = setup();
    expect((await consent(sim, "someone-else")).status).toBe(400);
  });

  it("exchanges a code for a token of the consenting workspace (form-encoded), once only", async () => {
    const { sim } = setup();
    const other = sim.createWorkspace({ app_id: "app_two" });
    sim.configure({ oauth_app_id: other.app_id });
    const code = new URL((await consent(sim)).headers.get("location")!).searchParams.get("code")!;
    const form = new URLSearchParams({
      code,
      client_id: "sim-client-id",
      client_secret: "sim-client-secret",
    }).toString();
    const headers = { "Content-Type": "application/x-www-form-urlencoded" };
    const exchange = await send(sim, "POST", "/auth/eagle/token", { body: form, headers });
    expect(exchange.status).toBe(200);
    expect(exchange.body).toEqual({
      token_type: "Bearer",
      token: expect.any(String),
      access_token: exchange.body.token,
    });
    const me = await send(sim, "GET", "/me", { token: exchange.body.token });
    expect(me.body.app.id_code).toBe("app_two");

    const again = await send(sim, "POST", "/auth/eagle/token", { body: form, headers });
    expect(again.status).toBe(401);
    expect(again.body.errors).toEqual([{ code: "unauthorized", message: "Unauthorized Code" }]);
  });

  it("accepts a JSON token exchange and rejects bad client credentials without using up the code", async () => {
    const { sim } = setup();
    const code = new URL((await consent(sim)).headers.get("location")!).searchParams.get("code")!;
    const bad = await send(sim, "POST", "/auth/eagle/token", {
      body: { code, client_id: "sim-client-id", client_secret: "wrong" },
    });
    expect(bad.status).toBe(401);
    expect(bad.body.errors).toEqual([{ code: "unauthorized", message: "Unauthorized" }]);
    const good = await send(sim, "POST", "/auth/eagle/token", {
      body: { code, client_id: "sim-client-id", client_secret: "sim-client-secret" },
    });
    expect(good.status).toBe(200);
    expect((await send(sim, "GET", "/me", { token: good.body.access_token })).body.app.id_code).toBe("app_us");
  });

  it("answers 401 Unauthorized Code for a code it never issued", async () => {
    const { sim } = setup();
    const res = await send(sim, "POST", "/auth/eagle/token", {
      body: { code: "made-up", client_id: "sim-client-id", client_secret: "sim-client-secret" },
    });
    expect(res.status).toBe(401);
    expect(res.body.errors[0].message).toBe("Unauthorized Code");
  });

  it("POST /auth/uninstall revokes every token of the workspace", async () => {
    const { sim, ws, api } = setup();
    const second = sim.issueToken(ws.app_id);
    expect(await api.post("/auth/uninstall")).toMatchObject({ status: 200, body: {} });
    expect((await api.get("/me")).status).toBe(401);
    expect((await send(sim, "GET", "/me", { token: second })).status).toBe(401);
  });
});
