import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { identifyUser } from "../src/destination/ingest";
import { authHeaders } from "./helpers/auth";
import { connectDestination, settle, waitFor } from "./helpers/destination";
import { countCalls, journalMark, useIntercomSim } from "./helpers/intercom-sim";

const sim = useIntercomSim();

async function call(workspaceId: string, method: string, path: string) {
  const response = await exports.default.fetch(`https://connector.test${path}`, {
    method,
    headers: await authHeaders({ workspaceId, scope: "admin" }),
  });
  return { status: response.status, json: (await response.json()) as any };
}

describe("preview", () => {
  it("shows the exact update a linked contact would get, without calling Intercom", async () => {
    const { workspace, workspaceId, connection } = await connectDestination(sim);
    await identifyUser(env, workspaceId, { user_id: "u-prev", properties: { full_name: "Before" } });
    await waitFor(() => sim.state(workspace.app_id).contacts.length === 1);
    await settle(300);
    // Change the CDP without a sync reaching Intercom yet: switch the destination off for the write.
    await env.DB.prepare(
      "UPDATE connections SET destination = json_set(destination, '$.enabled', json('false')) WHERE id = ?",
    )
      .bind(connection.id)
      .run();
    await identifyUser(env, workspaceId, { user_id: "u-prev", properties: { full_name: "After", phone: "+1 2" } });
    await env.DB.prepare(
      "UPDATE connections SET destination = json_set(destination, '$.enabled', json('true')) WHERE id = ?",
    )
      .bind(connection.id)
      .run();
    const mark = journalMark(sim);
    const { status, json } = await call(workspaceId, "GET", `/v1/connections/${connection.id}/preview?user_id=u-prev`);
    expect(status).toBe(200);
    const contactId = sim.state(workspace.app_id).contacts[0]!.id;
    expect(json.requests).toEqual([
      { method: "PUT", url: `https://intercom.sim.test/contacts/${contactId}`, body: { name: "After", phone: "+1 2" } },
    ]);
    expect(countCalls(sim, { since: mark })).toBe(0);
  });

  it("shows the search then create of a contact not yet linked", async () => {
    const { workspaceId, connection } = await connectDestination(sim);
    await env.DB.prepare(
      "UPDATE connections SET destination = json_set(destination, '$.enabled', json('false')) WHERE id = ?",
    )
      .bind(connection.id)
      .run();
    await identifyUser(env, workspaceId, { user_id: "u-new", email: "new@example.com" });
    const { json } = await call(workspaceId, "GET", `/v1/connections/${connection.id}/preview?user_id=u-new`);
    expect(json.requests.map((r: { method: string; url: string }) => `${r.method} ${r.url}`)).toEqual([
      "POST https://intercom.sim.test/contacts/search",
      "PUT https://intercom.sim.test/contacts/{id of the match}",
      "POST https://intercom.sim.test/contacts",
    ]);
    expect(json.requests[0].body.query).toEqual({
      operator: "OR",
      value: [
        { field: "external_id", operator: "=", value: "u-new" },
        { field: "email", operator: "=", value: "new@example.com" },
      ],
    });
    expect(json.notes).toContain("the destination is switched off: nothing is sent until it is on");
  });

  it("answers 404 for an unknown user or another workspace's connection", async () => {
    const { workspaceId, connection } = await connectDestination(sim);
    expect((await call(workspaceId, "GET", `/v1/connections/${connection.id}/preview?user_id=ghost`)).status).toBe(404);
    expect((await call("other", "GET", `/v1/connections/${connection.id}/preview?user_id=ghost`)).status).toBe(404);
  });
});

describe("resync", () => {
  it("queues every user passing the filter, in the background, with progress in the logs", async () => {
    const { workspace, workspaceId, connection } = await connectDestination(sim, { segments: ["beta"] });
    await env.DB.prepare(
      "UPDATE connections SET destination = json_set(destination, '$.enabled', json('false')) WHERE id = ?",
    )
      .bind(connection.id)
      .run();
    for (let i = 0; i < 7; i++) {
      await identifyUser(env, workspaceId, { user_id: `u-${i}`, segments: i < 5 ? ["beta"] : ["other"] });
    }
    await settle();
    expect(countCalls(sim)).toBe(0);
    await env.DB.prepare(
      "UPDATE connections SET destination = json_set(destination, '$.enabled', json('true')) WHERE id = ?",
    )
      .bind(connection.id)
      .run();
    const response = await call(workspaceId, "POST", `/v1/connections/${connection.id}/resync`);
    expect(response).toMatchObject({ status: 202, json: { state: "running", total: 5 } });
    await waitFor(() => sim.state(workspace.app_id).contacts.length === 5, 15_000, "5 contacts");
    await settle();
    expect(sim.state(workspace.app_id).contacts).toHaveLength(5);
    const { results } = await env.DB.prepare(
      "SELECT detail FROM sync_logs WHERE connection_id = ? AND action = 'resync' ORDER BY id",
    )
      .bind(connection.id)
      .all<{ detail: string }>();
    expect(results.map((row) => row.detail)).toEqual([
      "resync started: 5 users pass the segment filter",
      "resync queued 5 users; all users queued",
    ]);
  });

  it("is refused while the destination is off", async () => {
    const { workspaceId, connection } = await connectDestination(sim, { enabled: false });
    const response = await call(workspaceId, "POST", `/v1/connections/${connection.id}/resync`);
    expect(response.status).toBe(409);
  });
});
