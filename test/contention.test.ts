/**
 * Contention on one user or account (issue 19), through the real routes: concurrent identifies, account upserts and
 * links of the same object all succeed, lose no key, end in one row, and reach Intercom in the state of the last
 * committed write with at most 2 calls. A platform overload answers 503 with Retry-After, never 500.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../src/api/app";
import { database } from "../src/db/client";
import { contactSyncObject } from "../src/destination/contact-sync";
import { identifyUser, upsertAccount } from "../src/destination/ingest";
import { syncObjectName } from "../src/destination/outbound-message";
import type { Env } from "../src/env";
import { findUser, writeUser } from "../src/graph/users";
import { mintToken } from "./helpers/auth";
import { connectDestination, intercomRest, settle, waitFor } from "./helpers/destination";
import { countCalls, journalMark, useIntercomSim } from "./helpers/intercom-sim";
import { type Recorded, recordingD1, scanningStatements } from "./helpers/query-plans";

const sim = useIntercomSim();

type Api = (method: string, path: string, body?: unknown) => Promise<{ status: number; json: any }>;

/** Calls the connector's routes as the CDP does, with one ingest token. */
async function ingestClient(workspaceId: string): Promise<Api> {
  const token = await mintToken({ workspaceId, scope: "ingest" });
  return async (method, path, body) => {
    const response = await exports.default.fetch(`https://connector.test${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: await response.json() };
  };
}

/** The statuses that are not 2xx, counted by status (empty when every answer succeeded). */
function failures(answers: Array<{ status: number }>): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const { status } of answers) if (status < 200 || status > 299) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

/** A destination with `score` mapped to an integer custom attribute, and the simulator's attribute for it. */
async function scoredDestination() {
  const connected = await connectDestination(sim, {
    mappings: { contact: [{ from: "score", to: "custom_attributes.score", type: "integer" }], company: [] },
  });
  await intercomRest(connected.workspace, "POST", "/data_attributes", {
    name: "score",
    model: "contact",
    data_type: "integer",
  });
  return { ...connected, api: await ingestClient(connected.workspaceId) };
}

/** The simulator's contact with this external id (null when absent); fails on duplicates. */
function contactOf(appId: string, userId: string) {
  const found = sim.state(appId).contacts.filter((contact) => contact.external_id === userId && !contact.archived);
  expect(found.length).toBeLessThanOrEqual(1);
  return found[0] ?? null;
}

describe("concurrent writes to one user", () => {
  it("200 concurrent identifies, each its own key plus a shared one: all 2xx, all keys, the last committed shared value in Intercom with ≤ 2 calls", async () => {
    const { workspace, api } = await scoredDestination();
    expect((await api("PUT", "/v1/users", { user_id: "hot", properties: { score: -1 } })).status).toBe(200);
    await waitFor(() => contactOf(workspace.app_id, "hot")?.custom_attributes.score === -1, 10_000, "first sync");
    await settle(500);
    const mark = journalMark(sim);

    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        api("PUT", "/v1/users", { user_id: "hot", properties: { [`k${i}`]: i, score: i } }),
      ),
    );
    expect(failures(answers)).toEqual({});
    const user = (await api("GET", "/v1/users/lookup?user_id=hot")).json;
    for (let i = 0; i < 200; i++) expect(user.properties[`k${i}`]).toBe(i);
    expect(Object.keys(user.properties)).toHaveLength(201);
    const finalScore = user.properties.score;
    expect(finalScore).toBeGreaterThanOrEqual(0);
    expect(finalScore).toBeLessThan(200);
    // The final state is the state after the last committed write: exactly one answer shows it whole.
    expect(answers.filter((answer) => Object.keys(answer.json.properties).length === 201)).toHaveLength(1);

    await waitFor(
      () => contactOf(workspace.app_id, "hot")?.custom_attributes.score === finalScore,
      20_000,
      "final state synced",
    );
    await settle(1_500);
    const calls = countCalls(sim, { since: mark });
    console.info({ msg: "contention: 200 identifies of one user", intercom_calls: calls, final_score: finalScore });
    expect(calls).toBeLessThanOrEqual(2);
    expect(contactOf(workspace.app_id, "hot")!.custom_attributes.score).toBe(finalScore);
  });

  it("100 concurrent identifies changing a mapped property: ≤ 2 calls, Intercom ends in the last committed write", async () => {
    const { workspace, workspaceId, api } = await scoredDestination();
    expect((await api("PUT", "/v1/users", { user_id: "busy", properties: { full_name: "v-start" } })).status).toBe(200);
    await waitFor(() => contactOf(workspace.app_id, "busy")?.name === "v-start", 10_000, "first sync");
    await settle(500);
    const mark = journalMark(sim);

    const names = Array.from({ length: 100 }, (_, i) => `v${i}`);
    const answers = await Promise.all(
      names.map((name) => api("PUT", "/v1/users", { user_id: "busy", properties: { full_name: name } })),
    );
    expect(failures(answers)).toEqual({});
    const row = await env.DB.prepare("SELECT properties, version FROM users WHERE workspace_id = ? AND user_id = ?")
      .bind(workspaceId, "busy")
      .first<{ properties: string; version: number }>();
    const last = JSON.parse(row!.properties).full_name;
    expect(names).toContain(last);
    await waitFor(() => contactOf(workspace.app_id, "busy")?.name === last, 20_000, "last write synced");
    await settle(1_500);
    const calls = countCalls(sim, { since: mark });
    console.info({
      msg: "contention: 100 mapped identifies of one user",
      intercom_calls: calls,
      versions: row!.version,
    });
    expect(calls).toBeLessThanOrEqual(2);
    expect(contactOf(workspace.app_id, "busy")!.name).toBe(last);
  });

  it("50 new users × 20 concurrent writes each (by user_id and email, or by email alone): one row each, every key, Intercom in the final state", async () => {
    const { workspace, workspaceId, api } = await scoredDestination();
    const mark = journalMark(sim);
    const writes = Array.from({ length: 50 }, (_, u) =>
      Array.from({ length: 20 }, (_, w) => ({
        ...(w % 4 === 3 ? {} : { user_id: `many-${u}` }),
        email: `many-${u}@example.com`,
        properties: { [`w${w}`]: w, score: 100 * u + w },
      })),
    ).flat();
    const answers = await Promise.all(writes.map((body) => api("PUT", "/v1/users", body)));
    expect(failures(answers)).toEqual({});

    const { results: rows } = await env.DB.prepare(
      "SELECT user_id, email, properties FROM users WHERE workspace_id = ? ORDER BY email",
    )
      .bind(workspaceId)
      .all<{ user_id: string | null; email: string; properties: string }>();
    expect(rows).toHaveLength(50);
    const finalScores = new Map<string, number>();
    for (const row of rows) {
      const u = Number(/many-(\d+)@/.exec(row.email)![1]);
      expect(row.user_id).toBe(`many-${u}`);
      const properties = JSON.parse(row.properties);
      for (let w = 0; w < 20; w++) expect(properties[`w${w}`]).toBe(w);
      expect(Math.floor(properties.score / 100)).toBe(u);
      finalScores.set(row.user_id!, properties.score);
    }
    await waitFor(
      () =>
        [...finalScores].every(
          ([userId, score]) => contactOf(workspace.app_id, userId)?.custom_attributes.score === score,
        ),
      60_000,
      "every user's final state synced",
    );
    await settle(1_500);
    expect(sim.state(workspace.app_id).contacts).toHaveLength(50);
    for (const [userId, score] of finalScores) {
      expect(contactOf(workspace.app_id, userId)).toMatchObject({
        email: `${userId}@example.com`,
        custom_attributes: { score },
      });
    }
    const calls = countCalls(sim, { since: mark });
    console.info({ msg: "contention: 50 users × 20 writes", intercom_calls: calls, per_user: calls / 50 });
    expect(calls / 50).toBeLessThanOrEqual(3);
  }, 120_000);
});

describe("the sync debounce", () => {
  /** Changes `full_name` 10 times, 25 ms apart, each handed straight to the user's object (no queue batching). */
  async function trickle(debounceMs: string | undefined) {
    env.SYNC_DEBOUNCE_MS = debounceMs;
    try {
      const { workspace, workspaceId, connection } = await connectDestination(sim);
      const db = database(env.DB);
      const first = await identifyUser(env, workspaceId, { user_id: "trickle", properties: { full_name: "t-start" } });
      await waitFor(() => contactOf(workspace.app_id, "trickle")?.name === "t-start", 10_000, "first sync");
      await settle(500);
      const mark = journalMark(sim);
      const message = { kind: "user", connection_id: connection.id, local_pk: first.row.pk } as const;
      const object = contactSyncObject(env, syncObjectName(message));
      for (let i = 0; i < 10; i++) {
        await writeUser(
          db,
          workspaceId,
          { userId: "trickle" },
          { properties: { full_name: `t${i}` } },
          { create: false },
        );
        await object.enqueue(message);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      await waitFor(() => contactOf(workspace.app_id, "trickle")?.name === "t9", 10_000, "last write synced");
      await settle(1_000);
      return countCalls(sim, { since: mark });
    } finally {
      env.SYNC_DEBOUNCE_MS = undefined;
    }
  }

  it("gathers the changes of a quiet object that arrive within SYNC_DEBOUNCE_MS into one call; 0 turns it off", async () => {
    const debounced = await trickle("1000");
    const immediate = await trickle("0");
    console.info({ msg: "contention: debounce", calls_debounced: debounced, calls_without: immediate });
    expect(debounced).toBe(1);
    expect(immediate).toBeGreaterThan(1);
  });
});

describe("concurrent writes to one account", () => {
  it("100 concurrent upserts and 100 concurrent member links of one account: all 2xx, every key and member, Intercom in the final state", async () => {
    const { workspace, workspaceId } = await connectDestination(sim);
    const api = await ingestClient(workspaceId);
    // The members exist in the CDP only: the links' syncs create their contacts during the burst.
    const db = database(env.DB);
    for (let i = 0; i < 100; i++)
      await writeUser(
        db,
        workspaceId,
        { userId: `member-${i}` },
        { properties: { full_name: `Member ${i}` } },
        { create: true },
      );
    expect(
      (await api("PUT", "/v1/accounts/acct-hot", { name: "Hot Inc", properties: { plan: "p-start" } })).status,
    ).toBe(200);

    const mark = journalMark(sim);
    const plans = Array.from({ length: 100 }, (_, i) => `p${i}`);
    const answers = await Promise.all([
      ...plans.map((plan, i) => api("PUT", "/v1/accounts/acct-hot", { properties: { [`k${i}`]: i, plan } })),
      ...plans.map((_, i) => api("PUT", `/v1/accounts/acct-hot/users/member-${i}`)),
    ]);
    expect(failures(answers)).toEqual({});
    const account = (await api("GET", "/v1/accounts/acct-hot")).json;
    for (let i = 0; i < 100; i++) expect(account.properties[`k${i}`]).toBe(i);
    expect(plans).toContain(account.properties.plan);
    expect(account.user_ids).toHaveLength(100);

    // The simulator's state shows a company as Intercom's REST API does (`plan: {type, id, name}`).
    const companyOf = () =>
      sim.state(workspace.app_id).companies.find((company) => company.company_id === "acct-hot") as
        | { id: string; plan?: { name?: string } }
        | undefined;
    await waitFor(() => companyOf()?.plan?.name === account.properties.plan, 150_000, "the company's final plan");
    await waitFor(
      () => {
        const company = companyOf();
        return (
          company && sim.state(workspace.app_id).attachments.filter((a) => a.company_id === company.id).length === 100
        );
      },
      150_000,
      "every member attached",
    );
    const { results } = await env.DB.prepare(
      "SELECT count(*) AS n FROM accounts WHERE workspace_id = ? AND account_id = 'acct-hot'",
    )
      .bind(workspaceId)
      .all<{ n: number }>();
    expect(results[0]!.n).toBe(1);
    expect(sim.state(workspace.app_id).contacts).toHaveLength(100);
    await settle(1_500);
    const calls = sim.journal().filter((entry) => entry.seq > mark);
    console.info({
      msg: "contention: 100 upserts + 100 links of one account",
      intercom_calls: calls.length,
      company_calls: calls.filter((entry) => entry.path.startsWith("/companies")).length,
      final_plan: account.properties.plan,
    });
  }, 400_000);
});

describe("overload and failures of the platform", () => {
  /** A route call with some bindings replaced, through the app as the Worker serves it. */
  async function call(bindings: Partial<Env>, workspaceId: string, body: unknown) {
    const ctx = createExecutionContext();
    const response = await app.fetch(
      new Request("https://connector.test/v1/users", {
        method: "PUT",
        headers: {
          authorization: `Bearer ${await mintToken({ workspaceId, scope: "ingest" })}`,
          "content-type": "application/json",
        },
        body: JSON.stringify(body),
      }),
      { ...env, ...bindings },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return response;
  }

  it("with INGEST_CONCURRENCY=1 the writes pass one at a time, each through the gate once, and all succeed", async () => {
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        call({ INGEST_CONCURRENCY: "1" }, "ws_gate", { user_id: "gated", properties: { [`g${i}`]: i } }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
    const user = await findUser(database(env.DB), "ws_gate", { userId: "gated" });
    expect(Object.keys(user!.properties)).toHaveLength(30);
  });

  it("an overloaded D1 answers 503 with Retry-After, not 500", async () => {
    const overloaded = new Proxy(env.DB, {
      get(target, property) {
        if (property === "batch") {
          return async () => {
            throw new Error("D1_ERROR: D1 DB is overloaded. Requests queued for too long.");
          };
        }
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const response = await call({ DB: overloaded }, "ws_overload", { user_id: "u-over", properties: { a: 1 } });
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("2");
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(await response.json()).toMatchObject({ status: 503, title: "Service Unavailable" });
  });

  it("a change is not lost when OUTBOUND refuses the message: the sync goes to its object directly", async () => {
    const { workspace, workspaceId } = await connectDestination(sim);
    const refusing = {
      send: async () => {
        throw new Error("Queue send failed: Too Many Requests");
      },
    } as unknown as Env["OUTBOUND"];
    const response = await call({ OUTBOUND: refusing }, workspaceId, {
      user_id: "u-refused",
      properties: { full_name: "Still Synced" },
    });
    expect(response.status).toBe(200);
    await waitFor(() => contactOf(workspace.app_id, "u-refused")?.name === "Still Synced", 10_000, "synced");
  });
});

describe("query plans of the contended writes", () => {
  it("every statement of a user or account write uses an index", async () => {
    const ws = "ws_contention_plans";
    const db = database(env.DB);
    // Some content, so the planner sees real tables.
    for (let i = 0; i < 30; i++)
      await writeUser(db, ws, { userId: `filler-${i}`, email: `f${i}@example.com` }, {}, { create: true });
    await writeUser(db, ws, { email: "only@example.com" }, {}, { create: true });
    const recorded: Recorded[] = [];
    const proxied: Env = { ...env, DB: recordingD1(env.DB, recorded) };
    await identifyUser(proxied, ws, { user_id: "plan", email: "plan@example.com", properties: { a: { b: 1 } } });
    await identifyUser(proxied, ws, { user_id: "plan", email: "plan@example.com", properties: { a: { c: 2 } } });
    await identifyUser(proxied, ws, { email: "plan@example.com", properties: { n: null } });
    await identifyUser(proxied, ws, { user_id: "adopter", email: "only@example.com" });
    await identifyUser(proxied, ws, { user_id: "plan", segments: ["s"] });
    // As wide as a request may be: 500 properties, objects among them.
    const wide = Object.fromEntries(
      Array.from({ length: 500 }, (_, i) => [`attribute_${i}`, i % 2 ? { nested: "x".repeat(200) } : "y".repeat(200)]),
    );
    await identifyUser(proxied, ws, { user_id: "wide", properties: wide });
    await identifyUser(proxied, ws, { user_id: "wide", properties: wide });
    await upsertAccount(proxied, ws, "acme", { name: "Acme", properties: { plan: "pro" } });
    await upsertAccount(proxied, ws, "acme", { properties: { plan: "scale" } });
    // D1's limits: ≤ 100 bound parameters and ≤ 100 KB of SQL text per statement; the properties travel as parameters.
    for (const { sql, params } of recorded) {
      expect(params.length).toBeLessThanOrEqual(100);
      expect(new TextEncoder().encode(sql).byteLength).toBeLessThan(4_000);
    }
    const { checked, offenders } = await scanningStatements(recorded);
    expect(checked).toBeGreaterThanOrEqual(6);
    expect(offenders).toEqual([]);

    // The UPDATE finds its row by primary key, through the identity's unique index, and computes the merge once.
    const update = recorded.find((entry) => /^WITH next AS MATERIALIZED[\s\S]*UPDATE users/.test(entry.sql))!;
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${update.sql}`)
      .bind(...update.params)
      .all<{ detail: string }>();
    const plan = results.map((step) => step.detail);
    expect(plan).toContain("MATERIALIZE next");
    expect(plan.some((step) => /^SEARCH users USING INTEGER PRIMARY KEY/.test(step))).toBe(true);
    expect(plan.some((step) => /^SEARCH users USING (COVERING )?INDEX users_workspace_user_id/.test(step))).toBe(true);
    // The adopted email-only user now has the user_id; one row per person.
    const { results: adopted } = await env.DB.prepare(
      "SELECT user_id FROM users WHERE workspace_id = ? AND email = 'only@example.com'",
    )
      .bind(ws)
      .all();
    expect(adopted).toEqual([{ user_id: "adopter" }]);
    const plan2 = (await identifyUser(env, ws, { user_id: "plan" })).row.properties;
    // Object values replace the stored one whole; null removes.
    expect(plan2).toEqual({ a: { c: 2 } });
  });
});
