import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { database } from "../src/db/client";
import { resyncJobs } from "../src/db/schema";
import { contactSyncObject } from "../src/destination/contact-sync";
import { identifyUser } from "../src/destination/ingest";
import { syncObjectName } from "../src/destination/outbound-message";
import {
  handOverResyncUsers,
  RESYNC_GIVE_UP_MS,
  RESYNC_STALL_MS,
  resumeStalledResyncs,
  runResyncPage,
} from "../src/destination/resync";
import { etaSeconds, insertRunningJob, jobById } from "../src/destination/resync-jobs";
import { rateBudgetObject } from "../src/intercom/rate-budget";
import { initialRateState, type RateState, reserve } from "../src/intercom/rate-plan";
import { authHeaders } from "./helpers/auth";
import { connectDestination, settle, waitFor } from "./helpers/destination";
import { countCalls, journalMark, useIntercomSim } from "./helpers/intercom-sim";

// Resync as a job (README, "Resync"): start → progress → done with counts against the simulator, one running job per
// connection (409, restart), cancel, a page redelivered after a restart, the summary's progress, and the bulk share
// of the rate budget.

const sim = useIntercomSim({ config: { search_lag_ms: 0 } });

async function call(workspaceId: string, method: string, path: string) {
  const response = await exports.default.fetch(`https://connector.test${path}`, {
    method,
    headers: await authHeaders({ workspaceId, scope: "admin" }),
  });
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    json: (await response.json()) as any,
  };
}

async function setDestination(connectionId: string, enabled: boolean) {
  await env.DB.prepare(
    `UPDATE connections SET destination = json_set(destination, '$.enabled', json('${enabled}')) WHERE id = ?`,
  )
    .bind(connectionId)
    .run();
}

/** Bulk-lane grants the workspace's RateBudget still holds (the current window's and later ones). */
async function bulkGrants(appId: string): Promise<number> {
  return runInDurableObject(rateBudgetObject(env, appId), (instance) => {
    const state = (instance as unknown as { state: RateState }).state;
    return [...state.bulk.values()].reduce((sum, n) => sum + n, 0);
  });
}

async function userPk(workspaceId: string, userId: string): Promise<number> {
  const row = await env.DB.prepare("SELECT pk FROM users WHERE workspace_id = ? AND user_id = ?")
    .bind(workspaceId, userId)
    .first<{ pk: number }>();
  return row!.pk;
}

describe("resync job", () => {
  it("runs start → progress → done, counting synced and noop users against the simulator", async () => {
    const { workspace, workspaceId, connection } = await connectDestination(sim, { segments: ["beta"] });
    // Three users Intercom already holds (synced now), then four it lacks (written while the destination is off),
    // and one outside the segment filter.
    for (let i = 0; i < 3; i++) await identifyUser(env, workspaceId, { user_id: `old-${i}`, segments: ["beta"] });
    await waitFor(() => sim.state(workspace.app_id).contacts.length === 3, 15_000, "3 contacts");
    await settle();
    await setDestination(connection.id, false);
    for (let i = 0; i < 4; i++) await identifyUser(env, workspaceId, { user_id: `new-${i}`, segments: ["beta"] });
    await identifyUser(env, workspaceId, { user_id: "outside", segments: ["other"] });
    await settle();
    await setDestination(connection.id, true);
    // Real-time syncs spend the real-time lane only.
    expect(await bulkGrants(workspace.app_id)).toBe(0);

    const base = `/v1/connections/${connection.id}/resync`;
    expect((await call(workspaceId, "GET", base)).status).toBe(404);
    const started = await call(workspaceId, "POST", base);
    expect(started.status).toBe(202);
    expect(started.json).toMatchObject({ state: "running", total: 7, finished_at: null, connection_id: connection.id });

    const done = await waitFor(
      async () => {
        const { json } = await call(workspaceId, "GET", base);
        return json.state === "done" ? json : null;
      },
      20_000,
      "the job done",
    );
    expect(done).toMatchObject({
      id: started.json.id,
      state: "done",
      total: 7,
      queued: 7,
      synced: 4,
      noop: 3,
      skipped: 0,
      failed: 0,
      paged_all: true,
      eta_seconds: null,
    });
    expect(done.finished_at).not.toBeNull();
    expect(sim.state(workspace.app_id).contacts).toHaveLength(7);
    // The resync's calls were reserved in the bulk lane.
    expect(await bulkGrants(workspace.app_id)).toBeGreaterThan(0);

    // The summary shows the latest job's progress.
    const summary = await call(workspaceId, "GET", `/v1/connections/${connection.id}/summary`);
    expect(summary.json.jobs.resync).toMatchObject({ id: done.id, status: "done", done: 7, total: 7, phase: null });

    // A finished job does not block the next start.
    const again = await call(workspaceId, "POST", base);
    expect(again.status).toBe(202);
    expect(again.json.id).not.toBe(done.id);
    await waitFor(
      async () => (await call(workspaceId, "GET", base)).json.state === "done",
      20_000,
      "the second job done",
    );
    expect((await call(workspaceId, "GET", base)).json).toMatchObject({ synced: 0, noop: 7, queued: 7 });
  });

  it("answers 409 with the running job on a second start, and restarts it with ?restart=true", async () => {
    const { workspaceId, connection } = await connectDestination(sim);
    const db = database(env.DB);
    // A job still running (its page message long gone): the start is refused, with that job.
    const running = (await insertRunningJob(db, { connectionId: connection.id, workspaceId, total: 10 }))!;
    expect(await insertRunningJob(db, { connectionId: connection.id, workspaceId, total: 1 })).toBeNull();
    const base = `/v1/connections/${connection.id}/resync`;
    const refused = await call(workspaceId, "POST", base);
    expect(refused.status).toBe(409);
    expect(refused.type).toContain("application/problem+json");
    expect(refused.json).toMatchObject({ status: 409, job: { id: running.id, state: "running", total: 10 } });

    const restarted = await call(workspaceId, "POST", `${base}?restart=true`);
    expect(restarted.status).toBe(202);
    expect(restarted.json.id).not.toBe(running.id);
    expect(await jobById(db, running.id)).toMatchObject({ state: "cancelled", detail: "restarted" });
    await waitFor(async () => (await call(workspaceId, "GET", base)).json.state === "done", 20_000, "done");
    expect((await call(workspaceId, "GET", base)).json).toMatchObject({ id: restarted.json.id, total: 0, queued: 0 });
  });

  it("cancels: paging stops and users not yet handed over are dropped", async () => {
    const { workspace, workspaceId, connection } = await connectDestination(sim);
    await setDestination(connection.id, false);
    await identifyUser(env, workspaceId, { user_id: "c-1" });
    await identifyUser(env, workspaceId, { user_id: "c-2" });
    await setDestination(connection.id, true);
    const db = database(env.DB);
    const job = (await insertRunningJob(db, { connectionId: connection.id, workspaceId, total: 2 }))!;
    const base = `/v1/connections/${connection.id}/resync`;

    const cancelled = await call(workspaceId, "DELETE", base);
    expect(cancelled.status).toBe(200);
    expect(cancelled.json).toMatchObject({ id: job.id, state: "cancelled", detail: "cancelled by an admin" });
    expect(cancelled.json.finished_at).not.toBeNull();
    expect((await call(workspaceId, "DELETE", base)).status).toBe(404);

    // Its page and its queued users arrive after the cancel: nothing is queued, nothing reaches Intercom.
    const mark = journalMark(sim);
    await runResyncPage(env, { kind: "resync_page", job_id: job.id, connection_id: connection.id, after_pk: 0 });
    const pk = await userPk(workspaceId, "c-1");
    await handOverResyncUsers(env, [
      {
        kind: "resync_users",
        job_id: job.id,
        connection_id: connection.id,
        workspace_id: workspaceId,
        local_pks: [pk],
      },
    ]);
    await settle();
    expect(await jobById(db, job.id)).toMatchObject({ state: "cancelled", queued: 0, afterPk: 0 });
    const pending = await contactSyncObject(
      env,
      syncObjectName({ connection_id: connection.id, kind: "user", local_pk: pk }),
    ).pending();
    expect(pending.dirty).toBe(false);
    expect(countCalls(sim, { since: mark })).toBe(0);
    expect(sim.state(workspace.app_id).contacts).toHaveLength(0);
  });

  it("continues from the persisted cursor after a restart, and counts a user handed over twice once", async () => {
    const { workspace, workspaceId, connection } = await connectDestination(sim);
    await setDestination(connection.id, false);
    for (let i = 0; i < 5; i++) await identifyUser(env, workspaceId, { user_id: `r-${i}` });
    await setDestination(connection.id, true);
    const pks = await Promise.all([0, 1, 2, 3, 4].map((i) => userPk(workspaceId, `r-${i}`)));
    const db = database(env.DB);
    const job = (await insertRunningJob(db, { connectionId: connection.id, workspaceId, total: 5 }))!;
    // Before the "restart", the first two users were handed over and their page recorded (cursor after them).
    await handOverResyncUsers(env, [
      {
        kind: "resync_users",
        job_id: job.id,
        connection_id: connection.id,
        workspace_id: workspaceId,
        local_pks: pks.slice(0, 2),
      },
    ]);
    await db.update(resyncJobs).set({ afterPk: pks[1]!, queued: 2 }).where(eq(resyncJobs.id, job.id));
    await waitFor(async () => (await jobById(db, job.id))!.synced === 2, 15_000, "2 counted");

    // A stale copy of the first page (the cursor moved on since) does nothing.
    await runResyncPage(env, { kind: "resync_page", job_id: job.id, connection_id: connection.id, after_pk: 0 });
    expect(await jobById(db, job.id)).toMatchObject({ queued: 2, afterPk: pks[1] });

    // The page the restart redelivers continues after the cursor: only the last three users are queued.
    await runResyncPage(env, {
      kind: "resync_page",
      job_id: job.id,
      connection_id: connection.id,
      after_pk: pks[1]!,
    });
    expect(await jobById(db, job.id)).toMatchObject({ queued: 5, afterPk: pks[4], pagedAll: true });
    // A user handed over twice by the same job (its first outcome already in) counts once.
    await handOverResyncUsers(env, [
      {
        kind: "resync_users",
        job_id: job.id,
        connection_id: connection.id,
        workspace_id: workspaceId,
        local_pks: [pks[0]!],
      },
    ]);
    const done = await waitFor(
      async () => {
        const row = await jobById(db, job.id);
        return row?.state === "done" ? row : null;
      },
      20_000,
      "the job done",
    );
    await settle();
    expect(await jobById(db, job.id)).toMatchObject({ state: "done", queued: 5, synced: 5, noop: 0, failed: 0 });
    expect(done.finishedAt).not.toBeNull();
    expect(sim.state(workspace.app_id).contacts).toHaveLength(5);
  });

  it("re-sends the page of a stalled job from its cursor (the cron), and ends one whose outcomes never came", async () => {
    const { workspace, workspaceId, connection } = await connectDestination(sim);
    await setDestination(connection.id, false);
    for (let i = 0; i < 3; i++) await identifyUser(env, workspaceId, { user_id: `s-${i}` });
    await setDestination(connection.id, true);
    const db = database(env.DB);
    const now = Date.now();
    // Its page message was lost (dead-lettered) 20 minutes ago, before anything was queued.
    const stalled = (await insertRunningJob(
      db,
      { connectionId: connection.id, workspaceId, total: 3 },
      now - 20 * 60_000,
    ))!;
    const other = await connectDestination(sim);
    // All pages queued 7 hours ago; one user's outcome never came.
    const lost = (await insertRunningJob(
      db,
      { connectionId: other.connection.id, workspaceId: other.workspaceId, total: 2 },
      now - RESYNC_GIVE_UP_MS - 3_600_000,
    ))!;
    await db.update(resyncJobs).set({ queued: 2, synced: 1, pagedAll: true }).where(eq(resyncJobs.id, lost.id));

    expect(await resumeStalledResyncs(env, now)).toEqual({ resumed: 1, ended: 1 });
    expect(await jobById(db, lost.id)).toMatchObject({ state: "failed", detail: "1 users never reported an outcome" });
    // Progress was marked: the next run within RESYNC_STALL_MS sends nothing again.
    expect(await resumeStalledResyncs(env, now + RESYNC_STALL_MS / 2)).toEqual({ resumed: 0, ended: 0 });
    const done = await waitFor(
      async () => {
        const row = await jobById(db, stalled.id);
        return row?.state === "done" ? row : null;
      },
      20_000,
      "the resumed job done",
    );
    expect(done).toMatchObject({ queued: 3, synced: 3 });
    expect(sim.state(workspace.app_id).contacts).toHaveLength(3);
  });

  it("pages a workspace larger than one page within the platform limits", { timeout: 150_000 }, async () => {
    // 520 users Intercom does not have and may not create: two pages (500 + 20), each user counted as skipped.
    const { workspaceId, connection } = await connectDestination(sim, { allow_create: false });
    const now = Date.now();
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 520)
       INSERT INTO users (workspace_id, user_id, created_at, updated_at) SELECT ?, 'bulk-' || i, ?, ? FROM n`,
    )
      .bind(workspaceId, now, now)
      .run();
    const base = `/v1/connections/${connection.id}/resync`;
    const started = await call(workspaceId, "POST", base);
    expect(started.json).toMatchObject({ state: "running", total: 520 });
    const done = await waitFor(
      async () => {
        const { json } = await call(workspaceId, "GET", base);
        return json.state === "done" ? json : null;
      },
      140_000,
      "the large job done",
    );
    expect(done).toMatchObject({ total: 520, queued: 520, skipped: 520, synced: 0, failed: 0, paged_all: true });
    const { results } = await env.DB.prepare(
      "SELECT detail FROM sync_logs WHERE connection_id = ? AND action = 'resync' ORDER BY id",
    )
      .bind(connection.id)
      .all<{ detail: string }>();
    expect(results.map((row) => row.detail.replace(/#\d+/, "#n"))).toEqual([
      "resync started: 520 users pass the segment filter",
      "resync queued 500 users up to #n",
      "resync queued 20 users; all users queued",
    ]);
  });

  it("computes the ETA from the rate so far", () => {
    const now = 1_000_000;
    const job = {
      id: "j",
      connectionId: "c",
      workspaceId: "w",
      state: "running" as const,
      total: 100,
      queued: 60,
      synced: 10,
      noop: 10,
      skipped: 0,
      failed: 0,
      afterPk: 60,
      pagedAll: false,
      detail: null,
      startedAt: now - 20_000,
      finishedAt: null,
      updatedAt: now,
    };
    // 20 outcomes in 20 s: 80 left at 1 per second.
    expect(etaSeconds(job, now)).toBe(80);
    expect(etaSeconds({ ...job, synced: 0, noop: 0 }, now)).toBeNull();
    expect(etaSeconds({ ...job, state: "done" }, now)).toBeNull();
  });
});

describe("bulk share of the rate budget", () => {
  /** A budget of 10 calls per 10 s window whose current window (ending at 10 s) is spent. */
  function spentWindow(): RateState {
    return {
      ...initialRateState(),
      limit: 10,
      windowEnd: 10_000,
      windowMs: 10_000,
      lastReset: 10_000,
      serverRemaining: 0,
    };
  }

  const windowsOf = (state: RateState, lane: "bulk" | "realtime", calls: number, share: number) => {
    const windows = new Map<number, number>();
    for (let i = 0; i < calls; i++) {
      const { window } = reserve(state, 1_000, lane, share);
      windows.set(window, (windows.get(window) ?? 0) + 1);
    }
    return Object.fromEntries(windows);
  };

  it("lets bulk calls take the whole window while no real-time call waits", () => {
    expect(windowsOf(spentWindow(), "bulk", 12, 0.5)).toEqual({ 20000: 10, 30000: 2 });
  });

  it("caps bulk calls at the share of each window while real-time calls are recent", () => {
    const state = spentWindow();
    // A real-time call finds the current window spent: it books a slot of the next one.
    expect(reserve(state, 1_000, "realtime", 0.5).window).toBe(20_000);
    // Bulk calls book at most half of the next window (5 of 10), and the rest are sent to ask again later (booking
    // nothing), at most half of each window's each time.
    expect(windowsOf(state, "bulk", 12, 0.5)).toEqual({ 20000: 5, 30000: 5, 40000: 2 });
    expect([...state.future]).toEqual([[20_000, 6]]);
    // Real-time calls still find room in the window they wait for.
    expect(windowsOf(state, "realtime", 4, 0.5)).toEqual({ 20000: 4 });
  });

  it("gives bulk calls the whole window with a share of 1", () => {
    const state = spentWindow();
    reserve(state, 1_000, "realtime", 1);
    expect(windowsOf(state, "bulk", 9, 1)).toEqual({ 20000: 9 });
  });
});
