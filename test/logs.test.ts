import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { logsQuery } from "../src/api/admin/logs";
import { database } from "../src/db/client";
import { syncLogs } from "../src/db/schema";
import worker from "../src/index";
import { logSyncOutcome, type SyncLogEntry, syncLogBatchStatements, writeSyncLog } from "../src/lib/sync-log";
import { authHeaders } from "./helpers/auth";
import { seedConnection } from "./helpers/connections";

const BASE = "https://connector.test";
const WS = "ws_logs";
let connectionId: string;
let otherConnectionId: string;

interface Page {
  items: Array<{
    id: string;
    direction: string;
    outcome: string;
    object_type: string;
    object_id: string | null;
    email: string | null;
    intercom_id: string | null;
    created_at: string;
    detail: string | null;
    action: string | null;
  }>;
  next_cursor: string | null;
}

async function get(path: string, workspaceId = WS) {
  const res = await exports.default.fetch(`${BASE}${path}`, {
    headers: await authHeaders({ workspaceId, scope: "admin" }),
  });
  return {
    status: res.status,
    body: (await res.json()) as Page & { errors?: Array<{ path: string; message: string }> },
  };
}

const entry = (overrides: Partial<SyncLogEntry>): SyncLogEntry => ({
  connectionId,
  workspaceId: WS,
  direction: "in",
  outcome: "captured",
  objectType: "user",
  ...overrides,
});

beforeAll(async () => {
  connectionId = (await seedConnection({ workspaceId: WS })).id;
  otherConnectionId = (await seedConnection({ workspaceId: WS })).id;
  const db = database(env.DB);
  const base = Date.now() - 60_000;
  // 30 rows: alternating directions, three outcomes, two object types, a few identities.
  for (let i = 0; i < 30; i++) {
    await db.insert(syncLogs).values({
      connectionId,
      workspaceId: WS,
      direction: i % 2 === 0 ? "in" : "out",
      outcome: (["captured", "synced", "failed"] as const)[i % 3]!,
      objectType: i % 5 === 0 ? "company" : "user",
      objectId: i % 5 === 0 ? `acct_${i}` : `user_${i % 4}`,
      intercomId: `ic_${i}`,
      email: i % 5 === 0 ? null : `user${i % 4}@example.com`,
      action: "contact.user.updated",
      detail: `row ${i}`,
      createdAt: base + i * 1000,
    });
  }
  await db.insert(syncLogs).values({
    connectionId: otherConnectionId,
    workspaceId: WS,
    direction: "in",
    outcome: "captured",
    objectType: "user",
    objectId: "user_1",
    email: "user1@example.com",
    createdAt: base,
  });
});

describe("GET /v1/connections/:id/logs", () => {
  it("returns the newest rows first with the documented fields, and ISO times", async () => {
    const { status, body } = await get(`/v1/connections/${connectionId}/logs?limit=3`);
    expect(status).toBe(200);
    expect(body.items.map((item) => item.detail)).toEqual(["row 29", "row 28", "row 27"]);
    expect(body.items[0]).toEqual({
      id: expect.any(String),
      direction: "out",
      outcome: "failed",
      object_type: "user",
      object_id: "user_1",
      intercom_id: "ic_29",
      email: "user1@example.com",
      action: "contact.user.updated",
      detail: "row 29",
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(body.next_cursor).toEqual(body.items[2]!.id);
  });

  it("pages with next_cursor until null, without gaps or repeats, even when rows arrive between pages", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const { body } = await get(`/v1/connections/${connectionId}/logs?limit=7${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...body.items.map((item) => item.detail!));
      cursor = body.next_cursor;
      if (pages++ === 0) await writeSyncLog(database(env.DB), entry({ detail: "arrived while paging" }));
    } while (cursor);
    expect(pages).toBe(5);
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => `row ${29 - i}`));
    // The new row is on the first page of a fresh read.
    const { body } = await get(`/v1/connections/${connectionId}/logs?limit=1`);
    expect(body.items[0]!.detail).toBe("arrived while paging");
  });

  it("filters by direction, outcome and object_type, combined with AND", async () => {
    const out = await get(`/v1/connections/${connectionId}/logs?direction=out&limit=200`);
    expect(out.body.items.length).toBe(15);
    expect(out.body.items.every((item) => item.direction === "out")).toBe(true);
    const failedCompanies = await get(`/v1/connections/${connectionId}/logs?outcome=failed&object_type=company`);
    // i % 3 === 2 and i % 5 === 0: 5 and 20.
    expect(failedCompanies.body.items.map((item) => item.detail)).toEqual(["row 20", "row 5"]);
    expect(failedCompanies.body.next_cursor).toBeNull();
  });

  it("q matches an email (any case), a CDP object id, or an Intercom id, only within the connection", async () => {
    const byEmail = await get(
      `/v1/connections/${connectionId}/logs?q=${encodeURIComponent("User1@Example.com")}&limit=200`,
    );
    expect(byEmail.body.items.length).toBeGreaterThan(0);
    expect(byEmail.body.items.every((item) => item.email === "user1@example.com")).toBe(true);
    const byObject = await get(`/v1/connections/${connectionId}/logs?q=acct_10`);
    expect(byObject.body.items.map((item) => item.detail)).toEqual(["row 10"]);
    const byIntercomId = await get(`/v1/connections/${connectionId}/logs?q=ic_7`);
    expect(byIntercomId.body.items.map((item) => item.detail)).toEqual(["row 7"]);
    const none = await get(`/v1/connections/${connectionId}/logs?q=nobody`);
    expect(none.body).toEqual({ items: [], next_cursor: null });
  });

  it("q pages too, and a row that matches two ways appears once", async () => {
    // user_1 rows all have email user1@…: object_id and email both match.
    const all = await get(`/v1/connections/${connectionId}/logs?q=user_1&limit=200`);
    const ids = all.body.items.map((item) => item.id);
    expect(new Set(ids).size).toBe(ids.length);
    const first = await get(`/v1/connections/${connectionId}/logs?q=user_1&limit=2&direction=out`);
    const second = await get(
      `/v1/connections/${connectionId}/logs?q=user_1&limit=2&direction=out&cursor=${first.body.next_cursor}`,
    );
    const paged = [...first.body.items, ...second.body.items].map((item) => item.id);
    expect(paged).toEqual(
      all.body.items
        .filter((item) => item.direction === "out")
        .slice(0, 4)
        .map((item) => item.id),
    );
  });

  it("422 with one entry per bad query parameter", async () => {
    const { status, body } = await get(
      `/v1/connections/${connectionId}/logs?direction=sideways&outcome=nope&limit=0&cursor=abc&object_type=User!`,
    );
    expect(status).toBe(422);
    expect(body.errors!.map((error) => error.path).sort()).toEqual([
      "query.cursor",
      "query.direction",
      "query.limit",
      "query.object_type",
      "query.outcome",
    ]);
    expect((await get(`/v1/connections/${connectionId}/logs?limit=201`)).status).toBe(422);
    expect((await get(`/v1/connections/${connectionId}/logs?limit=2.5`)).status).toBe(422);
  });

  it("404 for an unknown connection or another workspace's", async () => {
    expect((await get(`/v1/connections/nope/logs`)).status).toBe(404);
    expect((await get(`/v1/connections/${connectionId}/logs`, "ws_someone_else")).status).toBe(404);
  });
});

describe("query plans: every filter is an index search, never a scan", () => {
  const plans = async (filter: Parameters<typeof logsQuery>[0]) => {
    const { sql, params } = logsQuery(filter);
    const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .bind(...params)
      .all<{ detail: string }>();
    return results.map((row) => row.detail);
  };

  it("q searches the email, object_id and intercom_id indexes", async () => {
    const detail = await plans({ connectionId, q: "user1@example.com", direction: "in", before: 1000, limit: 51 });
    const searches = detail.filter((line) => line.startsWith("SEARCH"));
    expect(searches.some((line) => line.includes("sync_logs_email"))).toBe(true);
    expect(searches.some((line) => line.includes("sync_logs_object_id"))).toBe(true);
    expect(searches.some((line) => line.includes("sync_logs_intercom_id"))).toBe(true);
    expect(detail.filter((line) => /^SCAN sync_logs\b/.test(line))).toEqual([]);
  });

  it("plain listing and each filter use an index of the connection", async () => {
    for (const filter of [
      {},
      { direction: "out" },
      { outcome: "failed" },
      { objectType: "company" },
      { direction: "in", outcome: "failed" },
    ]) {
      const detail = await plans({ connectionId, ...filter, limit: 51 });
      expect(
        detail.some((line) => /^SEARCH sync_logs USING (COVERING )?INDEX sync_logs_/.test(line)),
        JSON.stringify({ filter, detail }),
      ).toBe(true);
      expect(detail.filter((line) => /^SCAN sync_logs\b/.test(line))).toEqual([]);
      expect(detail.some((line) => line.includes("TEMP B-TREE"))).toBe(false);
    }
  });
});

describe("sync-log rows and their console twins", () => {
  it("writeSyncLog stores a row and prints the same fields as one structured object", async () => {
    const spy = vi.spyOn(console, "log").mockImplementation(() => {});
    await writeSyncLog(
      database(env.DB),
      entry({ objectId: "user_twin", intercomId: "ic_twin", action: "create", outcome: "synced", direction: "out" }),
    );
    const printed = spy.mock.calls
      .map((call) => call[0] as Record<string, unknown>)
      .find((line) => line.object_id === "user_twin");
    spy.mockRestore();
    expect(printed).toMatchObject({
      level: "info",
      connection_id: connectionId,
      direction: "out",
      object_type: "user",
      object_id: "user_twin",
      intercom_id: "ic_twin",
      action: "create",
      outcome: "synced",
    });
    const { body } = await get(`/v1/connections/${connectionId}/logs?q=user_twin`);
    expect(body.items[0]).toMatchObject({ object_id: "user_twin", outcome: "synced", direction: "out" });
  });

  it("noop, duplicate and ignored are counted per 5-minute window, not written as rows, and still printed", async () => {
    const spy = vi.spyOn(console, "log").mockImplementation(() => {});
    const db = database(env.DB);
    const quiet = (await seedConnection({ workspaceId: WS })).id;
    const at = Date.parse("2026-11-30T10:07:00Z");
    for (const [outcome, direction] of [
      ["noop", "out"],
      ["noop", "out"],
      ["duplicate", "in"],
      ["ignored", "in"],
    ] as const) {
      await writeSyncLog(db, entry({ connectionId: quiet, outcome, direction, objectId: "user_counted" }), at);
    }
    const printed = spy.mock.calls.filter((call) => (call[0] as { object_id?: string }).object_id === "user_counted");
    spy.mockRestore();
    expect(printed).toHaveLength(4);
    const { body } = await get(`/v1/connections/${quiet}/logs`);
    expect(body.items).toEqual([]);
    const { results } = await env.DB.prepare(
      "SELECT period, direction, outcome, n FROM sync_log_counts WHERE connection_id = ? ORDER BY outcome",
    )
      .bind(quiet)
      .all();
    const window = Date.parse("2026-11-30T10:05:00Z");
    expect(results).toEqual([
      { period: window, direction: "in", outcome: "duplicate", n: 1 },
      { period: window, direction: "in", outcome: "ignored", n: 1 },
      { period: window, direction: "out", outcome: "noop", n: 2 },
    ]);
  });

  it("a batch of outcomes adds to each counter once (imports count by the queue batch), and its failures keep rows", async () => {
    const db = database(env.DB);
    const batchy = (await seedConnection({ workspaceId: WS })).id;
    const at = Date.parse("2026-11-30T11:02:00Z");
    const entries: SyncLogEntry[] = [
      ...Array.from({ length: 25 }, (_, i) =>
        entry({ connectionId: batchy, outcome: "captured", counted: true, objectId: `u${i}` }),
      ),
      entry({ connectionId: batchy, outcome: "noop", objectId: "u-noop" }),
      entry({ connectionId: batchy, outcome: "failed", counted: true, objectId: "u-failed" }),
    ];
    const statements = syncLogBatchStatements(db, entries, at);
    // One upsert per counter, the failure's row and its daily count: not one statement per outcome.
    expect(statements).toHaveLength(4);
    await db.batch(statements as [(typeof statements)[number], ...typeof statements]);
    await db.batch(syncLogBatchStatements(db, entries.slice(0, 3), at) as [(typeof statements)[number]]);
    const { results } = await env.DB.prepare(
      "SELECT direction, outcome, n FROM sync_log_counts WHERE connection_id = ? AND direction != '*' ORDER BY outcome",
    )
      .bind(batchy)
      .all();
    expect(results).toEqual([
      { direction: "in", outcome: "captured", n: 28 },
      { direction: "in", outcome: "noop", n: 1 },
    ]);
    const { body } = await get(`/v1/connections/${batchy}/logs`);
    expect(body.items.map((item) => item.object_id)).toEqual(["u-failed"]);
  });

  it("failures print at warn level", () => {
    const spy = vi.spyOn(console, "warn").mockImplementation(() => {});
    logSyncOutcome(entry({ outcome: "failed", objectId: "user_bad" }));
    expect(spy.mock.calls[0]?.[0]).toMatchObject({ level: "warn", outcome: "failed", object_id: "user_bad" });
    spy.mockRestore();
  });
});

describe("retention (housekeeping cron)", () => {
  it("deletes rows older than LOG_RETENTION_DAYS and keeps the rest", async () => {
    const db = database(env.DB);
    const now = Date.now();
    const day = 86_400_000;
    const retention = await seedConnection({ workspaceId: WS });
    for (const [detail, age] of [
      ["31 days", 31 * day],
      ["30 days and a minute", 30 * day + 60_000],
      ["29 days", 29 * day],
      ["today", 0],
    ] as const) {
      await db.insert(syncLogs).values({
        connectionId: retention.id,
        workspaceId: WS,
        direction: "in",
        outcome: "captured",
        objectType: "user",
        detail,
        createdAt: now - age,
      });
    }
    const controller = createScheduledController({ scheduledTime: now, cron: "*/10 * * * *" });
    const ctx = createExecutionContext();
    const spy = vi.spyOn(console, "log");
    await worker.scheduled(controller, env, ctx);
    await waitOnExecutionContext(ctx);
    const summary = spy.mock.calls
      .map((call) => call[0] as Record<string, unknown>)
      .find((line) => line.msg === "housekeeping done");
    spy.mockRestore();
    const { body } = await get(`/v1/connections/${retention.id}/logs`);
    expect(body.items.map((item) => item.detail)).toEqual(["today", "29 days"]);
    expect(summary).toMatchObject({ retention_days: 30, sync_logs_deleted: 2 });
  });

  it("deletes counters of windows older than LOG_RETENTION_DAYS too", async () => {
    const db = database(env.DB);
    const counted = await seedConnection({ workspaceId: WS });
    const now = Date.now();
    for (const age of [31, 29]) {
      await writeSyncLog(
        db,
        entry({ connectionId: counted.id, outcome: "noop", direction: "out" }),
        now - age * 86_400_000,
      );
    }
    const controller = createScheduledController({ scheduledTime: now, cron: "*/10 * * * *" });
    const ctx = createExecutionContext();
    await worker.scheduled(controller, env, ctx);
    await waitOnExecutionContext(ctx);
    const { results } = await env.DB.prepare("SELECT period FROM sync_log_counts WHERE connection_id = ?")
      .bind(counted.id)
      .all<{ period: number }>();
    expect(results).toHaveLength(1);
    expect(results[0]!.period).toBeGreaterThan(now - 30 * 86_400_000);
  });

  it("the exported scheduled handler runs it too, with LOG_RETENTION_DAYS from the environment", async () => {
    const db = database(env.DB);
    const retention = await seedConnection({ workspaceId: WS });
    await db.insert(syncLogs).values({
      connectionId: retention.id,
      workspaceId: WS,
      direction: "out",
      outcome: "synced",
      objectType: "user",
      detail: "old",
      createdAt: Date.now() - 40 * 86_400_000,
    });
    // `scheduled` on the entrypoint is there at runtime (service_binding_extra_handlers) but not in its type.
    const entrypoint = exports.default as unknown as {
      scheduled(options: { scheduledTime?: number; cron?: string }): Promise<unknown>;
    };
    await entrypoint.scheduled({ scheduledTime: Date.now(), cron: "*/10 * * * *" });
    await vi.waitFor(async () => {
      const { body } = await get(`/v1/connections/${retention.id}/logs`);
      expect(body.items).toEqual([]);
    });
  });
});
