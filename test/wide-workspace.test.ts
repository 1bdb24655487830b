import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { acceptAction } from "../src/destination/actions";
import { identifyUser } from "../src/destination/ingest";
import { startResync } from "../src/destination/resync";
import worker from "../src/index";
import { connectSimWorkspace } from "./helpers/connections";
import { connectDestination, settle, waitFor } from "./helpers/destination";
import { journalMark, useIntercomSim, wideNotification } from "./helpers/intercom-sim";
import {
  WIDE_CONTACT_ATTRIBUTES as CONTACT_ATTRIBUTES,
  WIDE_CONTACT_MAPPINGS as WIDE_MAPPINGS,
  wideProperties,
} from "./helpers/wide";

// A wide workspace, as real ones are: 100 custom attributes per model of mixed types with 255-character values,
// unicode and 200-character names, contacts in up to 40 companies. Every direction runs against it under the
// platform-limits layer (the test pool turns it on), so a statement, batch or message that grows with the data's
// width fails here first.

const sim = useIntercomSim();

async function count(sql: string, ...params: unknown[]): Promise<number> {
  const row = await env.DB.prepare(sql)
    .bind(...params)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("wide workspace: source", () => {
  it("captures a wide contact webhook with all its custom attributes", async () => {
    const { workspace, workspaceId, connection } = await connectSimWorkspace(sim);
    const notification = wideNotification("contact.user.updated", { app_id: workspace.app_id });
    expect(await sim.deliver(notification)).toBe(200);
    await waitFor(
      () =>
        count("SELECT count(*) AS n FROM sync_logs WHERE connection_id = ? AND outcome = 'captured'", connection.id),
      10_000,
      "captured",
    );
    const user = await env.DB.prepare("SELECT properties FROM users WHERE workspace_id = ?")
      .bind(workspaceId)
      .first<{ properties: string }>();
    const properties = JSON.parse(user!.properties) as Record<string, unknown>;
    const item = notification.data.item as { custom_attributes: Record<string, unknown> };
    const set = Object.entries(item.custom_attributes).filter(([, value]) => value !== null);
    expect(set.length).toBeGreaterThan(80);
    for (const [name, value] of set) expect(properties[name]).toEqual(value);
  });

  it("sweeps 200 wide contacts and 40 wide companies, a page per invocation", async () => {
    const { workspace, workspaceId, connection } = await connectSimWorkspace(sim);
    const seeded = sim.seedWideWorkspace(workspace.app_id, { contacts: 200, companies: 40 });
    // The seeded records were last updated months ago: sweep from the beginning, as after a long outage.
    await env.DB.prepare("UPDATE connections SET swept_until = 1, companies_swept_until = 1 WHERE id = ?")
      .bind(connection.id)
      .run();
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/10 * * * *" }), env, ctx);
    await waitOnExecutionContext(ctx);
    const identifiable = sim
      .state(workspace.app_id)
      .contacts.filter((contact) => contact.email || (contact.role === "user" && contact.external_id)).length;
    await waitFor(
      async () =>
        (await count(
          "SELECT count(*) AS n FROM intercom_links WHERE connection_id = ? AND object_type = 'contact'",
          connection.id,
        )) === identifiable,
      30_000,
      "every contact captured",
    );
    await waitFor(
      async () =>
        (await count("SELECT count(*) AS n FROM accounts WHERE workspace_id = ?", workspaceId)) ===
        seeded.companies.length,
      30_000,
      "every company captured",
    );
    const { results } = await env.DB.prepare(
      "SELECT action, detail FROM sync_logs WHERE connection_id = ? AND action IN ('sweep', 'sweep_companies') ORDER BY id",
    )
      .bind(connection.id)
      .all<{ action: string; detail: string }>();
    expect(results).toEqual([
      { action: "sweep", detail: expect.stringMatching(/^reconciliation sweep: 200 contacts .*, 200 queued$/) },
      {
        action: "sweep_companies",
        detail: expect.stringMatching(/^reconciliation sweep: 40 companies .*, 40 queued$/),
      },
    ]);
  });
});

describe("wide workspace: destination", () => {
  it("100 mapped custom attributes: created in 2 calls, one change costs 1 call, a no-op 0; actions run", async () => {
    const { workspace, workspaceId } = await connectDestination(sim, {
      mappings: { contact: WIDE_MAPPINGS, company: [] },
    });
    sim.seedWideWorkspace(workspace.app_id, { contacts: 0, companies: 0 });
    const properties = wideProperties(1);
    await identifyUser(env, workspaceId, { user_id: "u-wide", email: "wide@example.com", properties });
    await waitFor(
      () => sim.state(workspace.app_id).contacts.find((c) => c.external_id === "u-wide"),
      10_000,
      "created",
    );
    await settle(500);
    const contact = sim.state(workspace.app_id).contacts.find((c) => c.external_id === "u-wide")!;
    expect(Object.keys(contact.custom_attributes)).toHaveLength(100);

    let mark = journalMark(sim);
    const changed = CONTACT_ATTRIBUTES.find((attribute) => attribute.data_type === "string")!.name;
    await identifyUser(env, workspaceId, { user_id: "u-wide", properties: { [changed]: "changed" } });
    await waitFor(
      () =>
        sim.state(workspace.app_id).contacts.find((c) => c.id === contact.id)?.custom_attributes[changed] === "changed",
      10_000,
      "changed",
    );
    await settle(500);
    expect(sim.journal({ since: mark }).map((entry) => `${entry.method} ${entry.path}`)).toEqual([
      `PUT /contacts/${contact.id}`,
    ]);

    mark = journalMark(sim);
    await identifyUser(env, workspaceId, { user_id: "u-wide", properties: { ...properties, [changed]: "changed" } });
    await settle();
    expect(sim.journal({ since: mark })).toHaveLength(0);

    const tag = await acceptAction(env, workspaceId, { user_id: "u-wide", type: "add_tag", tag: "Wide 🚀" });
    const event = await acceptAction(env, workspaceId, {
      user_id: "u-wide",
      type: "trigger_event",
      event: { name: "wide-event", metadata: { plan: "x".repeat(255) } },
    });
    for (const { id } of [tag, event]) {
      await waitFor(
        async () =>
          (await env.DB.prepare("SELECT status FROM actions WHERE id = ?").bind(id).first())?.status === "done",
        10_000,
        "action done",
      );
    }
  });

  it("resyncs 40 wide users", async () => {
    const { workspace, workspaceId, connection } = await connectDestination(sim, {
      enabled: false,
      mappings: { contact: WIDE_MAPPINGS, company: [] },
    });
    sim.seedWideWorkspace(workspace.app_id, { contacts: 0, companies: 0 });
    for (let i = 0; i < 40; i++) {
      await identifyUser(env, workspaceId, {
        user_id: `u-resync-${i}`,
        email: `resync${i}@example.com`,
        properties: wideProperties(i),
      });
    }
    await env.DB.prepare(
      "UPDATE connections SET destination = json_set(destination, '$.enabled', json('true')) WHERE id = ?",
    )
      .bind(connection.id)
      .run();
    expect(await startResync(env, { id: connection.id, workspaceId, segments: [] })).toMatchObject({
      ok: true,
      job: { total: 40 },
    });
    await waitFor(() => sim.state(workspace.app_id).contacts.length === 40, 60_000, "40 contacts");
    await settle();
    for (const contact of sim.state(workspace.app_id).contacts) {
      expect(Object.keys(contact.custom_attributes)).toHaveLength(100);
    }
  });
});
