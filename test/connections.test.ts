import { env, exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { openToken, TokenVaultError, unsealToken } from "../src/connections/token-vault";
import { database } from "../src/db/client";
import { users } from "../src/db/schema";
import { rateBudgetObject } from "../src/intercom/rate-budget";
import { authHeaders } from "./helpers/auth";
import { connectionRow, connectViaApi } from "./helpers/connections";
import { countCalls, journalMark, useIntercomSim } from "./helpers/intercom-sim";
import { sealUnbound } from "./helpers/legacy-token";

const sim = useIntercomSim();
const BASE = "https://connector.test";

async function api(method: string, path: string, body?: unknown, workspaceId = "ws_test") {
  const res = await exports.default.fetch(`${BASE}${path}`, {
    method,
    headers: await authHeaders({ workspaceId, scope: "admin" }),
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : null) as any };
}

describe("POST /v1/connections (connect with an access token)", () => {
  it("verifies the token with GET /me on the US host and answers 201 with the documented shape", async () => {
    const ws = sim.createWorkspace({ name: "Acme US" });
    const mark = journalMark(sim);
    const res = await api("POST", "/v1/connections", { name: "Acme", access_token: ws.token });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      name: "Acme",
      status: "connected",
      intercom: { app_id: ws.app_id, name: "Acme US", region: "US" },
      source: {
        enabled: true,
        capture_chat_events: true,
        capture_user_events: true,
        create_users_from_contacts: true,
        create_accounts_from_companies: true,
        capture_relationships: true,
        on_contact_deleted: "unlink",
        import_on_enable: true,
      },
      destination: {
        enabled: false,
        segments: [],
        allow_create: false,
        mappings: { contact: [], company: [] },
        on_erase: "none",
        clear_removed: false,
      },
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      updated_at: expect.stringMatching(/Z$/),
    });
    expect(sim.journal({ since: mark }).map((e) => `${e.method} ${e.region} ${e.path} ${e.status}`)).toEqual([
      "GET US /me 200",
    ]);
    const row = await connectionRow(res.body.id);
    expect(row!.tokenJwe).not.toContain(ws.token);
    expect(await openToken(env, row!.tokenJwe!, res.body.id)).toBe(ws.token);
  });

  it("connects an EU workspace with region EU, on the EU host only", async () => {
    const ws = sim.createWorkspace({ region: "EU" });
    const mark = journalMark(sim);
    const res = await api("POST", "/v1/connections", { name: "Acme EU", access_token: ws.token, region: "EU" });
    expect(res.status).toBe(201);
    expect(res.body.intercom).toEqual({ app_id: ws.app_id, name: ws.name, region: "EU" });
    expect(sim.journal({ since: mark }).map((e) => `${e.region} ${e.path} ${e.status}`)).toEqual(["EU /me 200"]);
  });

  it("finds an EU or AU workspace without a region by trying the US, EU and AU hosts", async () => {
    const eu = sim.createWorkspace({ region: "EU" });
    const au = sim.createWorkspace({ region: "AU" });
    const mark = journalMark(sim);
    expect((await api("POST", "/v1/connections", { name: "EU", access_token: eu.token })).body.intercom.region).toBe(
      "EU",
    );
    expect((await api("POST", "/v1/connections", { name: "AU", access_token: au.token })).body.intercom.region).toBe(
      "AU",
    );
    expect(sim.journal({ since: mark }).map((e) => `${e.region} ${e.status}`)).toEqual([
      "US 401",
      "EU 200",
      "US 401",
      "EU 401",
      "AU 200",
    ]);
  });

  it("422 on access_token when Intercom refuses it (bad token, or the wrong region given)", async () => {
    const bad = await api("POST", "/v1/connections", { name: "x", access_token: "not-a-token" });
    expect(bad.status).toBe(422);
    expect(bad.headers.get("content-type")).toBe("application/problem+json");
    expect(bad.body.errors).toEqual([
      { path: "access_token", message: expect.stringMatching(/401 on the US, EU or AU hosts/) },
    ]);
    const eu = sim.createWorkspace({ region: "EU" });
    const wrongRegion = await api("POST", "/v1/connections", { name: "x", access_token: eu.token, region: "US" });
    expect(wrongRegion.status).toBe(422);
    expect(wrongRegion.body.errors[0].message).toMatch(/401 on the US host/);
    expect(
      (await api("GET", "/v1/connections")).body.items.filter((c: any) => c.intercom.app_id === eu.app_id),
    ).toEqual([]);
  });

  it("422 with one entry per bad field, unknown keys included; 400 for malformed JSON", async () => {
    const res = await api("POST", "/v1/connections", {
      name: "",
      access_token: 42,
      region: "MARS",
      extra: 1,
      other: 2,
    });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: any) => e.path).sort()).toEqual([
      "access_token",
      "extra",
      "name",
      "other",
      "region",
    ]);
    expect((await api("POST", "/v1/connections", {})).body.errors.map((e: any) => e.path).sort()).toEqual([
      "access_token",
      "name",
    ]);
    const malformed = await api("POST", "/v1/connections", "{not json");
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get("content-type")).toBe("application/problem+json");
    const array = await api("POST", "/v1/connections", "[]");
    expect(array.status).toBe(422);
  });

  it("502 when Intercom fails, 503 when it rate limits; nothing is stored", async () => {
    const ws = sim.createWorkspace();
    sim.configure({ faults: { error_rate: 1 } });
    const down = await api("POST", "/v1/connections", { name: "x", access_token: ws.token, region: "US" });
    expect(down.status).toBe(502);
    sim.configure({ faults: { error_rate: 0, rate_limit_rate: 1 } });
    const limited = await api("POST", "/v1/connections", { name: "x", access_token: ws.token, region: "US" });
    expect(limited.status).toBe(503);
    expect(limited.headers.get("retry-after")).toBeTruthy();
    sim.configure({ faults: { rate_limit_rate: 0 } });
    const list = await api("GET", "/v1/connections");
    expect(list.body.items.some((c: any) => c.intercom.app_id === ws.app_id)).toBe(false);
  });

  it("reconnecting the same Intercom workspace replaces the token of the same connection (200), keeping settings", async () => {
    const { connection, workspace } = await connectViaApi(sim, { workspaceId: "ws_re" });
    await api("PATCH", `/v1/connections/${connection.id}`, { destination: { enabled: true } }, "ws_re");
    const newToken = sim.issueToken(workspace.app_id);
    const res = await api("POST", "/v1/connections", { name: "Renamed", access_token: newToken }, "ws_re");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: connection.id,
      name: "Renamed",
      status: "connected",
      destination: { enabled: true },
    });
    expect(await openToken(env, (await connectionRow(connection.id))!.tokenJwe!, connection.id)).toBe(newToken);
    expect((await api("GET", "/v1/connections", undefined, "ws_re")).body.items).toHaveLength(1);
  });

  it("409 when the Intercom workspace belongs to another CDP workspace; it is free again once disconnected there", async () => {
    const { connection, workspace } = await connectViaApi(sim, { workspaceId: "ws_owner" });
    const taken = await api("POST", "/v1/connections", { name: "mine", access_token: workspace.token }, "ws_intruder");
    expect(taken.status).toBe(409);
    expect(taken.body.detail).toMatch(new RegExp(`Intercom workspace ${workspace.app_id} is already connected`));
    expect((await api("DELETE", `/v1/connections/${connection.id}`, undefined, "ws_owner")).status).toBe(200);
    const token = sim.issueToken(workspace.app_id);
    const moved = await api("POST", "/v1/connections", { name: "mine", access_token: token }, "ws_intruder");
    expect(moved.status).toBe(201);
    expect(moved.body.id).not.toBe(connection.id);
    // The old connection stays (disconnected, its data kept) but no longer names the Intercom workspace.
    const old = await api("GET", `/v1/connections/${connection.id}`, undefined, "ws_owner");
    expect(old.body).toMatchObject({ status: "disconnected", intercom: { app_id: null } });
  });

  it("a revoked connection whose token Intercom refuses is taken over by another CDP workspace; the old one stays revoked and says why", async () => {
    const { connection, workspace } = await connectViaApi(sim, { workspaceId: "ws_gone" });
    sim.revokeTokens(workspace.app_id);
    expect((await api("POST", `/v1/connections/${connection.id}/test`, undefined, "ws_gone")).body.ok).toBe(false);
    expect((await connectionRow(connection.id))!.status).toBe("revoked");
    const warnings = vi.spyOn(console, "warn");
    const mark = journalMark(sim);
    const token = sim.issueToken(workspace.app_id);
    const res = await api("POST", "/v1/connections", { name: "new home", access_token: token }, "ws_new_home");
    const logged = JSON.stringify(warnings.mock.calls);
    warnings.mockRestore();
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: "connected", intercom: { app_id: workspace.app_id } });
    expect(res.body.id).not.toBe(connection.id);
    // The new token is checked, then the old one: Intercom refuses it, so the old connection lets the workspace go.
    expect(sim.journal({ since: mark }).map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([
      "GET /me 200",
      "GET /me 401",
    ]);
    const old = await api("GET", `/v1/connections/${connection.id}`, undefined, "ws_gone");
    expect(old.body).toMatchObject({ status: "revoked", intercom: { app_id: null } });
    expect(await connectionRow(connection.id)).toMatchObject({
      status: "revoked",
      appId: null,
      tokenJwe: null,
      statusDetail: expect.stringMatching(/taken over by another CDP workspace after Intercom refused this token/),
    });
    expect(logged).toContain('"outcome":"taken_over"');
    expect(logged).toContain(connection.id);
    // Webhooks of that Intercom workspace now belong to the new connection.
    const { findByAppId } = await import("../src/connections/repository");
    expect((await findByAppId(database(env.DB), workspace.app_id))!.id).toBe(res.body.id);
  });

  it("a connected connection whose token Intercom refuses (not noticed yet) is marked revoked and taken over too", async () => {
    const { connection, workspace } = await connectViaApi(sim, { workspaceId: "ws_unaware" });
    sim.revokeTokens(workspace.app_id);
    const res = await api(
      "POST",
      "/v1/connections",
      { name: "x", access_token: sim.issueToken(workspace.app_id) },
      "ws_taker",
    );
    expect(res.status).toBe(201);
    expect(await connectionRow(connection.id)).toMatchObject({ status: "revoked", appId: null });
  });

  it("the takeover is refused (409) while the old token still works, even on a connection marked revoked", async () => {
    const { connection, workspace } = await connectViaApi(sim, { workspaceId: "ws_keeps" });
    await env.DB.prepare("UPDATE connections SET status = 'revoked', status_detail = 'a glitch' WHERE id = ?")
      .bind(connection.id)
      .run();
    const before = await connectionRow(connection.id);
    const warnings = vi.spyOn(console, "warn");
    const mark = journalMark(sim);
    const res = await api(
      "POST",
      "/v1/connections",
      { name: "x", access_token: sim.issueToken(workspace.app_id) },
      "ws_grabber",
    );
    const logged = JSON.stringify(warnings.mock.calls);
    warnings.mockRestore();
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(new RegExp(`Intercom workspace ${workspace.app_id} is already connected`));
    expect(sim.journal({ since: mark }).map((e) => `${e.method} ${e.path} ${e.status}`)).toEqual([
      "GET /me 200",
      "GET /me 200",
    ]);
    expect(await connectionRow(connection.id)).toEqual(before);
    expect(logged).toContain('"outcome":"conflict"');
    expect(logged).toContain('"takeover_check":"still_valid"');
  });

  it("reconnecting a revoked connection restores it and resumes its parked syncs", async () => {
    const { park } = await import("../src/destination/parking");
    const { connection, workspace } = await connectViaApi(sim);
    sim.revokeTokens(workspace.app_id);
    expect((await api("POST", `/v1/connections/${connection.id}/test`)).body.ok).toBe(false);
    expect((await api("GET", `/v1/connections/${connection.id}`)).body.status).toBe("revoked");
    await park(database(env.DB), connection.id, { kind: "user", localPk: 424242 });
    const res = await api("POST", "/v1/connections", { name: "back", access_token: sim.issueToken(workspace.app_id) });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("connected");
    const parked = await env.DB.prepare("SELECT count(*) AS n FROM parked_syncs WHERE connection_id = ?")
      .bind(connection.id)
      .first<{ n: number }>();
    expect(parked?.n).toBe(0);
  });
});

describe("GET /v1/connections and /:id", () => {
  it("lists the workspace's connections oldest first, and reads one", async () => {
    const a = await connectViaApi(sim, { workspaceId: "ws_list", name: "A" });
    const b = await connectViaApi(sim, { workspaceId: "ws_list", name: "B" });
    const list = await api("GET", "/v1/connections", undefined, "ws_list");
    expect(list.body.items.map((c: any) => c.name)).toEqual(["A", "B"]);
    expect((await api("GET", `/v1/connections/${b.connection.id}`, undefined, "ws_list")).body).toEqual(b.connection);
    expect(a.connection.id).not.toBe(b.connection.id);
    expect((await api("GET", "/v1/connections/does-not-exist", undefined, "ws_list")).status).toBe(404);
  });
});

describe("POST /v1/connections/:id/test", () => {
  it("calls GET /me and reports the app", async () => {
    const { connection, workspace } = await connectViaApi(sim, { region: "EU" });
    const mark = journalMark(sim);
    const res = await api("POST", `/v1/connections/${connection.id}/test`);
    expect(res).toMatchObject({
      status: 200,
      body: { ok: true, app: { id: workspace.app_id, name: workspace.name, region: "EU" } },
    });
    expect(countCalls(sim, { since: mark, method: "GET", path: "/me" })).toBe(1);
  });

  it("a 401 gives ok:false and marks the connection revoked; a later success restores it", async () => {
    const { connection, workspace } = await connectViaApi(sim);
    sim.revokeTokens(workspace.app_id);
    const failed = await api("POST", `/v1/connections/${connection.id}/test`);
    expect(failed.body).toEqual({ ok: false, detail: expect.stringMatching(/401/) });
    expect((await api("GET", `/v1/connections/${connection.id}`)).body.status).toBe("revoked");
    // Intercom accepts the stored token again (e.g. the 401 was a glitch on its side).
    const stored = await openToken(env, (await connectionRow(connection.id))!.tokenJwe!, connection.id);
    sim.issueToken(workspace.app_id, stored);
    expect((await api("POST", `/v1/connections/${connection.id}/test`)).body.ok).toBe(true);
    expect((await api("GET", `/v1/connections/${connection.id}`)).body.status).toBe("connected");
  });

  it("an Intercom outage is ok:false without changing the status", async () => {
    const { connection } = await connectViaApi(sim);
    sim.configure({ faults: { error_rate: 1 } });
    const res = await api("POST", `/v1/connections/${connection.id}/test`);
    sim.configure({ faults: { error_rate: 0 } });
    expect(res.body.ok).toBe(false);
    expect((await api("GET", `/v1/connections/${connection.id}`)).body.status).toBe("connected");
  });

  it("409 for a disconnected connection (no token to test)", async () => {
    const { connection } = await connectViaApi(sim);
    await api("DELETE", `/v1/connections/${connection.id}`);
    expect((await api("POST", `/v1/connections/${connection.id}/test`)).status).toBe(409);
  });
});

describe("DELETE /v1/connections/:id", () => {
  it("uninstalls at Intercom, drops the token, marks disconnected and keeps captured data", async () => {
    const { connection, workspace } = await connectViaApi(sim, { workspaceId: "ws_del" });
    const now = Date.now();
    await database(env.DB)
      .insert(users)
      .values({ workspaceId: "ws_del", userId: "u1", email: "u1@example.com", createdAt: now, updatedAt: now });
    const mark = journalMark(sim);
    const res = await api("DELETE", `/v1/connections/${connection.id}`, undefined, "ws_del");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: connection.id,
      status: "disconnected",
      intercom: { app_id: workspace.app_id },
    });
    expect(countCalls(sim, { since: mark, method: "POST", path: "/auth/uninstall" })).toBe(1);
    // The token no longer works at Intercom, and we no longer hold it.
    expect(
      (
        await fetch("https://intercom.sim.test/me", {
          headers: { authorization: `Bearer ${workspace.token}`, accept: "application/json" },
        })
      ).status,
    ).toBe(401);
    const row = await connectionRow(connection.id);
    expect(row).toMatchObject({ status: "disconnected", tokenJwe: null });
    expect(
      await database(env.DB).query.users.findFirst({ where: (u, { eq }) => eq(u.workspaceId, "ws_del") }),
    ).toBeTruthy();
    // Settings can still be read; a second DELETE is a no-op.
    const again = await api("DELETE", `/v1/connections/${connection.id}`, undefined, "ws_del");
    expect(again.status).toBe(200);
    expect(countCalls(sim, { since: mark, path: "/auth/uninstall" })).toBe(1);
  });

  it("disconnects even when Intercom cannot revoke (best effort)", async () => {
    const { connection, workspace } = await connectViaApi(sim);
    sim.revokeTokens(workspace.app_id);
    const res = await api("DELETE", `/v1/connections/${connection.id}`);
    expect(res.body.status).toBe("disconnected");
    expect((await connectionRow(connection.id))!.tokenJwe).toBeNull();
  });
});

describe("POST /webhooks/intercom/uninstall (unsigned hint)", () => {
  const hint = (body: unknown) =>
    exports.default.fetch(`${BASE}/webhooks/intercom/uninstall`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  it("a hint confirmed by a 401 on GET /me marks the connection revoked", async () => {
    const { connection, workspace } = await connectViaApi(sim);
    sim.revokeTokens(workspace.app_id);
    const res = await hint({ app_id: workspace.app_id });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    await vi.waitFor(async () => expect((await connectionRow(connection.id))!.status).toBe("revoked"));
  });

  it("a forged hint (the token still works) changes nothing, and floods are throttled", async () => {
    const { connection, workspace } = await connectViaApi(sim);
    const mark = journalMark(sim);
    for (let i = 0; i < 5; i++) expect((await hint({ app_id: workspace.app_id })).status).toBe(200);
    await vi.waitFor(() => expect(countCalls(sim, { since: mark, path: "/me" })).toBe(1));
    expect((await connectionRow(connection.id))!.status).toBe("connected");
  });

  it("the throttle is shared by every isolate (the workspace's RateBudget object) and writes nothing to D1; concurrent hints check once", async () => {
    const { connection, workspace } = await connectViaApi(sim);
    // Another isolate checked a hint for this workspace a moment ago.
    expect(await rateBudgetObject(env, workspace.app_id).claimHintCheck(30_000)).toBe(true);
    const before = await connectionRow(connection.id);
    const logs = vi.spyOn(console, "log");
    const mark = journalMark(sim);
    expect((await hint({ app_id: workspace.app_id })).status).toBe(200);
    await vi.waitFor(() => expect(JSON.stringify(logs.mock.calls)).toContain('"outcome":"throttled"'));
    logs.mockRestore();
    expect(countCalls(sim, { since: mark, path: "/me" })).toBe(0);
    expect(await connectionRow(connection.id)).toEqual(before);
    // A burst of concurrent hints about another workspace gets one check between them.
    const other = await connectViaApi(sim);
    sim.revokeTokens(other.workspace.app_id);
    const burstMark = journalMark(sim);
    const answers = await Promise.all(Array.from({ length: 10 }, () => hint({ app_id: other.workspace.app_id })));
    expect(answers.map((answer) => answer.status)).toEqual(Array(10).fill(200));
    await vi.waitFor(async () => expect((await connectionRow(other.connection.id))!.status).toBe("revoked"));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(countCalls(sim, { since: burstMark, path: "/me" })).toBe(1);
  });

  it("the check's GET /me spends the workspace's rate budget: with the budget spent, nothing is sent", async () => {
    const { connection, workspace } = await connectViaApi(sim);
    const budget = rateBudgetObject(env, workspace.app_id);
    const grant = await budget.reserve();
    await budget.report(grant.window, { limit: 5, remaining: 0, resetAt: Date.now() + 60_000, limited: true });
    const logs = vi.spyOn(console, "log");
    const mark = journalMark(sim);
    expect((await hint({ app_id: workspace.app_id })).status).toBe(200);
    await vi.waitFor(() => expect(JSON.stringify(logs.mock.calls)).toContain('"outcome":"check_failed"'));
    const logged = JSON.stringify(logs.mock.calls);
    logs.mockRestore();
    expect(logged).toContain("rate_limited");
    expect(countCalls(sim, { since: mark })).toBe(0);
    expect((await connectionRow(connection.id))!.status).toBe("connected");
  });

  it("an unknown app_id is the same 200; a body without app_id is a 422", async () => {
    expect((await hint({ app_id: "nobody" })).status).toBe(200);
    const bad = await hint({ nope: 1 });
    expect(bad.status).toBe(422);
    expect(bad.headers.get("content-type")).toBe("application/problem+json");
  });
});

describe("sealed tokens are bound to their connection", () => {
  it("a token copied into another connection's row does not open there: the use is an error, logged, nothing sent", async () => {
    const a = await connectViaApi(sim, { workspaceId: "ws_swap" });
    const b = await connectViaApi(sim, { workspaceId: "ws_swap" });
    const bBefore = (await connectionRow(b.connection.id))!.tokenJwe;
    await env.DB.prepare(
      "UPDATE connections SET token_jwe = (SELECT token_jwe FROM connections WHERE id = ?) WHERE id = ?",
    )
      .bind(a.connection.id, b.connection.id)
      .run();
    const swapped = (await connectionRow(b.connection.id))!.tokenJwe!;
    expect(swapped).not.toBe(bBefore);
    const errors = vi.spyOn(console, "error");
    const mark = journalMark(sim);
    const res = await api("POST", `/v1/connections/${b.connection.id}/test`, undefined, "ws_swap");
    const logged = JSON.stringify(errors.mock.calls);
    errors.mockRestore();
    expect(res.status).toBe(500);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.body.detail).toMatch(/stored token cannot be decrypted: .*for this connection/);
    expect(JSON.stringify(res.body)).not.toContain(a.workspace.token);
    expect(logged).toContain('"outcome":"vault_error"');
    expect(logged).toContain(b.connection.id);
    expect(logged).not.toContain(a.workspace.token);
    // A's token was never used on B's behalf, and B's row is left as it was found (not re-sealed).
    expect(sim.journal({ since: mark })).toEqual([]);
    expect((await connectionRow(b.connection.id))!.tokenJwe).toBe(swapped);
    // A's own token still works for A.
    expect((await api("POST", `/v1/connections/${a.connection.id}/test`, undefined, "ws_swap")).body.ok).toBe(true);
  });

  it("a token sealed before binding existed still opens, and is sealed again bound to its connection on first use", async () => {
    const { connection, workspace } = await connectViaApi(sim, { workspaceId: "ws_legacy" });
    const legacy = await sealUnbound(env.TOKEN_ENCRYPTION_KEY, workspace.token);
    await env.DB.prepare("UPDATE connections SET token_jwe = ? WHERE id = ?").bind(legacy, connection.id).run();
    const logs = vi.spyOn(console, "log");
    const res = await api("POST", `/v1/connections/${connection.id}/test`, undefined, "ws_legacy");
    const logged = JSON.stringify(logs.mock.calls);
    logs.mockRestore();
    expect(res.body).toMatchObject({ ok: true, app: { id: workspace.app_id } });
    const resealed = (await connectionRow(connection.id))!.tokenJwe!;
    expect(resealed).not.toBe(legacy);
    expect(logged).toContain('"outcome":"resealed"');
    expect(await unsealToken(env, resealed, connection.id)).toEqual({ token: workspace.token, bound: true });
    await expect(openToken(env, resealed, "another-connection")).rejects.toThrow(TokenVaultError);
  });
});

describe("GET /openapi.json", () => {
  it("describes every connection route from the same schemas, with bearer security", async () => {
    const doc = (await (await exports.default.fetch(`${BASE}/openapi.json`)).json()) as any;
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops as object).map((method) => `${method.toUpperCase()} ${path}`),
    );
    for (const route of [
      "POST /v1/connections",
      "GET /v1/connections",
      "GET /v1/connections/{id}",
      "PATCH /v1/connections/{id}",
      "DELETE /v1/connections/{id}",
      "POST /v1/connections/{id}/test",
      "GET /v1/connections/{id}/logs",
      "POST /v1/connections/oauth",
      "GET /oauth/intercom/callback",
      "POST /webhooks/intercom/uninstall",
    ]) {
      expect(routes).toContain(route);
    }
    expect(doc.paths["/v1/connections/{id}"].patch.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths["/v1/connections/{id}/logs"].get.parameters.map((p: any) => p.name).sort()).toEqual(
      ["cursor", "direction", "id", "limit", "object_type", "outcome", "q"].sort(),
    );
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(["Connection", "ConnectionPatch", "FieldMapping", "Problem", "SyncLogPage"]),
    );
    expect(doc.components.schemas.Connection.properties.intercom.properties.region.enum).toEqual(["US", "EU", "AU"]);
  });
});
