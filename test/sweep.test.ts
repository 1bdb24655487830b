import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { COMPANY_SWEEP_EVERY_SECONDS, companySweepPlan } from "../src/source/sweep/companies";
import { FIRST_LOOKBACK_SECONDS, OVERLAP_SECONDS, sweepWindow } from "../src/source/sweep/contacts";
import { authHeaders } from "./helpers/auth";
import { connectSimWorkspace, seedConnection } from "./helpers/connections";
import { intercomRest, settle, waitFor } from "./helpers/destination";
import { useIntercomSim } from "./helpers/intercom-sim";

const sim = useIntercomSim();

const connectSource = () => connectSimWorkspace(sim);

async function account(workspaceId: string, accountId: string) {
  const response = await exports.default.fetch(`https://connector.test/v1/accounts/${accountId}`, {
    headers: await authHeaders({ workspaceId, scope: "ingest" }),
  });
  return response.status === 200 ? ((await response.json()) as { name: string | null }) : null;
}

async function lookup(workspaceId: string, userId: string) {
  const response = await exports.default.fetch(`https://connector.test/v1/users/lookup?user_id=${userId}`, {
    headers: await authHeaders({ workspaceId, scope: "ingest" }),
  });
  return response.status === 200 ? ((await response.json()) as { properties: Record<string, unknown> }) : null;
}

/** Runs the cron once and waits until each connection's sweep run (JOBS pages) has logged its end. */
async function runCron(): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/10 * * * *" }), env, ctx);
  await waitOnExecutionContext(ctx);
}

async function sweepRows(connectionId: string, action: "sweep" | "sweep_companies") {
  const { results } = await env.DB.prepare(
    "SELECT outcome, detail FROM sync_logs WHERE connection_id = ? AND action = ? ORDER BY id",
  )
    .bind(connectionId, action)
    .all<{ outcome: string; detail: string }>();
  return results;
}

/** Runs the cron and returns the connection's new sweep rows (contacts, and companies when that half ran). */
async function sweep(connectionId: string, options: { companies: boolean }) {
  const before = {
    contacts: (await sweepRows(connectionId, "sweep")).length,
    companies: (await sweepRows(connectionId, "sweep_companies")).length,
  };
  await runCron();
  const contacts = await waitFor(
    async () => (await sweepRows(connectionId, "sweep"))[before.contacts] ?? null,
    10_000,
    "contacts swept",
  );
  const companies = options.companies
    ? await waitFor(
        async () => (await sweepRows(connectionId, "sweep_companies"))[before.companies] ?? null,
        10_000,
        "companies swept",
      )
    : null;
  if (!options.companies) {
    await settle();
    expect(await sweepRows(connectionId, "sweep_companies")).toHaveLength(before.companies);
  }
  return { contacts, companies };
}

describe("reconciliation sweep", () => {
  it("searches from the day before, then keeps an exact lower bound with an overlap", () => {
    expect(sweepWindow(null, 1_000_000)).toEqual({
      from: 1_000_000 - FIRST_LOOKBACK_SECONDS,
      queryAfter: 1_000_000 - FIRST_LOOKBACK_SECONDS - 86_400,
    });
    expect(sweepWindow(900_000, 1_000_000).from).toBe(900_000 - OVERLAP_SECONDS);
  });

  it("plans a company sweep on the first run, then once the last one's lower bound is an hour old", () => {
    expect(companySweepPlan(null, 1_000_000, FIRST_LOOKBACK_SECONDS)).toEqual({
      due: true,
      from: 1_000_000 - FIRST_LOOKBACK_SECONDS,
    });
    expect(companySweepPlan(1_000_000 - 60, 1_000_000, FIRST_LOOKBACK_SECONDS).due).toBe(false);
    expect(companySweepPlan(1_000_000 - COMPANY_SWEEP_EVERY_SECONDS, 1_000_000, FIRST_LOOKBACK_SECONDS)).toEqual({
      due: true,
      from: 1_000_000 - COMPANY_SWEEP_EVERY_SECONDS,
    });
  });

  it("captures contacts whose webhooks never arrived, skips those already captured, and moves its cursor", async () => {
    const { workspace, workspaceId, connection } = await connectSource();
    await intercomRest(workspace, "POST", "/contacts", {
      external_id: "u-delivered",
      email: "delivered@example.com",
      name: "Delivered",
    });
    await sim.deliverWebhooks();
    await waitFor(() => lookup(workspaceId, "u-delivered"), 10_000, "webhook captured");
    for (const i of [1, 2, 3]) {
      await intercomRest(workspace, "POST", "/contacts", {
        external_id: `u-lost-${i}`,
        email: `lost${i}@example.com`,
        name: `Lost ${i}`,
      });
    }
    const dropped = sim.takeWebhooks();
    expect(dropped.length).toBe(3);
    // The sweep runs minutes after the lost webhooks, when search has indexed the contacts (its overlap covers the lag).
    sim.settleSearch();

    const first = await sweep(connection.id, { companies: true });
    for (const i of [1, 2, 3]) {
      const user = await waitFor(() => lookup(workspaceId, `u-lost-${i}`), 10_000, `u-lost-${i}`);
      expect(user.properties.full_name).toBe(`Lost ${i}`);
    }
    expect(first.contacts.detail).toMatch(/4 contacts updated since .*, 1 already captured, 3 queued$/);
    const swept = await env.DB.prepare("SELECT swept_until FROM connections WHERE id = ?")
      .bind(connection.id)
      .first<{ swept_until: number }>();
    expect(swept!.swept_until).toBeGreaterThan(Math.floor(Date.now() / 1000) - OVERLAP_SECONDS - 5);

    // A second sweep finds everything captured: nothing is queued again.
    const again = await sweep(connection.id, { companies: false });
    expect(again.contacts.detail).toMatch(/, 0 queued$/);
  });

  it("scrolls companies about hourly and captures those whose webhooks never arrived", async () => {
    const { workspace, workspaceId, connection } = await connectSource();
    await intercomRest(workspace, "POST", "/companies", { company_id: "acme-delivered", name: "Delivered" });
    await sim.deliverWebhooks();
    await waitFor(() => account(workspaceId, "acme-delivered"), 10_000, "company webhook captured");
    await intercomRest(workspace, "POST", "/companies", { company_id: "acme-lost", name: "Lost" });
    expect(sim.takeWebhooks()).toHaveLength(1);

    const first = await sweep(connection.id, { companies: true });
    expect(first.companies!.detail).toMatch(/2 companies updated since .*, 1 already captured, 1 queued$/);
    expect(await waitFor(() => account(workspaceId, "acme-lost"), 10_000, "acme-lost")).toMatchObject({ name: "Lost" });
    // Not due an hour later: this run sweeps contacts only.
    await sweep(connection.id, { companies: false });

    // An hour later the company has changed again and that webhook was lost too.
    await env.DB.prepare("UPDATE connections SET companies_swept_until = companies_swept_until - ? WHERE id = ?")
      .bind(COMPANY_SWEEP_EVERY_SECONDS, connection.id)
      .run();
    await intercomRest(workspace, "POST", "/companies", { company_id: "acme-lost", name: "Renamed" });
    sim.takeWebhooks();
    const hourly = await sweep(connection.id, { companies: true });
    expect(hourly.companies!.detail).toMatch(/2 companies updated since .*, 1 already captured, 1 queued$/);
    await waitFor(
      async () => ((await account(workspaceId, "acme-lost"))?.name === "Renamed" ? true : null),
      10_000,
      "renamed",
    );
    const { results } = await env.DB.prepare(
      "SELECT detail FROM sync_logs WHERE connection_id = ? AND action = 'sweep_companies' ORDER BY id",
    )
      .bind(connection.id)
      .all<{ detail: string }>();
    expect(results.map((row) => row.detail)).toEqual([
      expect.stringMatching(/2 companies updated since .*, 1 already captured, 1 queued$/),
      expect.stringMatching(/2 companies updated since .*, 1 already captured, 1 queued$/),
    ]);
  });

  it("a late webhook of a state the sweep captured changes nothing", async () => {
    const { workspace, workspaceId, connection } = await connectSource();
    await intercomRest(workspace, "POST", "/contacts", { external_id: "u-late", name: "Late" });
    const late = sim.takeWebhooks();
    // The sweep runs minutes after the lost webhook, when search has indexed the contact.
    sim.settleSearch();
    await sweep(connection.id, { companies: true });
    await waitFor(() => lookup(workspaceId, "u-late"), 10_000, "swept");
    const before = await lookup(workspaceId, "u-late");
    for (const notification of late) await sim.deliver(notification);
    await settle();
    expect(await lookup(workspaceId, "u-late")).toEqual(before);
    const { results } = await env.DB.prepare(
      "SELECT outcome FROM sync_logs WHERE connection_id = ? AND direction = 'in' AND action = 'contact.user.created'",
    )
      .bind(connection.id)
      .all<{ outcome: string }>();
    expect(results.map((row) => row.outcome)).toEqual(["skipped"]);
  });

  it("leaves connections whose source is off alone, and a failing search is logged", async () => {
    const off = sim.createWorkspace();
    await seedConnection({ appId: off.app_id, token: off.token, source: { enabled: false } });
    const { workspace, connection } = await connectSource();
    sim.revokeTokens(workspace.app_id);
    await runCron();
    const row = await waitFor(async () => (await sweepRows(connection.id, "sweep"))[0] ?? null, 10_000, "sweep failed");
    expect(row).toMatchObject({ outcome: "failed" });
    expect(sim.journal({ app_id: off.app_id })).toHaveLength(0);
    const status = await env.DB.prepare("SELECT status FROM connections WHERE id = ?")
      .bind(connection.id)
      .first<{ status: string }>();
    expect(status).toEqual({ status: "revoked" });
  });

  it("sweeps each connection in its own invocations: one failing connection does not stop another", async () => {
    const failing = await connectSource();
    const healthy = await connectSource();
    await intercomRest(healthy.workspace, "POST", "/contacts", { external_id: "u-healthy", name: "Healthy" });
    sim.takeWebhooks();
    sim.settleSearch();
    sim.revokeTokens(failing.workspace.app_id);
    await runCron();
    const failed = await waitFor(
      async () => (await sweepRows(failing.connection.id, "sweep"))[0] ?? null,
      10_000,
      "failed",
    );
    expect(failed).toMatchObject({ outcome: "failed" });
    const swept = await waitFor(
      async () => (await sweepRows(healthy.connection.id, "sweep"))[0] ?? null,
      10_000,
      "swept",
    );
    expect(swept.detail).toMatch(/1 contacts updated since .*, 0 already captured, 1 queued$/);
    expect(await waitFor(() => lookup(healthy.workspaceId, "u-healthy"), 10_000, "u-healthy")).toMatchObject({
      properties: { full_name: "Healthy" },
    });
  });
});
