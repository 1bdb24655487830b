import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { identifyUser, setMembership, upsertAccount } from "../src/destination/ingest";
import { connectDestination, intercomRest, settle, waitFor } from "./helpers/destination";
import { countCalls, journalMark, useIntercomSim } from "./helpers/intercom-sim";

const sim = useIntercomSim();

async function syncLogs(where: string) {
  const { results } = await env.DB.prepare(
    `SELECT * FROM sync_logs WHERE direction = 'out' AND ${where} ORDER BY id`,
  ).all<{
    outcome: string;
    action: string;
    detail: string;
    object_type: string;
  }>();
  return results;
}

describe("destination sync: call efficiency", () => {
  it("creates a new contact with at most 2 calls, then one effective change costs exactly 1 call", async () => {
    const { workspace, workspaceId: ws } = await connectDestination(sim);
    await identifyUser(env, ws, {
      user_id: "u-new",
      email: "New@Example.com",
      properties: { full_name: "New Person" },
    });
    await waitFor(() => sim.state(workspace.app_id).contacts.length === 1, 10_000, "contact created");
    await settle(300);
    expect(countCalls(sim)).toBeLessThanOrEqual(2);
    expect(sim.state(workspace.app_id).contacts[0]).toMatchObject({
      external_id: "u-new",
      email: "new@example.com",
      name: "New Person",
      role: "user",
    });

    const mark = journalMark(sim);
    await identifyUser(env, ws, { user_id: "u-new", properties: { phone: "+1 555" } });
    await waitFor(() => sim.state(workspace.app_id).contacts[0]!.phone === "+1 555", 10_000, "phone synced");
    await settle(300);
    expect(countCalls(sim, { since: mark })).toBe(1);
  });

  it("a no-op write enqueues nothing and calls Intercom 0 times", async () => {
    const { workspace, workspaceId: ws } = await connectDestination(sim);
    await identifyUser(env, ws, { user_id: "u-noop", properties: { full_name: "Same" } });
    await waitFor(() => sim.state(workspace.app_id).contacts.length === 1);
    await settle(300);
    const mark = journalMark(sim);
    const again = await identifyUser(env, ws, { user_id: "u-noop", properties: { full_name: "Same" } });
    const unmapped = await identifyUser(env, ws, { user_id: "u-noop", properties: { internal_score: 3 } });
    expect(again).toMatchObject({ changed: false, queued: 0 });
    expect(unmapped).toMatchObject({ changed: true, queued: 0 });
    await settle();
    expect(countCalls(sim, { since: mark })).toBe(0);
  });

  it("100 rapid updates of one contact cost at most 3 calls and end in the last write", async () => {
    const { workspace, workspaceId: ws } = await connectDestination(sim);
    await identifyUser(env, ws, { user_id: "u-burst", properties: { full_name: "v0" } });
    await waitFor(() => sim.state(workspace.app_id).contacts.length === 1);
    await settle(300);
    const mark = journalMark(sim);
    for (let i = 1; i <= 100; i++)
      await identifyUser(env, ws, { user_id: "u-burst", properties: { full_name: `v${i}` } });
    await waitFor(() => sim.state(workspace.app_id).contacts[0]!.name === "v100", 15_000, "last write synced");
    await settle();
    expect(countCalls(sim, { since: mark })).toBeLessThanOrEqual(3);
    expect(sim.state(workspace.app_id).contacts[0]!.name).toBe("v100");
  });

  it("new users arriving together are resolved with one search, then one create each", async () => {
    const { workspace, workspaceId: ws } = await connectDestination(sim);
    await intercomRest(workspace, "POST", "/contacts", { external_id: "u-batch-0", email: "batch0@example.com" });
    // u-batch-0 has been in Intercom for a while: its search index has caught up.
    sim.settleSearch();
    sim.clearJournal();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        identifyUser(env, ws, { user_id: `u-batch-${i}`, properties: { full_name: `Batch ${i}` } }),
      ),
    );
    await waitFor(
      () => sim.state(workspace.app_id).contacts.filter((c) => c.name?.startsWith("Batch")).length === 20,
      15_000,
      "20 synced",
    );
    await settle();
    const calls = sim.journal().map((entry) => `${entry.method} ${entry.path}`);
    const searches = calls.filter((call) => call === "POST /contacts/search").length;
    expect(searches).toBeLessThanOrEqual(2);
    expect(calls.filter((call) => call === "POST /contacts")).toHaveLength(19);
    expect(calls.filter((call) => call.startsWith("PUT /contacts/"))).toHaveLength(1);
    expect(sim.state(workspace.app_id).contacts).toHaveLength(20);
  });

  it("50 concurrent first syncs of one user make exactly one contact", async () => {
    const { workspace, workspaceId: ws } = await connectDestination(sim);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        identifyUser(env, ws, {
          user_id: "u-race",
          email: "race@example.com",
          properties: { [`p${i}`]: i, full_name: "Racer" },
        }),
      ),
    );
    await waitFor(() => sim.state(workspace.app_id).contacts.length >= 1);
    await settle();
    expect(sim.state(workspace.app_id).contacts.filter((c) => c.external_id === "u-race")).toHaveLength(1);
    expect(sim.state(workspace.app_id).contacts).toHaveLength(1);
  });
});

describe("destination sync: settings", () => {
  it("syncs only users in the segment filter, and a user entering it", async () => {
    const { workspace, workspaceId: ws } = await connectDestination(sim, { segments: ["trial"] });
    const outside = await identifyUser(env, ws, { user_id: "u-out", segments: ["paying"] });
    expect(outside.queued).toBe(0);
    await settle();
    expect(countCalls(sim)).toBe(0);
    const entering = await identifyUser(env, ws, { user_id: "u-out", segments: ["paying", "trial"] });
    expect(entering.queued).toBe(1);
    await waitFor(() => sim.state(workspace.app_id).contacts.some((c) => c.external_id === "u-out"));
  });

  it("with creation off, an unknown contact is skipped with the reason and a known one is updated", async () => {
    const { workspace, workspaceId: ws } = await connectDestination(sim, { allow_create: false });
    await intercomRest(workspace, "POST", "/contacts", { external_id: "u-known", email: "known@example.com" });
    // u-known has been in Intercom for a while: its search index has caught up.
    sim.settleSearch();
    await identifyUser(env, ws, { user_id: "u-unknown", properties: { full_name: "Nobody" } });
    await identifyUser(env, ws, { user_id: "u-known", properties: { full_name: "Known Person" } });
    await waitFor(
      () => sim.state(workspace.app_id).contacts.find((c) => c.external_id === "u-known")?.name === "Known Person",
    );
    await waitFor(async () => (await syncLogs("outcome = 'skipped' AND object_id = 'u-unknown'")).length > 0);
    const [skip] = await syncLogs("outcome = 'skipped' AND object_id = 'u-unknown'");
    expect(skip!.detail).toBe("not in Intercom; creation is off");
    expect(sim.state(workspace.app_id).contacts).toHaveLength(1);
  });

  it("sends every default contact and company mapping", async () => {
    const { workspace, workspaceId: ws } = await connectDestination(sim);
    await upsertAccount(env, ws, "acme", {
      name: "Acme",
      properties: { plan: "Scale", mrr: 1234.9, registered_at: "2023-05-06T07:08:09Z" },
    });
    await identifyUser(env, ws, {
      user_id: "u-map",
      email: "Map@Example.com",
      properties: { first_name: "Grace", last_name: "Hopper", phone: "+1 202", registered_at: "2024-01-02T03:04:05Z" },
    });
    await setMembership(env, ws, "acme", "u-map", true);
    await waitFor(
      () => sim.state(workspace.app_id).companies.length === 1 && sim.state(workspace.app_id).attachments.length === 1,
      10_000,
      "attached",
    );
    const state = sim.state(workspace.app_id);
    expect(state.contacts[0]).toMatchObject({
      email: "map@example.com",
      external_id: "u-map",
      name: "Grace Hopper",
      phone: "+1 202",
      signed_up_at: 1704164645,
    });
    expect(state.companies[0]).toMatchObject({
      company_id: "acme",
      name: "Acme",
      plan: { name: "Scale" },
      monthly_spend: 1234,
      remote_created_at: 1683356889,
    });
  });

  it("coerces custom mappings to each attribute type and drops what cannot be coerced, with a warning", async () => {
    const { workspace, workspaceId: ws } = await connectDestination(sim, {
      mappings: {
        contact: [
          { from: "health", to: "custom_attributes.health", type: "float" },
          { from: "seats", to: "custom_attributes.seats", type: "integer" },
          { from: "vip", to: "custom_attributes.vip", type: "boolean" },
          { from: "trial_ends", to: "custom_attributes.trial_ends_at", type: "date" },
          { from: "stage", to: "custom_attributes.stage", type: "string" },
          { from: "bad", to: "custom_attributes.bad_count", type: "integer" },
        ],
        company: [],
      },
    });
    for (const [name, data_type] of [
      ["health", "float"],
      ["seats", "integer"],
      ["vip", "boolean"],
      ["trial_ends_at", "date"],
      ["stage", "string"],
      ["bad_count", "integer"],
    ]) {
      expect(
        (await intercomRest(workspace, "POST", "/data_attributes", { name, model: "contact", data_type })).status,
      ).toBe(200);
    }
    await identifyUser(env, ws, {
      user_id: "u-coerce",
      properties: {
        health: "0.82",
        seats: 12.7,
        vip: "yes",
        trial_ends: "2025-01-01T00:00:00Z",
        stage: 3,
        bad: "lots",
      },
    });
    await waitFor(() => sim.state(workspace.app_id).contacts.length === 1);
    expect(sim.state(workspace.app_id).contacts[0]!.custom_attributes).toEqual({
      health: 0.82,
      seats: 12,
      vip: true,
      trial_ends_at: 1735689600,
      stage: "3",
    });
    const warnings = await syncLogs("object_type = 'field'");
    expect(warnings.map((w) => w.detail)).toEqual([
      'field custom_attributes.bad_count not sent: property "bad" is a string (4 characters), not a number',
    ]);
  });
});
