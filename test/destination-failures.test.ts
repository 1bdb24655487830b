import { env, exports } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../src/db/client";
import { connections } from "../src/db/schema";
import { identifyUser, setMembership, upsertAccount } from "../src/destination/ingest";
import { authHeaders } from "./helpers/auth";
import { connectDestination, intercomRest, settle, waitFor } from "./helpers/destination";
import { useIntercomSim } from "./helpers/intercom-sim";

const sim = useIntercomSim();

async function logsFor(connectionId: string, where = "1 = 1") {
  const { results } = await env.DB.prepare(
    `SELECT outcome, action, detail, object_type FROM sync_logs WHERE connection_id = ? AND direction = 'out' AND ${where} ORDER BY id`,
  )
    .bind(connectionId)
    .all<{ outcome: string; action: string; detail: string; object_type: string }>();
  return results;
}

describe("destination: Intercom's answers", () => {
  it("a 409 on create updates the contact whose id the message names", async () => {
    const { workspace, workspaceId, connection } = await connectDestination(sim);
    sim.configure({ search_lag_ms: 60_000 });
    const existing = await intercomRest(workspace, "POST", "/contacts", {
      external_id: "u-409",
      email: "dup@example.com",
    });
    await identifyUser(env, workspaceId, {
      user_id: "u-409",
      email: "dup@example.com",
      properties: { full_name: "Found By Conflict" },
    });
    await waitFor(
      () => sim.state(workspace.app_id).contacts[0]?.name === "Found By Conflict",
      10_000,
      "update after 409",
    );
    expect(sim.state(workspace.app_id).contacts).toHaveLength(1);
    expect(sim.state(workspace.app_id).contacts[0]!.id).toBe(existing.json.id);
    const journal = sim.journal().map((entry) => `${entry.method} ${entry.path} ${entry.status}`);
    expect(journal).toEqual([
      "POST /contacts 200",
      "POST /contacts/search 200",
      "POST /contacts 409",
      `PUT /contacts/${existing.json.id} 200`,
    ]);
    // The link is written after Intercom answered the PUT: wait for it rather than race it.
    const link = await waitFor(
      () =>
        env.DB.prepare("SELECT intercom_id FROM intercom_links WHERE connection_id = ?").bind(connection.id).first(),
      10_000,
      "the link",
    );
    expect(link).toEqual({ intercom_id: existing.json.id });
  });

  it("an archived 409: the contact is unarchived, then updated, once", async () => {
    const { workspace, workspaceId, connection } = await connectDestination(sim);
    sim.configure({ search_lag_ms: 60_000 });
    const existing = await intercomRest(workspace, "POST", "/contacts", { external_id: "u-arch" });
    await intercomRest(workspace, "POST", `/contacts/${existing.json.id}/archive`);
    const mark = sim.journal().length;
    await identifyUser(env, workspaceId, { user_id: "u-arch", properties: { full_name: "Archived" } });
    await waitFor(
      async () => (await logsFor(connection.id, "action = 'update' AND outcome = 'synced'")).length === 1,
      10_000,
      "updated",
    );
    await settle();
    const calls = sim
      .journal()
      .slice(mark)
      .map((entry) => `${entry.method} ${entry.path} ${entry.status}`);
    expect(calls).toEqual([
      "POST /contacts/search 200",
      "POST /contacts 409",
      `POST /contacts/${existing.json.id}/unarchive 200`,
      `PUT /contacts/${existing.json.id} 200`,
    ]);
    expect(await logsFor(connection.id, "outcome = 'conflict'")).toHaveLength(0);
    const contact = await intercomRest(workspace, "GET", `/contacts/${existing.json.id}`);
    expect(contact.json).toMatchObject({ name: "Archived", external_id: "u-arch" });
    const link = await waitFor(
      () =>
        env.DB.prepare("SELECT intercom_id FROM intercom_links WHERE connection_id = ?").bind(connection.id).first(),
      10_000,
      "the link",
    );
    expect(link).toEqual({ intercom_id: existing.json.id });
  });

  it("a 429 waits for the reset and then lands", async () => {
    const { workspace, workspaceId, connection } = await connectDestination(sim);
    sim.configure({ rate_limit: { window_ms: 1_000 }, faults: { rate_limit_rate: 1 } });
    await identifyUser(env, workspaceId, { user_id: "u-429", properties: { full_name: "Patient" } });
    await waitFor(() => sim.journal().some((entry) => entry.status === 429), 10_000, "a 429");
    sim.configure({ faults: { rate_limit_rate: 0 } });
    await waitFor(() => sim.state(workspace.app_id).contacts[0]?.name === "Patient", 15_000, "synced after the reset");
    const retrying = await logsFor(connection.id, "outcome = 'retrying'");
    expect(retrying[0]!.detail).toMatch(/rate limit/i);
  });

  it("5xx is retried with backoff until it lands", async () => {
    const { workspace, workspaceId } = await connectDestination(sim);
    sim.configure({ faults: { error_rate: 1 } });
    await identifyUser(env, workspaceId, { user_id: "u-5xx", properties: { full_name: "Persistent" } });
    await waitFor(() => sim.journal().some((entry) => entry.status >= 500), 10_000, "a 5xx");
    sim.configure({ faults: { error_rate: 0 } });
    await waitFor(() => sim.state(workspace.app_id).contacts[0]?.name === "Persistent", 20_000, "synced after 5xx");
  });

  it("a validation error is logged with Intercom's message and not retried", async () => {
    const { workspace, workspaceId, connection } = await connectDestination(sim, {
      mappings: { contact: [{ from: "plan", to: "custom_attributes.never_created", type: "string" }], company: [] },
    });
    await identifyUser(env, workspaceId, { user_id: "u-400", properties: { plan: "pro" } });
    await waitFor(
      async () => (await logsFor(connection.id, "outcome = 'failed'")).length === 1,
      10_000,
      "failure logged",
    );
    await settle();
    const [failed] = await logsFor(connection.id, "outcome = 'failed'");
    expect(failed!.detail).toMatch(/Intercom answered 400: .*never_created/);
    expect(sim.journal({ app_id: workspace.app_id }).filter((entry) => entry.status === 400)).toHaveLength(1);
  });

  it("401 marks the connection revoked and parks the work; a reconnect resumes it", async () => {
    const { workspace, workspaceId, connection } = await connectDestination(sim);
    sim.revokeTokens(workspace.app_id);
    await identifyUser(env, workspaceId, { user_id: "u-401", properties: { full_name: "Parked" } });
    await waitFor(async () => (await logsFor(connection.id, "outcome = 'parked'")).length > 0, 10_000, "parked");
    const db = database(env.DB);
    expect((await db.select().from(connections).where(eq(connections.id, connection.id)).get())!.status).toBe(
      "revoked",
    );
    // Writes while revoked wait too.
    await identifyUser(env, workspaceId, { user_id: "u-401", properties: { phone: "+33 1" } });
    await settle();
    expect(sim.state(workspace.app_id).contacts).toHaveLength(0);

    // The admin reconnects with a new token: same connection, parked work resumes.
    const token = sim.issueToken(workspace.app_id);
    const reconnect = await exports.default.fetch("https://connector.test/v1/connections", {
      method: "POST",
      headers: await authHeaders({ workspaceId, scope: "admin" }),
      body: JSON.stringify({ name: "Reconnected", access_token: token, region: "US" }),
    });
    expect(reconnect.status).toBe(200);
    expect((await reconnect.json()) as { id: string; status: string }).toMatchObject({
      id: connection.id,
      status: "connected",
    });
    await waitFor(() => sim.state(workspace.app_id).contacts[0]?.phone === "+33 1", 10_000, "resumed");
    expect(sim.state(workspace.app_id).contacts[0]).toMatchObject({
      external_id: "u-401",
      name: "Parked",
      phone: "+33 1",
    });
  });
});

describe("destination: companies", () => {
  it("a link whose contact is not in Intercom yet stays pending and is applied once it is", async () => {
    const { workspace, workspaceId, connection } = await connectDestination(sim, { allow_create: false });
    await intercomRest(workspace, "POST", "/companies", { company_id: "acme", name: "Acme" });
    await upsertAccount(env, workspaceId, "acme", { name: "Acme" });
    await identifyUser(env, workspaceId, { user_id: "u-later", properties: { full_name: "Later" } });
    await setMembership(env, workspaceId, "acme", "u-later", true);
    await waitFor(async () => (await logsFor(connection.id, "detail = 'not in Intercom; creation is off'")).length > 0);
    expect(sim.state(workspace.app_id).attachments).toHaveLength(0);

    await intercomRest(workspace, "POST", "/contacts", { external_id: "u-later" });
    // "Once it is" in Intercom means once search finds it: let the index catch up.
    sim.settleSearch();
    await identifyUser(env, workspaceId, { user_id: "u-later", properties: { full_name: "Later On" } });
    await waitFor(() => sim.state(workspace.app_id).attachments.length === 1, 10_000, "attached");
  });

  it("a link whose company is not in Intercom yet stays pending and is applied when the company appears", async () => {
    const { workspace, workspaceId, connection } = await connectDestination(sim, { allow_create: false });
    await intercomRest(workspace, "POST", "/contacts", { external_id: "u-member" });
    // u-member has been in Intercom for a while: its search index has caught up.
    sim.settleSearch();
    await upsertAccount(env, workspaceId, "globex", { name: "Globex" });
    await identifyUser(env, workspaceId, { user_id: "u-member", properties: { full_name: "Member" } });
    await setMembership(env, workspaceId, "globex", "u-member", true);
    await waitFor(
      async () => (await logsFor(connection.id, "outcome = 'pending'")).length > 0,
      10_000,
      "pending logged",
    );

    await intercomRest(workspace, "POST", "/companies", { company_id: "globex" });
    await upsertAccount(env, workspaceId, "globex", { name: "Globex Corp" });
    await waitFor(() => sim.state(workspace.app_id).attachments.length === 1, 10_000, "attached");
    expect(sim.state(workspace.app_id).companies[0]!.name).toBe("Globex Corp");
  });

  it("unlinking detaches the company", async () => {
    const { workspace, workspaceId } = await connectDestination(sim);
    await upsertAccount(env, workspaceId, "initech", { name: "Initech" });
    await identifyUser(env, workspaceId, { user_id: "u-leaver" });
    await setMembership(env, workspaceId, "initech", "u-leaver", true);
    await waitFor(() => sim.state(workspace.app_id).attachments.length === 1, 10_000, "attached");
    await setMembership(env, workspaceId, "initech", "u-leaver", false);
    await waitFor(() => sim.state(workspace.app_id).attachments.length === 0, 10_000, "detached");
  });
});
