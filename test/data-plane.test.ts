import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { placementFor, placeWorkspace, tenantD1 } from "../src/db/placement";
import { identifyUser } from "../src/destination/ingest";
import { startResync } from "../src/destination/resync";
import { authHeaders } from "./helpers/auth";
import { connectDestination, intercomRest, waitFor } from "./helpers/destination";
import { useIntercomSim } from "./helpers/intercom-sim";

// The data plane's seam: tenant data lives in the data database its workspace is placed on, connections in the
// control database. The tests run with two data databases (DB, which is also the control database, and DATA_2);
// new workspaces go to DB (DATA_DATABASES_OPEN), and a workspace placed on DATA_2 works end to end there.

const sim = useIntercomSim({ config: { search_lag_ms: 0 } }); // search lag is not what this file is about

async function countIn(db: D1Database, table: string, workspaceId: string): Promise<number> {
  const row = await db
    .prepare(`SELECT count(*) AS n FROM ${table} WHERE workspace_id = ?`)
    .bind(workspaceId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

async function logsOf(workspaceId: string, connectionId: string) {
  const response = await exports.default.fetch(`https://connector.test/v1/connections/${connectionId}/logs?limit=200`, {
    headers: await authHeaders({ workspaceId, scope: "admin" }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { items: Array<{ action: string; outcome: string; direction: string }> }).items;
}

describe("placement rule", () => {
  it("is a stable hash over the databases open to new workspaces", () => {
    const open = ["DATA_A", "DATA_B", "DATA_C"];
    const placed = Array.from({ length: 300 }, (_, i) => placementFor(`ws_${i}`, open));
    expect(placed.every((name, i) => name === placementFor(`ws_${i}`, open))).toBe(true);
    for (const name of open) expect(placed.filter((p) => p === name).length).toBeGreaterThan(60);
    expect(placementFor("anything", ["ONLY"])).toBe("ONLY");
  });

  it("places a new workspace once, on an open database, and remembers it in the control database", async () => {
    const workspaceId = `ws_${crypto.randomUUID().slice(0, 8)}`;
    expect(await tenantD1(env, workspaceId)).toBe(env.DB);
    const row = await env.DB.prepare("SELECT database FROM placements WHERE workspace_id = ?")
      .bind(workspaceId)
      .first();
    expect(row).toEqual({ database: "DB" });
  });
});

describe("two workspaces on two data databases", () => {
  it("capture, ingest, logs and resync each work in their own database", async () => {
    const onControl = await connectDestination(sim, { allow_create: true });
    const movedId = `ws_${crypto.randomUUID().slice(0, 8)}`;
    await placeWorkspace(env, movedId, "DATA_2");
    const moved = await connectDestination(sim, { allow_create: true }, { workspaceId: movedId });

    // Intercom → CDP: a contact created in each Intercom workspace reaches its own database.
    for (const { workspace } of [onControl, moved]) {
      await intercomRest(workspace, "POST", "/contacts", {
        external_id: `u-${workspace.app_id}`,
        email: `${workspace.app_id}@example.com`,
      });
    }
    await sim.deliverWebhooks();
    await waitFor(async () => (await countIn(env.DATA_2, "users", movedId)) === 1, 10_000, "captured on DATA_2");
    await waitFor(async () => (await countIn(env.DB, "users", onControl.workspaceId)) === 1, 10_000, "captured on DB");
    expect(await countIn(env.DB, "users", movedId)).toBe(0);
    expect(await countIn(env.DATA_2, "users", onControl.workspaceId)).toBe(0);
    // The connections themselves stay in the control database.
    const connection = await env.DB.prepare("SELECT workspace_id FROM connections WHERE id = ?")
      .bind(moved.connection.id)
      .first();
    expect(connection).toEqual({ workspace_id: movedId });
    expect(await env.DATA_2.prepare("SELECT count(*) AS n FROM connections").first()).toEqual({ n: 0 });

    // CDP → Intercom: a change of the moved workspace's user reaches Intercom.
    await identifyUser(env, movedId, {
      user_id: `u-${moved.workspace.app_id}`,
      properties: { full_name: "Moved Person" },
    });
    await waitFor(
      () => sim.state(moved.workspace.app_id).contacts.find((contact) => contact.name === "Moved Person"),
      10_000,
      "synced to Intercom",
    );

    // A resync of the moved workspace reads its users from DATA_2.
    await identifyUser(env, movedId, { user_id: "u-new-moved", email: "new-moved@example.com" });
    expect(await startResync(env, { id: moved.connection.id, workspaceId: movedId, segments: [] })).toMatchObject({
      ok: true,
      job: { total: 2 },
    });
    await waitFor(
      () => sim.state(moved.workspace.app_id).contacts.some((contact) => contact.external_id === "u-new-moved"),
      10_000,
      "resync created the new user",
    );

    // Its sync logs are read from DATA_2 by the logs API, and none of them is in DB.
    const logs = await logsOf(movedId, moved.connection.id);
    expect(logs.some((row) => row.direction === "in" && row.outcome === "captured")).toBe(true);
    expect(logs.some((row) => row.direction === "out" && row.action === "resync")).toBe(true);
    const inDb = await env.DB.prepare("SELECT count(*) AS n FROM sync_logs WHERE workspace_id = ?")
      .bind(movedId)
      .first();
    expect(inDb).toEqual({ n: 0 });
  });
});
