import { describe, expect, it } from "vitest";
import { DEFAULT_CONFIG } from "./config";
import { createSimulator } from "./simulator";
import { send } from "./support";

describe("control API", () => {
  it("reads and partially updates the configuration, rejecting unknown keys and bad values", async () => {
    const sim = createSimulator();
    expect((await send(sim, "GET", "/_sim/config")).body).toEqual(DEFAULT_CONFIG);
    const updated = await send(sim, "POST", "/_sim/config", {
      body: { search_lag_ms: 5000, rate_limit: { limit: 10 }, faults: { latency_ms: { max: 5 } } },
    });
    expect(updated.body).toMatchObject({
      search_lag_ms: 5000,
      rate_limit: { limit: 10, window_ms: 10_000 },
      faults: { latency_ms: { min: 0, max: 5 }, error_rate: 0 },
    });
    expect(sim.config.rate_limit.limit).toBe(10);
    for (const body of [
      { nope: 1 },
      { faults: { error_rate: 2 } },
      { webhook_delivery: "sometimes" },
      { rate_limit: { limit: -1 } },
    ]) {
      expect((await send(sim, "POST", "/_sim/config", { body })).status).toBe(400);
    }
  });

  it("creates workspaces, generating what is missing, and answers 409 for a taken app_id", async () => {
    const sim = createSimulator();
    const generated = await send(sim, "POST", "/_sim/workspaces", { body: {} });
    expect(generated.status).toBe(201);
    expect(generated.body).toEqual({
      app_id: expect.stringMatching(/^[a-z0-9]{8}$/),
      name: expect.any(String),
      region: "US",
      token: expect.any(String),
    });
    const given = await send(sim, "POST", "/_sim/workspaces", {
      body: { app_id: "acme", name: "Acme", region: "EU", token: "tok-acme" },
    });
    expect(given.body).toEqual({ app_id: "acme", name: "Acme", region: "EU", token: "tok-acme" });
    expect((await send(sim, "GET", "/eu/me", { token: "tok-acme" })).status).toBe(200);
    expect((await send(sim, "POST", "/_sim/workspaces", { body: { app_id: "acme" } })).status).toBe(409);
    expect((await send(sim, "POST", "/_sim/workspaces", { body: { region: "MARS" } })).status).toBe(400);
    expect((await send(sim, "GET", "/_sim/workspaces")).body.workspaces).toHaveLength(2);
  });

  it("issues and revokes tokens, and sets a workspace's own rate limit", async () => {
    const sim = createSimulator();
    const { app_id: appId, token } = sim.createWorkspace();
    const issued = await send(sim, "POST", `/_sim/workspaces/${appId}/tokens`);
    expect((await send(sim, "GET", "/me", { token: issued.body.token })).status).toBe(200);
    await send(sim, "POST", `/_sim/workspaces/${appId}/revoke`);
    expect((await send(sim, "GET", "/me", { token })).status).toBe(401);
    expect((await send(sim, "GET", "/me", { token: issued.body.token })).status).toBe(401);
    const patched = await send(sim, "PATCH", `/_sim/workspaces/${appId}`, { body: { rate_limit: { limit: 7 } } });
    expect(patched.body.rate_limit).toEqual({ limit: 7, window_ms: 10_000 });
    expect((await send(sim, "POST", "/_sim/workspaces/nope/tokens")).status).toBe(404);
  });

  it("shows a workspace's whole state, archived contacts included", async () => {
    const sim = createSimulator();
    const { app_id: appId, token } = sim.createWorkspace({ app_id: "acme" });
    const contact = (await send(sim, "POST", "/contacts", { token, body: { external_id: "u-1" } })).body;
    await send(sim, "POST", `/contacts/${contact.id}/archive`, { token });
    await send(sim, "POST", "/data_attributes", {
      token,
      body: { name: "tier", model: "company", data_type: "string" },
    });
    const state = (await send(sim, "GET", `/_sim/state?app_id=${appId}`)).body;
    expect(state).toMatchObject({
      workspace: { app_id: "acme", region: "US" },
      contacts: [{ id: contact.id, archived: true }],
      companies: [],
      attachments: [],
      tags: [],
      taggings: [],
      events: [],
      data_attributes: [{ name: "tier", model: "company" }],
    });
    expect((await send(sim, "GET", "/_sim/state")).body.workspaces).toEqual([
      expect.objectContaining({ app_id: "acme" }),
    ]);
  });

  it("resets everything back to the creation options", async () => {
    const sim = createSimulator({ config: { client_secret: "kept" } });
    const { token } = sim.createWorkspace();
    await send(sim, "POST", "/contacts", { token, body: { external_id: "u-1" } });
    sim.configure({ search_lag_ms: 99 });
    expect((await send(sim, "POST", "/_sim/reset")).body).toEqual({ ok: true });
    expect(sim.workspaces()).toEqual([]);
    expect(sim.journal()).toEqual([]);
    expect(sim.pendingWebhooks()).toEqual([]);
    expect(sim.config).toMatchObject({ client_secret: "kept", search_lag_ms: 0 });
    expect((await send(sim, "GET", "/me", { token })).status).toBe(401);
  });

  it("answers 404 for an unknown control route and never journals control calls", async () => {
    const sim = createSimulator();
    expect((await send(sim, "GET", "/_sim/nothing-here")).status).toBe(404);
    expect(sim.journal()).toEqual([]);
  });
});
