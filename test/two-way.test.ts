import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { authHeaders } from "./helpers/auth";
import { connectDestination, intercomRest, settle, waitFor } from "./helpers/destination";
import { countCalls, journalMark, useIntercomSim } from "./helpers/intercom-sim";

const sim = useIntercomSim();

async function api(workspaceId: string, method: string, path: string, body?: unknown) {
  const response = await exports.default.fetch(`https://connector.test${path}`, {
    method,
    headers: await authHeaders({ workspaceId, scope: "admin ingest" }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as any };
}

async function inboundRows(connectionId: string) {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM sync_logs WHERE connection_id = ? AND direction = 'in'")
    .bind(connectionId)
    .first<{ n: number }>();
  return row!.n;
}

describe("ingest API", () => {
  it("identify merges properties, null removes one, segments replace; the answer is the user", async () => {
    const { workspaceId } = await connectDestination(sim, { enabled: false });
    const first = await api(workspaceId, "PUT", "/v1/users", {
      user_id: "u-1",
      email: "Ada@Example.com",
      properties: { plan: "pro", seats: 3 },
      segments: ["beta", "trial"],
    });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({
      user_id: "u-1",
      email: "ada@example.com",
      properties: { plan: "pro", seats: 3 },
      segments: ["beta", "trial"],
    });
    const second = await api(workspaceId, "PUT", "/v1/users", {
      user_id: "u-1",
      properties: { seats: null, stage: "won" },
      segments: ["paying"],
    });
    expect(second.json).toMatchObject({ properties: { plan: "pro", stage: "won" }, segments: ["paying"] });
    expect(second.json.properties).not.toHaveProperty("seats");
    const byEmail = await api(workspaceId, "PUT", "/v1/users", {
      email: "ada@example.com",
      properties: { source: "email" },
    });
    expect(byEmail.json.user_id).toBe("u-1");
  });

  it("accounts upsert and link; lookups show both sides", async () => {
    const { workspaceId } = await connectDestination(sim, { enabled: false });
    await api(workspaceId, "PUT", "/v1/users", { user_id: "u-2" });
    const account = await api(workspaceId, "PUT", "/v1/accounts/acme", { name: "Acme", properties: { plan: "Scale" } });
    expect(account).toMatchObject({
      status: 200,
      json: { account_id: "acme", name: "Acme", properties: { plan: "Scale" } },
    });
    expect(await api(workspaceId, "PUT", "/v1/accounts/acme/users/u-2")).toMatchObject({
      status: 200,
      json: { linked: true },
    });
    expect((await api(workspaceId, "GET", "/v1/accounts/acme")).json.user_ids).toEqual(["u-2"]);
    expect((await api(workspaceId, "GET", "/v1/users/lookup?user_id=u-2")).json.account_ids).toEqual(["acme"]);
    expect(await api(workspaceId, "DELETE", "/v1/accounts/acme/users/u-2")).toMatchObject({
      status: 200,
      json: { linked: false },
    });
    expect((await api(workspaceId, "GET", "/v1/accounts/acme")).json.user_ids).toEqual([]);
    expect((await api(workspaceId, "PUT", "/v1/accounts/acme/users/nobody")).status).toBe(404);
    expect((await api(workspaceId, "PUT", "/v1/accounts/nowhere/users/u-2")).status).toBe(404);
  });

  it("rejects bad bodies with one entry per bad path", async () => {
    const { workspaceId } = await connectDestination(sim, { enabled: false });
    const cases: Array<[string, string, unknown, string[]]> = [
      ["PUT", "/v1/users", {}, ["user_id"]],
      ["PUT", "/v1/users", { user_id: "", email: "not-an-email" }, ["user_id", "email"]],
      ["PUT", "/v1/users", { user_id: "u", segments: "beta" }, ["segments"]],
      ["PUT", "/v1/users", { user_id: "u", properties: [1, 2] }, ["properties"]],
      ["PUT", "/v1/users", { user_id: "u", extra: true }, ["extra"]],
      ["PUT", "/v1/accounts/acme", { name: 5 }, ["name"]],
    ];
    for (const [method, path, body, paths] of cases) {
      const response = await api(workspaceId, method, path, body);
      expect(response.status, JSON.stringify(body)).toBe(422);
      expect(
        response.json.errors.map((e: { path: string }) => e.path),
        JSON.stringify(body),
      ).toEqual(paths);
    }
  });
});

describe("loop-free two-way sync", () => {
  it("our writes come back as webhooks and end with zero further Intercom calls and no CDP change", async () => {
    const { workspace, workspaceId, connection } = await connectDestination(sim);
    await api(workspaceId, "PUT", "/v1/users", {
      user_id: "u-echo",
      email: "echo@example.com",
      properties: { full_name: "Echo One" },
    });
    await waitFor(() => sim.state(workspace.app_id).contacts.length === 1, 10_000, "created");
    await settle(300);
    const before = (await api(workspaceId, "GET", "/v1/users/lookup?user_id=u-echo")).json;

    for (const round of [1, 2]) {
      const mark = journalMark(sim);
      expect(sim.pendingWebhooks().length, `round ${round}`).toBeGreaterThan(0);
      const inboundBefore = await inboundRows(connection.id);
      const statuses = await sim.deliverWebhooks();
      expect(statuses.every((status) => status === 200)).toBe(true);
      await waitFor(
        async () => (await inboundRows(connection.id)) >= inboundBefore + statuses.length,
        10_000,
        "echo processed",
      );
      await settle();
      expect(countCalls(sim, { since: mark }), `round ${round}`).toBe(0);
      const after = (await api(workspaceId, "GET", "/v1/users/lookup?user_id=u-echo")).json;
      expect(after.properties).toEqual(before.properties);
      expect(after.updated_at).toBe(before.updated_at);
      // Second round: a real CDP change, then its echo.
      await api(workspaceId, "PUT", "/v1/users", { user_id: "u-echo", properties: { full_name: "Echo Two" } });
      await waitFor(() => sim.state(workspace.app_id).contacts[0]!.name === "Echo Two", 10_000, "updated");
      await settle(300);
      Object.assign(before, (await api(workspaceId, "GET", "/v1/users/lookup?user_id=u-echo")).json);
    }
    const { results } = await env.DB.prepare(
      "SELECT detail FROM sync_logs WHERE connection_id = ? AND direction = 'in' AND action LIKE 'contact.%'",
    )
      .bind(connection.id)
      .all<{ detail: string }>();
    expect(results.map((row) => row.detail)).toContain("echo of our own write");
  });

  it("echoes of two quick writes, delivered in any order, leave the CDP and Intercom at the last write", async () => {
    const { workspace, workspaceId, connection } = await connectDestination(sim);
    await api(workspaceId, "PUT", "/v1/users", { user_id: "u-quick", properties: { full_name: "Zero" } });
    await waitFor(() => sim.state(workspace.app_id).contacts.length === 1);
    await settle(300);
    sim.takeWebhooks();
    await api(workspaceId, "PUT", "/v1/users", { user_id: "u-quick", properties: { full_name: "One" } });
    await waitFor(() => sim.state(workspace.app_id).contacts[0]!.name === "One");
    await api(workspaceId, "PUT", "/v1/users", { user_id: "u-quick", properties: { full_name: "Two" } });
    await waitFor(() => sim.state(workspace.app_id).contacts[0]!.name === "Two");
    await settle(300);
    const echoes = sim.takeWebhooks();
    expect(echoes.map((n) => n.topic)).toEqual(["contact.user.updated", "contact.user.updated"]);
    const mark = journalMark(sim);
    const inboundBefore = await inboundRows(connection.id);
    for (const notification of [...echoes].reverse()) await sim.deliver(notification);
    await waitFor(async () => (await inboundRows(connection.id)) >= inboundBefore + 2, 10_000, "echoes processed");
    await settle();
    expect((await api(workspaceId, "GET", "/v1/users/lookup?user_id=u-quick")).json.properties.full_name).toBe("Two");
    expect(sim.state(workspace.app_id).contacts[0]!.name).toBe("Two");
    expect(countCalls(sim, { since: mark })).toBe(0);
  });

  it("a change made in Intercom flows into the CDP without being sent back", async () => {
    const { workspace, workspaceId } = await connectDestination(sim);
    await api(workspaceId, "PUT", "/v1/users", { user_id: "u-human", properties: { full_name: "Before" } });
    await waitFor(() => sim.state(workspace.app_id).contacts.length === 1);
    await sim.deliverWebhooks();
    await settle();
    const contact = sim.state(workspace.app_id).contacts[0]!;
    await intercomRest(workspace, "PUT", `/contacts/${contact.id}`, { name: "Renamed In Intercom" });
    const mark = journalMark(sim);
    await sim.deliverWebhooks();
    await waitFor(
      async () =>
        (await api(workspaceId, "GET", "/v1/users/lookup?user_id=u-human")).json.properties.full_name ===
        "Renamed In Intercom",
      10_000,
      "captured",
    );
    await settle();
    expect(countCalls(sim, { since: mark })).toBe(0);
  });

  it("the event.created of our own triggered event is not captured as a CDP event", async () => {
    const { workspaceId } = await connectDestination(sim);
    await api(workspaceId, "PUT", "/v1/users", { user_id: "u-evt", email: "evt@example.com" });
    const { json } = await api(workspaceId, "POST", "/v1/actions", {
      user_id: "u-evt",
      type: "trigger_event",
      event: { name: "invited-teammate" },
    });
    await waitFor(
      async () => (await api(workspaceId, "GET", `/v1/actions/${json.id}`)).json.status === "done",
      10_000,
      "event sent",
    );
    expect(sim.pendingWebhooks().some((n) => n.topic === "event.created")).toBe(true);
    await sim.deliverWebhooks();
    await settle(2_000);
    expect((await api(workspaceId, "GET", "/v1/users/events?user_id=u-evt")).json.items).toEqual([]);
    const { results } = await env.DB.prepare(
      "SELECT detail FROM sync_logs WHERE direction = 'in' AND action = 'event.created'",
    ).all<{ detail: string }>();
    expect(results.map((row) => row.detail)).toContain("echo of our own event");
  });

  it("a contact that appears in Intercom gets the CDP relationships that waited for it", async () => {
    const { workspace, workspaceId } = await connectDestination(sim, { allow_create: false });
    await intercomRest(workspace, "POST", "/companies", { company_id: "acme", name: "Acme" });
    await api(workspaceId, "PUT", "/v1/accounts/acme", { name: "Acme" });
    await api(workspaceId, "PUT", "/v1/users", { user_id: "u-wait", email: "wait@example.com" });
    await api(workspaceId, "PUT", "/v1/accounts/acme/users/u-wait");
    await settle();
    expect(sim.state(workspace.app_id).attachments).toHaveLength(0);
    sim.takeWebhooks();
    await intercomRest(workspace, "POST", "/contacts", { external_id: "u-wait", email: "wait@example.com" });
    await sim.deliverWebhooks();
    await waitFor(
      () => sim.state(workspace.app_id).attachments.length === 1,
      10_000,
      "attached after the contact appeared",
    );
  });
});
