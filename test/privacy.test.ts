import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { tenantD1 } from "../src/db/placement";
import { identifyUser } from "../src/destination/ingest";
import { clearedFields } from "../src/destination/plan/payload";
import { canClear } from "../src/intercom/attributes";
import { requestBody } from "../src/intercom/fields";
import { runHousekeeping } from "../src/ops/housekeeping";
import { personDigest } from "../src/privacy/digest";
import { authHeaders } from "./helpers/auth";
import { connectDestination, settle, waitFor } from "./helpers/destination";
import { countCalls, journalMark, useIntercomSim } from "./helpers/intercom-sim";
import { deliver, notification } from "./helpers/webhooks";

const sim = useIntercomSim({ config: { search_lag_ms: 0 } });
const DAY = 86_400_000;

async function api(workspaceId: string, method: string, path: string, body?: unknown) {
  const response = await exports.default.fetch(`https://connector.test${path}`, {
    method,
    headers: await authHeaders({ workspaceId }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as any) : null };
}

async function erasureDone(workspaceId: string, id: string) {
  return waitFor(
    async () => {
      const { json } = await api(workspaceId, "GET", `/v1/erasures/${id}`);
      return json.state === "done" ? json : null;
    },
    20_000,
    `erasure ${id}`,
  );
}

/** Every row of every table of every database, as text: what a person's values must no longer appear in. */
async function everyRowText(): Promise<Array<{ table: string; row: string }>> {
  const found: Array<{ table: string; row: string }> = [];
  for (const db of [env.DB, (env as unknown as { DATA_2: D1Database }).DATA_2]) {
    const tables = await db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations'",
      )
      .all<{ name: string }>();
    for (const { name } of tables.results) {
      const rows = await db.prepare(`SELECT * FROM "${name}"`).all();
      for (const row of rows.results) found.push({ table: name, row: JSON.stringify(row) });
    }
  }
  return found;
}

async function expectNowhere(values: string[]) {
  const rows = await everyRowText();
  for (const value of values) {
    const holders = rows.filter((entry) => entry.row.includes(value));
    expect(holders, `rows still holding ${value}`).toEqual([]);
  }
}

/** Delivers the simulator's pending webhooks (the echoes of our writes) and waits for the consumer. */
async function deliverEchoes(connectionId: string) {
  const before = await inboundRows(connectionId);
  const statuses = await sim.deliverWebhooks();
  await waitFor(async () => (await inboundRows(connectionId)) >= before + statuses.length, 10_000, "echoes");
  return statuses.length;
}

/** Inbound outcomes so far: logged rows plus the counted ones (noop, duplicate, ignored are counted, not logged). */
async function inboundRows(connectionId: string): Promise<number> {
  const row = await env.DB.prepare(
    `SELECT (SELECT count(*) FROM sync_logs WHERE connection_id = ?1 AND direction = 'in')
       + (SELECT coalesce(sum(n), 0) FROM sync_log_counts WHERE connection_id = ?1 AND direction = 'in'
          AND outcome IN ('noop', 'duplicate', 'ignored')) AS n`,
  )
    .bind(connectionId)
    .first<{ n: number }>();
  return row!.n;
}

/** A synced user with captured events, a done action, log rows and a dead letter naming them. */
async function seedPerson(onErase: "archive" | "delete" | "none", tag: string, onContactDeleted?: "erase") {
  const { workspace, connection, workspaceId } = await connectDestination(
    sim,
    { on_erase: onErase },
    onContactDeleted ? { source: { on_contact_deleted: onContactDeleted } } : {},
  );
  const userId = `u-${tag}-${crypto.randomUUID().slice(0, 6)}`;
  const email = `${userId}@example.com`;
  await identifyUser(env, workspaceId, { user_id: userId, email, properties: { plan: "pro" } });
  await waitFor(() => sim.state(workspace.app_id).contacts.length === 1, 10_000, "contact");
  const contactId = sim.state(workspace.app_id).contacts[0]!.id;
  const db = await tenantD1(env, workspaceId);
  await waitFor(async () => db.prepare("SELECT 1 FROM intercom_links WHERE intercom_id = ?").bind(contactId).first());
  const user = (await db.prepare("SELECT pk FROM users WHERE user_id = ?").bind(userId).first<{ pk: number }>())!;
  const now = Date.now();
  const statements = [];
  for (let i = 0; i < 30; i++) {
    statements.push(
      db
        .prepare(
          "INSERT INTO events (workspace_id, user_pk, connection_id, name, properties, occurred_at, source, created_at) VALUES (?, ?, ?, 'chat', ?, ?, 'intercom', ?)",
        )
        .bind(workspaceId, user.pk, connection.id, JSON.stringify({ email }), now - i, now),
    );
  }
  statements.push(
    db
      .prepare(
        "INSERT INTO dead_letters (queue, connection_id, body, message_id, created_at) VALUES ('intercom-inbound', ?, ?, ?, ?)",
      )
      .bind(
        connection.id,
        JSON.stringify({ app_id: workspace.app_id, item: { id: contactId, email, external_id: userId } }),
        `m-${crypto.randomUUID()}`,
        now,
      ),
    db
      .prepare("INSERT INTO memberships (user_pk, account_pk, workspace_id, created_at) VALUES (?, 999999, ?, ?)")
      .bind(user.pk, workspaceId, now),
  );
  await db.batch(statements);
  const tagged = await api(workspaceId, "POST", "/v1/actions", { user_id: userId, type: "add_tag", tag: "VIP" });
  expect(tagged.status).toBe(202);
  await waitFor(async () => (await api(workspaceId, "GET", `/v1/actions/${tagged.json.id}`)).json.status === "done");
  return { workspace, connection, workspaceId, userId, email, contactId, userPk: user.pk, db };
}

describe("erasure", () => {
  it("on_erase archive: archives the contact once, removes every row and scrubs logs to the digest", async () => {
    const person = await seedPerson("archive", "arch");
    const before = await person.db
      .prepare("SELECT count(*) AS n FROM sync_logs WHERE connection_id = ?")
      .bind(person.connection.id)
      .first<{ n: number }>();
    const asked = await api(person.workspaceId, "DELETE", `/v1/users?user_id=${person.userId}`);
    expect(asked.status).toBe(202);
    expect(asked.json.id).toEqual(expect.any(String));
    const done = await erasureDone(person.workspaceId, asked.json.id);
    expect(done.digest).toMatch(/^erased:[A-Za-z0-9_-]{43}$/);
    expect(done.finished_at).toEqual(expect.any(String));
    expect(Object.fromEntries(done.steps.map((step: any) => [step.name, step.count]))).toMatchObject({
      contacts: 1,
      events: 30,
    });
    expect(countCalls(sim, { method: "POST", path: `/contacts/${person.contactId}/archive` })).toBe(1);
    expect(sim.state(person.workspace.app_id).contacts[0]).toMatchObject({ archived: true });
    // The archive's webhook echo is not captured and is logged under the digest only.
    expect(await deliverEchoes(person.connection.id)).toBeGreaterThan(0);

    // Asking again answers the same erasure and sends nothing.
    const mark = journalMark(sim);
    const again = await api(person.workspaceId, "DELETE", `/v1/users?email=${person.email}`);
    expect(again).toMatchObject({ status: 202, json: { id: asked.json.id } });
    await settle();
    expect(countCalls(sim, { since: mark })).toBe(0);

    expect((await api(person.workspaceId, "GET", `/v1/users/lookup?user_id=${person.userId}`)).status).toBe(404);
    await expectNowhere([person.email, person.userId, person.contactId]);
    // Counts and timelines survive: the log rows are still there, under the digest.
    const after = await person.db
      .prepare("SELECT count(*) AS n FROM sync_logs WHERE connection_id = ? AND object_id = ?")
      .bind(person.connection.id, done.digest)
      .first<{ n: number }>();
    expect(after!.n).toBeGreaterThanOrEqual(before!.n);
    // The audit row names who asked, when, the digest and what was done; no person.
    const audit = await person.db.prepare("SELECT * FROM erasures WHERE id = ?").bind(asked.json.id).first<any>();
    expect(audit).toMatchObject({ state: "done", digest: done.digest, origin: "api", subjects: null });
  });

  it("on_erase delete: deletes the contact exactly once; a person identified again later is a new person", async () => {
    const person = await seedPerson("delete", "del");
    const asked = await api(person.workspaceId, "DELETE", `/v1/users?email=${person.email}`);
    expect(asked.status).toBe(202);
    await erasureDone(person.workspaceId, asked.json.id);
    expect(countCalls(sim, { method: "DELETE", path: `/contacts/${person.contactId}` })).toBe(1);
    expect(sim.state(person.workspace.app_id).contacts).toEqual([]);
    // The delete's webhook echo (contact.deleted) is logged under the digest only.
    expect(await deliverEchoes(person.connection.id)).toBeGreaterThan(0);
    await expectNowhere([person.email, person.userId, person.contactId]);

    await identifyUser(env, person.workspaceId, { user_id: person.userId, email: person.email });
    const user = await person.db
      .prepare("SELECT pk FROM users WHERE user_id = ?")
      .bind(person.userId)
      .first<{ pk: number }>();
    expect(user!.pk).not.toBe(person.userPk);
    const second = await api(person.workspaceId, "DELETE", `/v1/users?user_id=${person.userId}`);
    expect(second.json.id).not.toBe(asked.json.id);
    await erasureDone(person.workspaceId, second.json.id);
  });

  it("on_erase none leaves the contact and still erases every row", async () => {
    const person = await seedPerson("none", "none");
    const mark = journalMark(sim);
    const asked = await api(person.workspaceId, "DELETE", `/v1/users?user_id=${person.userId}`);
    await erasureDone(person.workspaceId, asked.json.id);
    expect(countCalls(sim, { since: mark })).toBe(0);
    expect(sim.state(person.workspace.app_id).contacts).toHaveLength(1);
    await expectNowhere([person.email, person.userId, person.contactId]);
  });

  it("an erase racing a sync and an action of the same person: nothing is sent after the delete", async () => {
    const person = await seedPerson("delete", "race");
    // A change and an action queued just before the erase.
    await identifyUser(env, person.workspaceId, { user_id: person.userId, properties: { plan: "enterprise" } });
    await api(person.workspaceId, "POST", "/v1/actions", { user_id: person.userId, type: "add_tag", tag: "Late" });
    const asked = await api(person.workspaceId, "DELETE", `/v1/users?user_id=${person.userId}`);
    await erasureDone(person.workspaceId, asked.json.id);
    await settle(2_000);
    const calls = sim.journal().filter((entry) => entry.path.includes(person.contactId));
    const deletes = calls.filter(
      (entry) => entry.method === "DELETE" && entry.path === `/contacts/${person.contactId}`,
    );
    expect(deletes).toHaveLength(1);
    expect(calls.filter((entry) => entry.seq > deletes[0]!.seq)).toEqual([]);
    // Nothing created a new contact for the erased person either.
    expect(sim.state(person.workspace.app_id).contacts).toEqual([]);
    await expectNowhere([person.email, person.userId, person.contactId]);
  });

  it("pages a person with many events and log rows: each page bounded, the whole erased", async () => {
    const { connection, workspaceId } = await connectDestination(sim, { enabled: false });
    const userId = `u-many-${crypto.randomUUID().slice(0, 6)}`;
    const email = `${userId}@example.com`;
    await identifyUser(env, workspaceId, { user_id: userId, email });
    const db = await tenantD1(env, workspaceId);
    const user = (await db.prepare("SELECT pk FROM users WHERE user_id = ?").bind(userId).first<{ pk: number }>())!;
    const now = Date.now();
    // 25,000 events and 21,000 log rows: more than one page (40 statements of 500 rows) each.
    await db
      .prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 25000)
         INSERT INTO events (workspace_id, user_pk, connection_id, name, properties, occurred_at, source, created_at)
         SELECT ?, ?, ?, 'chat', '{}', ? - i, 'intercom', ? FROM n`,
      )
      .bind(workspaceId, user.pk, connection.id, now, now)
      .run();
    await db
      .prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 21000)
         INSERT INTO sync_logs (connection_id, workspace_id, direction, outcome, object_type, object_id, email, created_at)
         SELECT ?, ?, 'in', 'captured', 'user', ?, ?, ? FROM n`,
      )
      .bind(connection.id, workspaceId, userId, email, now)
      .run();
    const asked = await api(workspaceId, "DELETE", `/v1/users?user_id=${userId}`);
    const done = await erasureDone(workspaceId, asked.json.id);
    const counts = Object.fromEntries(done.steps.map((step: any) => [step.name, step.count]));
    expect(counts.events).toBe(25_000);
    expect(counts.sync_logs).toBeGreaterThanOrEqual(21_000);
    const row = await db.prepare("SELECT seq FROM erasures WHERE id = ?").bind(asked.json.id).first<{ seq: number }>();
    // One page per step, plus one more for the events and one more for the log rows (20,000 rows a page).
    expect(row!.seq).toBe(done.steps.length + 2);
    const left = await db
      .prepare("SELECT count(*) AS n FROM events WHERE user_pk = ?")
      .bind(user.pk)
      .first<{ n: number }>();
    expect(left!.n).toBe(0);
    const named = await db
      .prepare("SELECT count(*) AS n FROM sync_logs WHERE object_id = ? OR email = ?")
      .bind(userId, email)
      .first<{ n: number }>();
    expect(named!.n).toBe(0);
  });

  it("the digest is keyed: stable for a person, not a plain hash, and changed by ERASURE_DIGEST_KEY", async () => {
    const a = await personDigest(env, "ws_d", { userId: "u-1" });
    expect(await personDigest(env, "ws_d", { userId: "u-1", email: "x@example.com" })).toBe(a);
    const plain = await crypto.subtle.digest("SHA-256", new TextEncoder().encode("ws_d\u0000user_id:u-1"));
    const plainB64url = btoa(String.fromCharCode(...new Uint8Array(plain)))
      .replaceAll("+", "-")
      .replaceAll("/", "_")
      .replaceAll("=", "");
    expect(a).toMatch(/^erased:[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(`erased:${plainB64url}`);
    expect(await personDigest(env, "ws_other", { userId: "u-1" })).not.toBe(a);
    expect(
      await personDigest({ ...env, ERASURE_DIGEST_KEY: "another key of at least 32 bytes!!" }, "ws_d", {
        userId: "u-1",
      }),
    ).not.toBe(a);
  });

  it("an unknown person is an erasure that finds nothing; bad queries are 422; other workspaces 404", async () => {
    const workspaceId = `ws_${crypto.randomUUID().slice(0, 8)}`;
    const asked = await api(workspaceId, "DELETE", "/v1/users?email=nobody@example.com");
    expect(asked.status).toBe(202);
    const done = await erasureDone(workspaceId, asked.json.id);
    expect(done.steps.every((step: any) => step.state === "done")).toBe(true);
    expect((await api(workspaceId, "DELETE", "/v1/users")).status).toBe(422);
    expect((await api("ws_other", "GET", `/v1/erasures/${asked.json.id}`)).status).toBe(404);
    // Another workspace's person of the same user_id is not touched by this workspace's erasure.
    const other = `ws_${crypto.randomUUID().slice(0, 8)}`;
    await identifyUser(env, other, { user_id: "shared-id", email: "shared@example.com" });
    const own = await api(workspaceId, "DELETE", "/v1/users?user_id=shared-id");
    await erasureDone(workspaceId, own.json.id);
    expect((await api(other, "GET", "/v1/users/lookup?user_id=shared-id")).status).toBe(200);
    const ingestOnly = await exports.default.fetch("https://connector.test/v1/users?email=a@example.com", {
      method: "DELETE",
      headers: await authHeaders({ workspaceId, scope: "ingest" }),
    });
    expect(ingestOnly.status).toBe(403);
  });
});

describe("source.on_contact_deleted", () => {
  it("erase: an Intercom contact.deleted erases the CDP person without echoing a delete back", async () => {
    const person = await seedPerson("delete", "intercom", "erase");
    const mark = journalMark(sim);
    await deliver(
      notification("contact.deleted", {
        appId: person.workspace.app_id,
        edit: (item) => {
          item.id = person.contactId;
          item.external_id = person.userId;
        },
      }),
    );
    const row = await waitFor(
      async () =>
        person.db
          .prepare("SELECT id FROM erasures WHERE workspace_id = ? AND origin = 'intercom'")
          .bind(person.workspaceId)
          .first<{ id: string }>(),
      10_000,
      "the erasure",
    );
    const done = await erasureDone(person.workspaceId, row.id);
    expect(done).toMatchObject({ origin: "intercom", requested_by: `intercom:${person.connection.id}` });
    await settle();
    expect(countCalls(sim, { since: mark })).toBe(0);
    await expectNowhere([person.email, person.userId, person.contactId]);
  });

  it("unlink (the default) keeps the CDP user", async () => {
    const person = await seedPerson("delete", "unlink");
    await deliver(
      notification("contact.deleted", { appId: person.workspace.app_id, edit: (item) => (item.id = person.contactId) }),
    );
    await waitFor(
      async () =>
        !(await person.db.prepare("SELECT 1 FROM intercom_links WHERE intercom_id = ?").bind(person.contactId).first()),
    );
    expect((await api(person.workspaceId, "GET", `/v1/users/lookup?user_id=${person.userId}`)).status).toBe(200);
  });
});

describe("destination.clear_removed", () => {
  it("clears custom and standard attributes once; the echo and a second removal cost 0 calls", async () => {
    const { workspace, workspaceId, connection } = await connectDestination(sim);
    const patched = await api(workspaceId, "PATCH", `/v1/connections/${connection.id}`, {
      destination: {
        clear_removed: true,
        mappings: { contact: [{ from: "plan", to: "custom_attributes.plan", type: "string" }] },
      },
    });
    expect(patched.status).toBe(200);
    expect(patched.json.destination).toMatchObject({ clear_removed: true, on_erase: "none" });
    await api(workspaceId, "PUT", "/v1/users", {
      user_id: "u-clear",
      email: "clear@example.com",
      properties: { plan: "pro", phone: "+353871234567" },
    });
    await waitFor(() => sim.state(workspace.app_id).contacts.length === 1, 10_000, "created");
    const contactOf = () => sim.state(workspace.app_id).contacts[0]! as any;
    expect(contactOf()).toMatchObject({ phone: "+353871234567", custom_attributes: { plan: "pro" } });
    await settle(300);
    await sim.deliverWebhooks();
    await settle();

    let mark = journalMark(sim);
    await api(workspaceId, "PUT", "/v1/users", { user_id: "u-clear", properties: { plan: null, phone: null } });
    await waitFor(() => contactOf().phone === null && !("plan" in contactOf().custom_attributes), 10_000, "cleared");
    const puts = sim.journal({ since: mark }).filter((entry) => entry.method === "PUT");
    expect(puts).toHaveLength(1);
    // The link records the clear once Intercom's answer is back: after the contact changed in the simulator.
    const remoteState = async () => {
      const link = await env.DB.prepare("SELECT remote_state FROM intercom_links WHERE connection_id = ?")
        .bind(connection.id)
        .first<{ remote_state: string }>();
      return JSON.parse(link!.remote_state) as Record<string, unknown>;
    };
    await waitFor(async () => (await remoteState()).phone === null, 10_000, "the clear recorded");
    expect(await remoteState()).toMatchObject({ phone: null, "custom_attributes.plan": null });

    // The echo of the clear changes nothing and sends nothing.
    await settle(300);
    mark = journalMark(sim);
    const statuses = await sim.deliverWebhooks();
    expect(statuses.length).toBeGreaterThan(0);
    await settle(2_000);
    expect(countCalls(sim, { since: mark })).toBe(0);

    // A second removal is a no-op.
    await api(workspaceId, "PUT", "/v1/users", {
      user_id: "u-clear",
      properties: { plan: null, phone: null, unmapped: 1 },
    });
    await settle(2_000);
    expect(countCalls(sim, { since: mark })).toBe(0);
  });

  it("without clear_removed a removed property leaves the Intercom value", async () => {
    const { workspace, workspaceId } = await connectDestination(sim);
    await api(workspaceId, "PUT", "/v1/users", { user_id: "u-keep", properties: { phone: "+15550100" } });
    await waitFor(() => sim.state(workspace.app_id).contacts.length === 1, 10_000, "created");
    await settle(300);
    const mark = journalMark(sim);
    await api(workspaceId, "PUT", "/v1/users", { user_id: "u-keep", properties: { phone: null } });
    await settle(2_000);
    expect(countCalls(sim, { since: mark, method: "PUT" })).toBe(0);
    expect((sim.state(workspace.app_id).contacts[0] as any).phone).toBe("+15550100");
  });

  it("plans clears only for absent, clearable targets Intercom holds a value for (pure)", () => {
    const known = {
      phone: "+1",
      email: "a@example.com",
      "custom_attributes.plan": "pro",
      "custom_attributes.gone": null,
    };
    expect(
      clearedFields(
        ["phone", "email", "custom_attributes.plan", "custom_attributes.gone", "custom_attributes.new"],
        known,
      ),
    ).toEqual(["phone", "custom_attributes.plan"]);
    expect(requestBody({ name: "Ada" }, ["phone", "custom_attributes.plan"])).toEqual({
      name: "Ada",
      phone: null,
      custom_attributes: { plan: null },
    });
    expect([
      canClear("contact", "signed_up_at"),
      canClear("contact", "external_id"),
      canClear("company", "plan"),
    ]).toEqual([true, false, false]);
  });

  it("PATCH refuses a mapping Intercom cannot clear while clear_removed is on", async () => {
    const { workspaceId, connection } = await connectDestination(sim);
    const refused = await api(workspaceId, "PATCH", `/v1/connections/${connection.id}`, {
      destination: {
        clear_removed: true,
        mappings: {
          contact: [{ from: "mail", to: "email", type: "string" }],
          company: [{ from: "tier", to: "custom_attributes.tier", type: "string" }],
        },
      },
    });
    expect(refused.status).toBe(422);
    expect(refused.json.errors.map((error: { path: string }) => error.path)).toEqual([
      "destination.mappings.contact.0.to",
      "destination.mappings.company.0.to",
    ]);
    // Mappings already stored: turning the setting on names the setting.
    await api(workspaceId, "PATCH", `/v1/connections/${connection.id}`, {
      destination: { mappings: { contact: [{ from: "mail", to: "email", type: "string" }] } },
    });
    const turnedOn = await api(workspaceId, "PATCH", `/v1/connections/${connection.id}`, {
      destination: { clear_removed: true },
    });
    expect(turnedOn.status).toBe(422);
    expect(turnedOn.json.errors[0].path).toBe("destination.clear_removed");
  });
});

describe("event retention", () => {
  it("housekeeping deletes events older than EVENT_RETENTION_DAYS (default 395)", async () => {
    const now = Date.now();
    await env.DB.prepare(
      "INSERT INTO events (workspace_id, user_pk, name, properties, occurred_at, source, created_at) VALUES ('ws_ret', 1, 'old', '{}', ?, 'intercom', ?), ('ws_ret', 1, 'kept', '{}', ?, 'intercom', ?)",
    )
      .bind(now - 396 * DAY, now, now - 394 * DAY, now)
      .run();
    await runHousekeeping(env, now);
    const names = await env.DB.prepare("SELECT name FROM events WHERE workspace_id = 'ws_ret'").all<{ name: string }>();
    expect(names.results.map((row) => row.name)).toEqual(["kept"]);
    await runHousekeeping({ ...env, EVENT_RETENTION_DAYS: "30" }, now);
    const left = await env.DB.prepare("SELECT name FROM events WHERE workspace_id = 'ws_ret'").all();
    expect(left.results).toEqual([]);
  });
});
