import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  countCalls,
  INTERCOM_SIM_ORIGIN,
  journalMark,
  TEST_SEARCH_LAG_MS,
  useIntercomSim,
  versionsSent,
} from "../helpers/intercom-sim";

const sim = useIntercomSim();

describe("msw wiring", () => {
  it("routes a fetch to the simulated Intercom: /me with a seeded token", async () => {
    const { token, app_id: appId } = sim.createWorkspace({ app_id: "wired", token: "seeded-token" });
    const res = await fetch(`${INTERCOM_SIM_ORIGIN}/me`, {
      headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { app: { id_code: string } }).app.id_code).toBe(appId);
  });

  it("routes the EU prefix, and counts calls from the journal", async () => {
    const { token } = sim.createWorkspace({ region: "EU" });
    const mark = journalMark(sim);
    const me = await fetch(`${INTERCOM_SIM_ORIGIN}/eu/me`, { headers: { Authorization: `Bearer ${token}` } });
    expect(((await me.json()) as { app: { region: string } }).app.region).toBe("EU");
    const created = await fetch(`${INTERCOM_SIM_ORIGIN}/eu/contacts`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ external_id: "u-1" }),
    });
    expect(created.status).toBe(200);
    expect(countCalls(sim, { since: mark })).toBe(2);
    expect(countCalls(sim, { since: mark, method: "post", path: "/contacts" })).toBe(1);
    expect(countCalls(sim, { path: /^\/contacts/ })).toBe(1);
  });

  it("starts every test from an empty simulator configured with the test bindings", () => {
    expect(sim.workspaces()).toEqual([]);
    expect(sim.config).toMatchObject({
      client_id: env.INTERCOM_CLIENT_ID,
      client_secret: env.INTERCOM_CLIENT_SECRET,
      webhook_url: "https://connector.test/webhooks/intercom",
      webhook_delivery: "manual",
      // Search lag is on by default in tests: a test that needs none opts out explicitly.
      search_lag_ms: TEST_SEARCH_LAG_MS,
    });
  });

  it("tells which Intercom-Version each call carried, without rejecting any", async () => {
    const { token } = sim.createWorkspace();
    const mark = journalMark(sim);
    for (const version of ["2.16", "2.11", undefined]) {
      const res = await fetch(`${INTERCOM_SIM_ORIGIN}/me`, {
        headers: { Authorization: `Bearer ${token}`, ...(version ? { "Intercom-Version": version } : {}) },
      });
      expect(res.status).toBe(200);
    }
    expect(versionsSent(sim, { since: mark })).toEqual(["2.16", "2.11", null]);
  });

  it("delivers webhooks to the connector Worker", async () => {
    const { app_id: appId } = sim.createWorkspace();
    sim.emit({ app_id: appId, topic: "ping" });
    // The connector answers 200 to any notification whose signature it verifies, known workspace or not.
    expect(await sim.deliverWebhooks()).toEqual([200]);
    expect(sim.deliveries()[0]).not.toHaveProperty("error");
  });
});
