import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { identifyUser } from "../src/destination/ingest";
import { authHeaders } from "./helpers/auth";
import { seedConnection } from "./helpers/connections";
import { connectDestination, waitFor } from "./helpers/destination";
import { useIntercomSim } from "./helpers/intercom-sim";

const sim = useIntercomSim();

async function post(workspaceId: string, body: unknown) {
  const response = await exports.default.fetch("https://connector.test/v1/actions", {
    method: "POST",
    headers: await authHeaders({ workspaceId, scope: "ingest" }),
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as any };
}

async function status(workspaceId: string, id: string) {
  const response = await exports.default.fetch(`https://connector.test/v1/actions/${id}`, {
    headers: await authHeaders({ workspaceId, scope: "ingest" }),
  });
  return (await response.json()) as { status: string; detail: string; attempts: number; type: string };
}

async function finished(workspaceId: string, id: string) {
  return waitFor(
    async () => {
      const action = await status(workspaceId, id);
      return action.status === "queued" ? null : action;
    },
    20_000,
    `action ${id}`,
  );
}

describe("actions", () => {
  it("add_tag, remove_tag, add_tag run in order and leave the contact tagged", async () => {
    const { workspace, workspaceId } = await connectDestination(sim);
    await identifyUser(env, workspaceId, { user_id: "u-tag", email: "tag@example.com" });
    const ids: string[] = [];
    for (const type of ["add_tag", "remove_tag", "add_tag"]) {
      const response = await post(workspaceId, { user_id: "u-tag", type, tag: "Activated" });
      expect(response.status).toBe(202);
      ids.push(response.json.id);
    }
    for (const id of ids) expect(await finished(workspaceId, id)).toMatchObject({ status: "done" });
    const state = sim.state(workspace.app_id);
    expect(state.tags.map((tag) => tag.name)).toEqual(["Activated"]);
    expect(state.taggings).toHaveLength(1);
    expect(state.taggings[0]!.contact_id).toBe(state.contacts[0]!.id);
    const removes = sim.journal().filter((entry) => entry.method === "DELETE" && entry.path.includes("/tags/"));
    expect(removes).toHaveLength(1);
  });

  it("run in the order they were accepted, whatever order the queue delivers them in (20 users)", async () => {
    const { workspace, workspaceId } = await connectDestination(sim);
    const users = Array.from({ length: 20 }, (_, i) => `u-order-${i}`);
    for (const userId of users) await identifyUser(env, workspaceId, { user_id: userId });
    await waitFor(() => sim.state(workspace.app_id).contacts.length === 20, 15_000, "contacts");
    const ids: string[] = [];
    await Promise.all(
      users.map(async (userId) => {
        for (const type of ["add_tag", "remove_tag", "add_tag"])
          ids.push((await post(workspaceId, { user_id: userId, type, tag: "Order" })).json.id);
      }),
    );
    for (const id of ids) expect((await finished(workspaceId, id)).status).toBe("done");
    expect(sim.state(workspace.app_id).taggings).toHaveLength(20);
  });

  it("removing a tag the contact does not have is a logged no-op", async () => {
    const { workspaceId } = await connectDestination(sim);
    await identifyUser(env, workspaceId, { user_id: "u-untagged" });
    const { json } = await post(workspaceId, { user_id: "u-untagged", type: "remove_tag", tag: "Never" });
    const action = await finished(workspaceId, json.id);
    expect(action).toMatchObject({
      status: "done",
      detail: 'the contact does not have tag "Never"; nothing to remove',
    });
  });

  it("trigger_event sends the event with its metadata and the accepted time, and reaches Intercom once under 30 % 5xx", async () => {
    const { workspace, workspaceId } = await connectDestination(sim);
    await identifyUser(env, workspaceId, { user_id: "u-event", email: "event@example.com" });
    // The contact exists first, so every later call is the event's.
    await waitFor(() => sim.state(workspace.app_id).contacts.length === 1);
    sim.configure({ faults: { error_rate: 0.3, fault_phase: "after" }, seed: 7 });
    const { json } = await post(workspaceId, {
      email: "event@example.com",
      type: "trigger_event",
      event: {
        name: "upgraded-plan",
        metadata: { plan: "pro", seats: 12, invoice: { amount: 4900, currency: "eur" } },
      },
    });
    const action = await finished(workspaceId, json.id);
    expect(action.status).toBe("done");
    const events = sim.state(workspace.app_id).events;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      event_name: "upgraded-plan",
      metadata: { plan: "pro", seats: 12, invoice: { amount: 4900, currency: "eur" } },
    });
  });

  it("trigger_event with many injected 5xx still lands exactly once", async () => {
    const { workspace, workspaceId } = await connectDestination(sim);
    await identifyUser(env, workspaceId, { user_id: "u-flaky" });
    await waitFor(() => sim.state(workspace.app_id).contacts.length === 1);
    sim.configure({ faults: { error_rate: 0.3, fault_phase: "before" }, seed: 3 });
    const accepted = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        post(workspaceId, { user_id: "u-flaky", type: "trigger_event", event: { name: `step-${i}` } }),
      ),
    );
    for (const { json } of accepted) expect((await finished(workspaceId, json.id)).status).toBe("done");
    const names = sim
      .state(workspace.app_id)
      .events.map((event) => event.event_name)
      .sort();
    expect(names).toEqual(["step-0", "step-1", "step-2", "step-3", "step-4"]);
    expect(sim.journal().filter((entry) => entry.path === "/events" && entry.status >= 500).length).toBeGreaterThan(0);
  });

  it("a repeated idempotency key returns the same id and runs once", async () => {
    const { workspace, workspaceId } = await connectDestination(sim);
    await identifyUser(env, workspaceId, { user_id: "u-idem" });
    const body = { user_id: "u-idem", type: "trigger_event", event: { name: "paid" }, idempotency_key: "invoice-42" };
    const responses = await Promise.all([post(workspaceId, body), post(workspaceId, body), post(workspaceId, body)]);
    const ids = new Set(responses.map((response) => response.json.id));
    expect(ids.size).toBe(1);
    await finished(workspaceId, [...ids][0]!);
    expect((await post(workspaceId, body)).json.id).toBe([...ids][0]);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(sim.state(workspace.app_id).events).toHaveLength(1);
    expect(sim.journal().filter((entry) => entry.path === "/events")).toHaveLength(1);
  });

  it("a contact not in Intercom with creation off fails the action with that reason", async () => {
    const { workspaceId } = await connectDestination(sim, { allow_create: false });
    await identifyUser(env, workspaceId, { user_id: "u-absent" });
    const { json } = await post(workspaceId, { user_id: "u-absent", type: "add_tag", tag: "x" });
    expect(await finished(workspaceId, json.id)).toMatchObject({
      status: "failed",
      detail: "not in Intercom; creation is off",
    });
  });

  it("validates at request time with one entry per bad path", async () => {
    const { workspaceId } = await connectDestination(sim);
    const tooMany = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, i]));
    const cases: Array<[unknown, string[]]> = [
      [{ user_id: "u", type: "add_tag" }, ["tag"]],
      [{ type: "add_tag", tag: "x" }, ["user_id"]],
      [{ user_id: "u", type: "trigger_event" }, ["event"]],
      [{ user_id: "u", type: "trigger_event", event: { name: "" } }, ["event.name"]],
      [{ user_id: "u", type: "trigger_event", event: { name: "x", metadata: tooMany } }, ["event.metadata"]],
      [
        { user_id: "u", type: "trigger_event", event: { name: "x", metadata: { nested: { deep: 1 } } } },
        ["event.metadata.nested"],
      ],
      [
        { user_id: "u", type: "trigger_event", event: { name: "x", metadata: { flag: true } } },
        ["event.metadata.flag"],
      ],
      [{ user_id: "u", type: "trigger_event", event: { name: "x", occurred_at: "yesterday" } }, ["event.occurred_at"]],
      [{ user_id: "u", type: "explode", tag: "x" }, ["type"]],
      [{ user_id: "u", type: "add_tag", tag: "x", extra: 1 }, ["extra"]],
    ];
    for (const [body, paths] of cases) {
      const response = await post(workspaceId, body);
      expect(response.status, JSON.stringify(body)).toBe(422);
      expect(
        response.json.errors.map((e: { path: string }) => e.path),
        JSON.stringify(body),
      ).toEqual(paths);
    }
  });

  it("a rich link's url must be https: javascript:, data:, http: and malformed URLs are a 422 on that path", async () => {
    const { workspace, workspaceId } = await connectDestination(sim);
    for (const url of [
      "javascript:alert(document.cookie)",
      "JavaScript:alert(1)",
      "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
      "http://example.com/offer",
      "ftp://example.com/file",
      "not a url",
    ]) {
      const response = await post(workspaceId, {
        user_id: "u",
        type: "trigger_event",
        event: {
          name: "Offer",
          metadata: { fine: { url: "https://example.com/a", value: "Fine" }, offer: { url, value: "Click" } },
        },
      });
      expect(response.status, url).toBe(422);
      expect(response.json.errors, url).toEqual([
        { path: "event.metadata.offer.url", message: "must be an https URL" },
      ]);
    }
    // An https rich link is sent as is; a plain string is text (Intercom links only http/https strings), whatever it
    // starts with.
    await identifyUser(env, workspaceId, { user_id: "u-link" });
    const metadata = { offer: { url: "https://example.com/offer?id=7", value: "See offer" }, note: "data: 42 rows" };
    const { status: accepted, json } = await post(workspaceId, {
      user_id: "u-link",
      type: "trigger_event",
      event: { name: "Offer shown", metadata },
    });
    expect(accepted).toBe(202);
    expect(await finished(workspaceId, json.id)).toMatchObject({ status: "done" });
    expect(sim.state(workspace.app_id).events.map((event) => event.metadata)).toEqual([metadata]);
  });

  it("an unknown user is a 404; a connection not connected or with the destination off is a 409 saying which", async () => {
    const { workspaceId } = await connectDestination(sim);
    expect((await post(workspaceId, { user_id: "ghost", type: "add_tag", tag: "x" })).status).toBe(404);

    await seedConnection({ workspaceId: "ws_off", destination: { enabled: false } });
    await identifyUser(env, "ws_off", { user_id: "u1" });
    const off = await post("ws_off", { user_id: "u1", type: "add_tag", tag: "x" });
    expect(off).toMatchObject({ status: 409, json: { detail: expect.stringMatching(/destination switched off/) } });

    await seedConnection({ workspaceId: "ws_revoked", status: "revoked", destination: { enabled: true } });
    await identifyUser(env, "ws_revoked", { user_id: "u1" });
    const revoked = await post("ws_revoked", { user_id: "u1", type: "add_tag", tag: "x" });
    expect(revoked).toMatchObject({ status: 409, json: { detail: expect.stringMatching(/is revoked/) } });
  });

  it("another workspace's action is a 404", async () => {
    const { workspaceId } = await connectDestination(sim);
    await identifyUser(env, workspaceId, { user_id: "u-mine" });
    const { json } = await post(workspaceId, { user_id: "u-mine", type: "add_tag", tag: "x" });
    const response = await exports.default.fetch(`https://connector.test/v1/actions/${json.id}`, {
      headers: await authHeaders({ workspaceId: "someone-else", scope: "ingest" }),
    });
    expect(response.status).toBe(404);
  });
});
