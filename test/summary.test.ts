import { env, exports } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS, readSummary } from "../src/api/admin/summary-reads";
import { database } from "../src/db/client";
import { connections, deadLetters, parkedSyncs, syncLogs } from "../src/db/schema";
import { rateBudgetObject } from "../src/intercom/rate-budget";
import { syncLogStatements, writeSyncLog } from "../src/lib/sync-log";
import { authHeaders } from "./helpers/auth";
import { seedConnection } from "./helpers/connections";
import { type Recorded, recordingD1, scanningStatements } from "./helpers/query-plans";

const BASE = "https://connector.test";
const WS = "ws_summary";
let connectionId: string;
let appId: string;
let quietId: string;

async function summary(id: string, options: { workspaceId?: string; scope?: string; token?: boolean } = {}) {
  const headers =
    options.token === false
      ? {}
      : await authHeaders({ workspaceId: options.workspaceId ?? WS, scope: options.scope ?? "admin" });
  const res = await exports.default.fetch(`${BASE}/v1/connections/${id}/summary`, { headers });
  return { res, body: (await res.json()) as any };
}

beforeAll(async () => {
  const connection = await seedConnection({ workspaceId: WS, destination: { enabled: true } });
  connectionId = connection.id;
  appId = connection.appId;
  quietId = (await seedConnection({ workspaceId: WS })).id;
  const db = database(env.DB);
  const now = Date.now();
  await db
    .update(connections)
    .set({ sweptUntil: Math.floor(now / 1000) - 900, statusDetail: null })
    .where(eq(connections.id, connectionId));
  const row = (createdAt: number, values: Partial<typeof syncLogs.$inferInsert>) => ({
    connectionId,
    workspaceId: WS,
    direction: "in" as const,
    outcome: "captured" as const,
    objectType: "user",
    createdAt,
    ...values,
  });
  // Oldest first, as the log is written: two days ago (outside every window), 3 h ago, then the last hour.
  await db
    .insert(syncLogs)
    .values([
      row(now - 2 * DAY_MS, { outcome: "failed", detail: "ancient" }),
      row(now - 3 * HOUR_MS, { objectId: "u-1", action: "contact.user.created" }),
      row(now - 3 * HOUR_MS + 1, { direction: "out", outcome: "synced", objectId: "u-1", action: "create" }),
      row(now - 2 * HOUR_MS, { direction: "out", outcome: "failed", objectId: "u-2", detail: "Intercom answered 400" }),
      row(now - 30 * 60_000, { objectId: "u-3", action: "contact.user.updated" }),
      row(now - 20 * 60_000, { outcome: "skipped", objectType: "event", action: "event.created", detail: "off" }),
      row(now - 10 * 60_000, { objectType: "connection", outcome: "captured", action: "sweep" }),
      row(now - 5 * 60_000, { direction: "out", outcome: "synced", objectId: "u-3", action: "update" }),
    ]);
  // Counted outcomes (no rows, 5-minute counters): two no-op syncs 10 minutes ago, a duplicate 3 h ago, an
  // ignored topic two days ago (outside every window).
  const counted = (at: number, direction: "in" | "out", outcome: "noop" | "duplicate" | "ignored") =>
    writeSyncLog(db, { connectionId, workspaceId: WS, direction, outcome, objectType: "contact" }, at);
  await counted(now - 10 * 60_000, "out", "noop");
  await counted(now - 10 * 60_000, "out", "noop");
  await counted(now - 3 * HOUR_MS, "in", "duplicate");
  await counted(now - 2 * DAY_MS, "in", "ignored");
  await db.insert(parkedSyncs).values([
    { connectionId, kind: "user", localPk: 1, createdAt: now },
    { connectionId, kind: "user", localPk: 2, createdAt: now },
    { connectionId, kind: "account", localPk: 1, createdAt: now },
  ]);
  await db.insert(deadLetters).values([
    {
      queue: "intercom-outbound",
      connectionId,
      body: "{}",
      messageId: "m-1",
      createdAt: now - 60_000,
      replayedAt: now,
    },
    { queue: "intercom-outbound", connectionId, body: "{}", messageId: "m-2", createdAt: now - 1_000 },
  ]);
});

describe("GET /v1/connections/:id/summary", () => {
  it("answers 401 without a token, 403 without the admin scope, 404 for another workspace or an unknown id", async () => {
    expect((await summary(connectionId, { token: false })).res.status).toBe(401);
    expect((await summary(connectionId, { scope: "ingest" })).res.status).toBe(403);
    const other = await summary(connectionId, { workspaceId: "ws_other" });
    expect(other.res.status).toBe(404);
    expect(other.res.headers.get("content-type")).toContain("application/problem+json");
    expect((await summary("no-such-connection")).res.status).toBe(404);
  });

  it("reports status, activity, counts per direction and outcome, parked work, dead letters, jobs and the sweep", async () => {
    const { res, body } = await summary(connectionId);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(body).toMatchObject({
      connection_id: connectionId,
      status: "connected",
      status_detail: null,
      intercom: { app_id: appId, region: "US" },
      source_enabled: true,
      destination_enabled: true,
      jobs: { resync: null, import: null },
      parked: { users: 2, accounts: 1, capped: false },
      dead_letters: { pending: 1, total: 2, capped: false },
    });
    // The newest inbound row that is not sweep bookkeeping: the skipped event.created, 20 minutes ago.
    expect(Date.now() - Date.parse(body.activity.last_webhook_at)).toBeGreaterThanOrEqual(20 * 60_000 - 5_000);
    expect(Date.now() - Date.parse(body.activity.last_webhook_at)).toBeLessThan(21 * 60_000);
    expect(body.activity.last_capture).toMatchObject({ direction: "in", object_type: "connection", action: "sweep" });
    expect(body.activity.last_sync).toMatchObject({ direction: "out", object_id: "u-3", action: "update" });
    expect(body.activity.last_failure).toMatchObject({ direction: "out", detail: "Intercom answered 400" });
    const byKey = Object.fromEntries(
      body.counts.items.map((item: any) => [`${item.direction}.${item.outcome}`, [item.last_hour, item.last_24h]]),
    );
    expect(byKey).toEqual({
      "in.captured": [2, 3],
      "in.skipped": [1, 1],
      "out.synced": [1, 2],
      "out.failed": [0, 1],
      "out.noop": [2, 2],
      "in.duplicate": [0, 1],
    });
    expect(body.counts.capped_outcomes).toEqual([]);
    // The rows above were inserted directly; only the counters' writes went through the cap's count.
    expect(body.counts.log_rows).toEqual({ today: 0, per_day: 50_000, dropped_last_hour: 0, dropped_last_24h: 0 });
    expect(body.sweep.lag_seconds).toBeGreaterThanOrEqual(900);
    expect(body.sweep.lag_seconds).toBeLessThan(960);
    expect(body.rate_budget).toBeNull(); // nothing called Intercom for this workspace yet
  });

  it("shows the share of the rate budget used in the latest window", async () => {
    const budget = rateBudgetObject(env, appId);
    const resetAt = Date.now() + 10_000;
    for (let i = 0; i < 3; i++) {
      const grant = await budget.reserve();
      await budget.report(grant.window, { limit: 100, remaining: 90 - i, resetAt, limited: false });
    }
    const { body } = await summary(connectionId);
    expect(body.rate_budget).toMatchObject({
      limit: 100,
      remaining: 88,
      window_ends_at: new Date(resetAt).toISOString(),
    });
    expect(body.rate_budget.used_share).toBeCloseTo(0.12);
  });

  it("answers empty figures for a connection without activity", async () => {
    const { res, body } = await summary(quietId);
    expect(res.status).toBe(200);
    expect(body.activity).toEqual({ last_webhook_at: null, last_capture: null, last_sync: null, last_failure: null });
    expect(body.counts.items).toEqual([]);
    expect(body.dead_letters).toEqual({ pending: 0, total: 0, latest_at: null, capped: false });
    expect(body.sweep).toEqual({ swept_until: null, lag_seconds: null, companies_swept_until: null });
  });

  it("caps the rows counted per outcome and says which counts are lower bounds", async () => {
    const reads = await readSummary(env.DB, connectionId, Date.now(), 2);
    expect(reads.cappedOutcomes).toEqual(["captured", "synced"]);
    const captured = reads.counts.find((count) => count.outcome === "captured")!;
    expect(captured.last24h).toBe(2); // the newest two of three
  });

  it("past LOG_ROWS_PER_DAY a connection's rows are counted as dropped, per direction, and the summary says so", async () => {
    const db = database(env.DB);
    const capped = (await seedConnection({ workspaceId: WS })).id;
    const now = Date.now();
    for (let i = 0; i < 5; i++) {
      await db.batch(
        syncLogStatements(
          db,
          {
            connectionId: capped,
            workspaceId: WS,
            direction: i < 3 ? "in" : "out",
            outcome: "captured",
            objectType: "user",
            objectId: `u-${i}`,
          },
          now,
          3,
        ),
      );
    }
    const rows = await env.DB.prepare("SELECT object_id FROM sync_logs WHERE connection_id = ? ORDER BY id")
      .bind(capped)
      .all<{ object_id: string }>();
    expect(rows.results.map((row) => row.object_id)).toEqual(["u-0", "u-1", "u-2"]);
    const reads = await readSummary(env.DB, capped, now);
    expect(reads.rowsToday).toBe(3);
    expect(reads.dropped).toEqual({ lastHour: 2, last24h: 2 });
    const { body } = await summary(capped);
    expect(body.counts.log_rows).toMatchObject({ today: 3, dropped_last_hour: 2, dropped_last_24h: 2 });
  });

  it("reads through indexes only: no statement scans a table", async () => {
    const recorded: Recorded[] = [];
    await readSummary(recordingD1(env.DB, recorded), connectionId);
    const { checked, offenders } = await scanningStatements(recorded);
    // counts, counted outcomes, rows today, last webhook, latest of an outcome, parked, dead letters
    expect(checked).toBe(7);
    expect(offenders).toEqual([]);
  });
});
