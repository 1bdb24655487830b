import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { identifyUser } from "../src/destination/ingest";
import { authHeaders } from "./helpers/auth";
import { connectDestination, waitFor } from "./helpers/destination";
import { useIntercomSim } from "./helpers/intercom-sim";

const sim = useIntercomSim();

async function call(workspaceId: string, method: string, path: string, scope = "admin") {
  const response = await exports.default.fetch(`https://connector.test${path}`, {
    method,
    headers: await authHeaders({ workspaceId, scope }),
  });
  return { status: response.status, json: (await response.json()) as any };
}

describe("dead letters", () => {
  it("a sync that exhausts its retries is a dead letter; replay re-queues it once and it lands", async () => {
    const { workspace, workspaceId, connection } = await connectDestination(sim);
    sim.configure({ faults: { error_rate: 1 } });
    const user = await identifyUser(env, workspaceId, { user_id: "u-dead", properties: { full_name: "Dead Letter" } });
    const list = await waitFor(
      async () => {
        const { json } = await call(workspaceId, "GET", `/v1/connections/${connection.id}/dead-letters`);
        return json.items.length ? json : null;
      },
      20_000,
      "a dead letter",
    );
    expect(list.items[0]).toMatchObject({
      queue: "intercom-outbound",
      body: { connection_id: connection.id, kind: "user", local_pk: user.row.pk },
      replayed_at: null,
    });
    const logs = await call(workspaceId, "GET", `/v1/connections/${connection.id}/logs?outcome=dead_letter`);
    expect(logs.json.items).toHaveLength(1);
    expect(sim.journal().filter((entry) => entry.status >= 500).length).toBe(Number(env.SYNC_MAX_ATTEMPTS));

    sim.configure({ faults: { error_rate: 0 } });
    const replays = await Promise.all([
      call(workspaceId, "POST", `/v1/connections/${connection.id}/dead-letters/replay`),
      call(workspaceId, "POST", `/v1/connections/${connection.id}/dead-letters/replay`),
    ]);
    expect(replays.map((r) => r.status)).toEqual([202, 202]);
    expect(replays.map((r) => r.json.replayed).sort()).toEqual([0, 1]);
    await waitFor(() => sim.state(workspace.app_id).contacts[0]?.name === "Dead Letter", 10_000, "replayed sync");
    expect(
      (await call(workspaceId, "POST", `/v1/connections/${connection.id}/dead-letters/replay`)).json.replayed,
    ).toBe(0);
  });

  it("a failed action replays to done", async () => {
    const { workspace, workspaceId, connection } = await connectDestination(sim);
    await identifyUser(env, workspaceId, { user_id: "u-act" });
    await waitFor(() => sim.state(workspace.app_id).contacts.length === 1);
    sim.configure({ faults: { error_rate: 1 } });
    const accepted = await exports.default.fetch("https://connector.test/v1/actions", {
      method: "POST",
      headers: await authHeaders({ workspaceId, scope: "ingest" }),
      body: JSON.stringify({ user_id: "u-act", type: "add_tag", tag: "VIP" }),
    });
    const { id } = (await accepted.json()) as { id: string };
    const failed = await waitFor(
      async () => {
        const { json } = await call(workspaceId, "GET", `/v1/actions/${id}`, "ingest");
        return json.status === "failed" ? json : null;
      },
      20_000,
      "action failed",
    );
    expect(failed.detail).toMatch(/gave up after 4 attempts/);
    sim.configure({ faults: { error_rate: 0 } });
    expect(
      (await call(workspaceId, "POST", `/v1/connections/${connection.id}/dead-letters/replay`)).json.replayed,
    ).toBe(1);
    await waitFor(
      async () => (await call(workspaceId, "GET", `/v1/actions/${id}`, "ingest")).json.status === "done",
      10_000,
      "action done",
    );
    expect(sim.state(workspace.app_id).taggings).toHaveLength(1);
  });

  it("is another workspace's: 404", async () => {
    const { connection } = await connectDestination(sim);
    expect((await call("intruder", "GET", `/v1/connections/${connection.id}/dead-letters`)).status).toBe(404);
    expect((await call("intruder", "POST", `/v1/connections/${connection.id}/dead-letters/replay`)).status).toBe(404);
  });
});
