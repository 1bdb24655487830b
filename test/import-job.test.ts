import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../src/db/client";
import { rateBudgetObject } from "../src/intercom/rate-budget";
import type { RateState } from "../src/intercom/rate-plan";
import {
  activeImport,
  endImport,
  importById,
  insertQueuedImport,
  latestImport,
  listImports,
  noteWaiting,
  recordPage,
  stalledImports,
} from "../src/source/import/jobs";
import type { ImportPageMessage } from "../src/source/import/messages";
import { afterPage, embeddedCompanyIds, importOptions, plannedPhases } from "../src/source/import/plan";
import { runImportPage } from "../src/source/import/run";
import { intercomRest, settle, waitFor } from "./helpers/destination";
import { adminCall as call, connectImportSource, pageByPage, scalar } from "./helpers/imports";
import { countCalls, journalMark, useIntercomSim } from "./helpers/intercom-sim";
import { fullScans, type Recorded, recordingD1, scanningStatements } from "./helpers/query-plans";

// Source import as a job (README, "Import"): start → progress → done against a seeded simulator workspace (users,
// leads, companies, memberships with `has_more`), calls against the minimum page count, a re-import that changes
// nothing, pages run one by one with a redelivery (no item twice, no gap), a webhook newer than the imported item,
// cancel, 409, 422, and a 401 that waits for a reconnect. The optional parts: test/import-options.test.ts.

// Search pages are offsets in the simulator: a contact re-indexed during paging would shift them, so no lag here.
const sim = useIntercomSim({ config: { search_lag_ms: 0 } });
const connectSource = (source: Record<string, unknown> = {}) => connectImportSource(sim, source);

const linkCount = (connectionId: string, type: "contact" | "company") =>
  scalar("SELECT count(*) AS n FROM intercom_links WHERE connection_id = ? AND object_type = ?", connectionId, type);

const membershipCount = (workspaceId: string) =>
  scalar("SELECT count(*) AS n FROM memberships WHERE workspace_id = ?", workspaceId);

/**
 * Import items the source processed: their outcomes are counted (sync_log_counts), one per message (a contact with
 * its memberships, a company), not logged row by row.
 */
const importOutcomes = (connectionId: string) =>
  scalar(
    `SELECT coalesce(sum(n), 0) AS n FROM sync_log_counts WHERE connection_id = ? AND direction = 'in'
       AND outcome NOT IN ('noop', 'duplicate', 'ignored', 'dropped')`,
    connectionId,
  );

/** The ids of contacts that name a CDP user (a user's external_id, or an email); the others are skipped. */
function identified(contacts: any[]): Set<string> {
  return new Set(contacts.filter((c) => (c.role === "user" && c.external_id) || c.email).map((c) => c.id as string));
}

/** Bulk-lane grants the workspace's RateBudget still holds (the current window's and later ones). */
async function bulkGrants(appId: string): Promise<number> {
  return runInDurableObject(rateBudgetObject(env, appId), (instance) => {
    const state = (instance as unknown as { state: RateState }).state;
    return [...state.bulk.values()].reduce((sum, n) => sum + n, 0);
  });
}

/** Runs an import's pages one at a time in this test: the JOBS sends are kept instead of queued. */
describe("import planning", () => {
  it("runs companies before contacts, and moves to the next phase when a page has no next", () => {
    expect(importOptions({ objects: ["contacts", "companies"] }).objects).toEqual(["companies", "contacts"]);
    expect(importOptions({}).objects).toEqual(["companies", "contacts"]);
    const start = { phase: "companies" as const, cursor: null, phases: plannedPhases(["companies", "contacts"]) };
    const first = afterPage(start, { read: 50, skipped: 1, failed: 0, calls: 1, total: 60, next: "s1" });
    expect(first).toMatchObject({ phase: "companies", cursor: "s1" });
    expect(first.phases[0]).toMatchObject({ total: 60, done: 50, skipped: 1, calls: 1 });
    const second = afterPage(first, { read: 10, skipped: 0, failed: 0, calls: 1, total: 60, next: null });
    expect(second).toMatchObject({ phase: "contacts", cursor: null });
    const end = afterPage(second, { read: 3, skipped: 0, failed: 1, calls: 2, total: 3, next: null });
    expect(end.phase).toBeNull();
    expect(end.phases[1]).toMatchObject({ total: 3, done: 3, failed: 1, calls: 2 });
  });

  it("reads a contact's embedded companies and whether the list has more", () => {
    expect(embeddedCompanyIds({ companies: { data: [{ id: "a" }, { id: "b" }], has_more: true } })).toEqual({
      ids: ["a", "b"],
      hasMore: true,
    });
    expect(embeddedCompanyIds({})).toEqual({ ids: [], hasMore: false });
  });
});

describe("query plans of import jobs", () => {
  it("use an index for every query", async () => {
    const recorded: Recorded[] = [];
    const db = database(recordingD1(env.DB, recorded));
    const { workspaceId, connection } = await connectSource();
    const job = (await insertQueuedImport(db, {
      connectionId: connection.id,
      workspaceId,
      options: importOptions({}),
    }))!;
    await activeImport(db, connection.id);
    await latestImport(db, connection.id);
    await listImports(db, connection.id);
    await importById(db, connection.id, job.id);
    await noteWaiting(db, job.id, "waiting");
    await recordPage(db, job.id, 0, { phase: "contacts", cursor: "c", phases: job.phases });
    await stalledImports(db, Date.now());
    await endImport(db, job.id, "cancelled", "test");
    const { checked, offenders } = await scanningStatements(recorded);
    expect(checked).toBeGreaterThanOrEqual(8);
    expect(offenders).toEqual([]);
    // The check sees import_jobs: active jobs by bound state values would read the whole table.
    expect(await fullScans("SELECT id FROM import_jobs WHERE state IN (?, ?)", ["queued", "running"])).toEqual([
      "SCAN import_jobs",
    ]);
  });
});

describe("import job", () => {
  it("imports companies, users, leads and memberships end to end within 1.05 × the minimum calls", async () => {
    const { workspace, workspaceId, connection } = await connectSource();
    const seeded = sim.seedWideWorkspace(workspace.app_id, {
      contacts: 220,
      leads: 80,
      companies: 60,
      attributes: 8,
      seed: 3,
    });
    const state = sim.state(workspace.app_id);
    const contacts = state.contacts.length;
    expect(contacts).toBe(seeded.users.length + seeded.leads.length);
    // Contacts whose embedded company list is cut (has_more) need one extra call each.
    const withMore = state.contacts.filter((contact: any) => contact.companies.has_more).length;
    expect(withMore).toBeGreaterThan(0);
    const minimum = Math.ceil(60 / 50) + Math.ceil(contacts / 150) + withMore;

    const mark = journalMark(sim);
    const base = `/v1/connections/${connection.id}/imports`;
    const started = await call(workspaceId, "POST", base, {});
    expect(started.status).toBe(202);
    const done = await waitFor(
      async () => {
        const { json } = await call(workspaceId, "GET", `${base}/${started.json.id}`);
        return json.state === "done" ? json : null;
      },
      60_000,
      "the import done",
    );
    expect(done.phases).toEqual([
      { object: "companies", total: 60, done: 60, skipped: 0, failed: 0, calls: 2 },
      { object: "contacts", total: contacts, done: contacts, skipped: 0, failed: 0, calls: expect.any(Number) },
    ]);
    const calls = countCalls(sim, { since: mark });
    expect(calls).toBe(done.phases[0].calls + done.phases[1].calls);
    expect(calls).toBeLessThanOrEqual(Math.floor(1.05 * minimum));
    expect(countCalls(sim, { since: mark, path: "/companies/scroll" })).toBe(2);
    // The import's calls were reserved in the bulk lane of the workspace's rate budget.
    expect(await bulkGrants(workspace.app_id)).toBeGreaterThan(0);
    expect(done.finished_at).not.toBeNull();
    expect(done.eta_seconds).toBeNull();

    // Everything reached the graph through the source consumer: every company, every contact (with its
    // memberships, one message each), and no idempotency key for any of them.
    await waitFor(
      async () => (await importOutcomes(connection.id)) >= contacts + 60,
      60_000,
      `${contacts} contacts and 60 companies processed`,
    );
    expect(
      await scalar("SELECT count(*) AS n FROM processed_notifications WHERE key LIKE ?", `${workspace.app_id}:%`),
    ).toBe(0);
    expect(await linkCount(connection.id, "company")).toBe(60);
    const named = identified(state.contacts);
    expect(await linkCount(connection.id, "contact")).toBe(named.size);
    // Memberships of contacts that name no CDP user wait in pending_links.
    const attachments = state.attachments.filter((a: any) => named.has(a.contact_id)).length;
    await waitFor(async () => (await membershipCount(workspaceId)) === attachments, 30_000, "every membership");
    expect(await scalar("SELECT count(*) AS n FROM accounts WHERE workspace_id = ?", workspaceId)).toBe(60);

    // One sync-log row per page plus the start and the final summary.
    const rows = await env.DB.prepare(
      "SELECT outcome, detail FROM sync_logs WHERE connection_id = ? AND action = 'import' ORDER BY id",
    )
      .bind(connection.id)
      .all<{ outcome: string; detail: string }>();
    const pages = 2 + Math.ceil(contacts / 150);
    expect(rows.results).toHaveLength(1 + pages + 1);
    expect(rows.results.at(-1)!.detail).toMatch(/^import done: companies: 60 read of 60/);

    // The list shows it; a re-import reads everything again and changes nothing.
    const listed = await call(workspaceId, "GET", base);
    expect(listed.json.items.map((item: any) => item.id)).toEqual([started.json.id]);
    const writes = await scalar("SELECT max(version) AS n FROM users WHERE workspace_id = ?", workspaceId);
    const outcomesBefore = await importOutcomes(connection.id);
    const again = await call(workspaceId, "POST", base, { objects: ["contacts"] });
    expect(again.status).toBe(202);
    const second = await waitFor(
      async () => {
        const { json } = await call(workspaceId, "GET", `${base}/${again.json.id}`);
        return json.state === "done" ? json : null;
      },
      60_000,
      "the re-import done",
    );
    expect(second.phases).toEqual([
      // Contacts naming no CDP user have no link: they are handed over again (and skipped again).
      {
        object: "contacts",
        total: contacts,
        done: contacts,
        skipped: named.size,
        failed: 0,
        calls: expect.any(Number),
      },
    ]);
    // Handed over again: the unlinked contacts, and the linked ones for their memberships (echoes, no write).
    const linkedWithCompanies = state.contacts.filter(
      (c: any) => named.has(c.id) && c.companies.data.length > 0,
    ).length;
    await waitFor(
      async () =>
        (await importOutcomes(connection.id)) >= outcomesBefore + (contacts - named.size) + linkedWithCompanies,
      60_000,
      "the re-import's items processed",
    );
    expect(await scalar("SELECT max(version) AS n FROM users WHERE workspace_id = ?", workspaceId)).toBe(writes);
    expect(await membershipCount(workspaceId)).toBe(attachments);

    // The summary shows the latest import.
    const summary = await call(workspaceId, "GET", `/v1/connections/${connection.id}/summary`);
    expect(summary.json.jobs.import).toMatchObject({ id: again.json.id, status: "done", done: contacts });
  }, 240_000);

  it("runs page by page: a page delivered twice is recorded once, and nothing is missed", async () => {
    const { workspace, workspaceId, connection } = await connectSource();
    sim.seedWideWorkspace(workspace.app_id, { contacts: 250, leads: 70, companies: 0, attributes: 4, seed: 5 });
    const contacts = sim.state(workspace.app_id).contacts.length;
    const db = database(env.DB);
    const job = (await insertQueuedImport(db, {
      connectionId: connection.id,
      workspaceId,
      options: importOptions({ objects: ["contacts"] }),
    }))!;
    const runner = pageByPage();
    let message: ImportPageMessage = {
      kind: "import_page",
      job_id: job.id,
      connection_id: connection.id,
      page: 0,
      attempt: 0,
    };
    const mark = journalMark(sim);
    await runImportPage(runner.env, message);
    // The cursor is recorded after the page: a restart continues from it.
    const afterFirst = (await importById(db, connection.id, job.id))!;
    expect(afterFirst).toMatchObject({ state: "running", page: 1, phase: "contacts" });
    expect(afterFirst.cursor).not.toBeNull();
    expect(afterFirst.phases[0]).toMatchObject({ done: 150, total: contacts });
    // The same page again (a redelivery after a crash) does nothing: no call, no count.
    await runImportPage(runner.env, message);
    expect(countCalls(sim, { since: mark })).toBe(1);
    expect(runner.sent).toHaveLength(1);
    while (runner.sent.length > 0) {
      message = runner.sent.shift()!;
      await runImportPage(runner.env, message);
    }
    const ended = (await importById(db, connection.id, job.id))!;
    expect(ended).toMatchObject({ state: "done", page: Math.ceil(contacts / 150), phase: null });
    expect(ended.phases[0]).toMatchObject({ total: contacts, done: contacts, skipped: 0, failed: 0 });
    // Each contact was handed to the source once: one outcome per contact, each user written once.
    await waitFor(
      async () => (await importOutcomes(connection.id)) === contacts,
      60_000,
      `${contacts} contacts processed`,
    );
    // A user is created at version 0; a second capture of the same state would bump it.
    expect(await scalar("SELECT max(version) AS n FROM users WHERE workspace_id = ?", workspaceId)).toBe(0);
    expect(await linkCount(connection.id, "contact")).toBe(identified(sim.state(workspace.app_id).contacts).size);
  }, 180_000);

  it("with since, reads only the contacts updated since then", async () => {
    const { workspace, workspaceId, connection } = await connectSource();
    sim.seedWideWorkspace(workspace.app_id, { contacts: 30, leads: 5, companies: 0, attributes: 2, seed: 13 });
    const since = Math.floor(Date.now() / 1000) - 60;
    for (const id of ["fresh-1", "fresh-2"]) await intercomRest(workspace, "POST", "/contacts", { external_id: id });
    sim.takeWebhooks();
    const db = database(env.DB);
    const job = (await insertQueuedImport(db, {
      connectionId: connection.id,
      workspaceId,
      options: importOptions({ objects: ["contacts"], since }),
    }))!;
    await runImportPage(pageByPage().env, {
      kind: "import_page",
      job_id: job.id,
      connection_id: connection.id,
      page: 0,
      attempt: 0,
    });
    expect((await importById(db, connection.id, job.id))!).toMatchObject({
      state: "done",
      phases: [{ object: "contacts", total: 2, done: 2, skipped: 0, failed: 0, calls: 1 }],
    });
  });

  it("keeps what a newer webhook brought: an older imported state changes nothing", async () => {
    const { workspace, workspaceId, connection } = await connectSource();
    const created = await intercomRest(workspace, "POST", "/contacts", { external_id: "u-1", name: "Imported" });
    sim.takeWebhooks();
    // A webhook of a later state (a minute on) arrives before the import reads the contact.
    sim.emit({
      app_id: workspace.app_id,
      topic: "contact.user.updated",
      item: { ...created.json, name: "From webhook", updated_at: created.json.updated_at + 60 },
    });
    await sim.deliverWebhooks();
    const name = async () =>
      (
        await env.DB.prepare(
          "SELECT json_extract(properties, '$.full_name') AS name FROM users WHERE user_id = 'u-1' AND workspace_id = ?",
        )
          .bind(workspaceId)
          .first<{ name: string | null }>()
      )?.name ?? null;
    await waitFor(async () => (await name()) === "From webhook", 15_000, "the webhook captured");

    const db = database(env.DB);
    const job = (await insertQueuedImport(db, {
      connectionId: connection.id,
      workspaceId,
      options: importOptions({ objects: ["contacts"] }),
    }))!;
    await runImportPage(pageByPage().env, {
      kind: "import_page",
      job_id: job.id,
      connection_id: connection.id,
      page: 0,
      attempt: 0,
    });
    expect((await importById(db, connection.id, job.id))!.phases[0]).toMatchObject({ done: 1, skipped: 1 });
    await settle();
    expect(await name()).toBe("From webhook");
  });

  it("answers 409 with the running import, 422 for bad input, and cancels", async () => {
    const { workspace, workspaceId, connection } = await connectSource();
    const base = `/v1/connections/${connection.id}/imports`;
    // The optional parts are taken (test/import-options.test.ts); a window without its flag is not.
    const refusedPart = await call(workspaceId, "POST", base, { conversations_since: new Date().toISOString() });
    expect(refusedPart.status).toBe(422);
    expect(refusedPart.json.errors).toEqual([
      { path: "conversations_since", message: "only with include_conversations: true" },
    ]);
    expect((await call(workspaceId, "POST", base, { objects: ["tickets"] })).status).toBe(422);

    const db = database(env.DB);
    // An import still queued (its page message not run yet): a second start is refused, with that import.
    const job = (await insertQueuedImport(db, {
      connectionId: connection.id,
      workspaceId,
      options: importOptions({}),
    }))!;
    const refused = await call(workspaceId, "POST", base, {});
    expect(refused.status).toBe(409);
    expect(refused.type).toContain("application/problem+json");
    expect(refused.json).toMatchObject({ status: 409, job: { id: job.id, state: "queued" } });

    const cancelled = await call(workspaceId, "DELETE", `${base}/${job.id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.json).toMatchObject({ id: job.id, state: "cancelled", detail: "cancelled by an admin" });
    expect((await call(workspaceId, "DELETE", `${base}/${job.id}`)).status).toBe(409);
    expect((await call(workspaceId, "GET", `${base}/nope`)).status).toBe(404);
    // Its page, arriving after the cancel, reads nothing.
    const mark = journalMark(sim);
    await runImportPage(pageByPage().env, {
      kind: "import_page",
      job_id: job.id,
      connection_id: connection.id,
      page: 0,
      attempt: 0,
    });
    expect(countCalls(sim, { since: mark, app_id: workspace.app_id })).toBe(0);
  });

  it("starts by itself the first time the source is on, unless source.import_on_enable is off", async () => {
    const workspace = sim.createWorkspace();
    sim.seedWideWorkspace(workspace.app_id, { contacts: 5, leads: 1, companies: 2, attributes: 2, seed: 11 });
    const workspaceId = `ws_${crypto.randomUUID().slice(0, 8)}`;
    const connected = await call(workspaceId, "POST", "/v1/connections", {
      name: "Auto",
      access_token: workspace.token,
    });
    expect(connected.status).toBe(201);
    const base = `/v1/connections/${connected.json.id}/imports`;
    const auto = await waitFor(
      async () => {
        const [item] = (await call(workspaceId, "GET", base)).json.items;
        return item?.state === "done" ? item : null;
      },
      30_000,
      "the automatic import done",
    );
    expect(auto.phases.map((phase: any) => [phase.object, phase.done])).toEqual([
      ["companies", 2],
      ["contacts", sim.state(workspace.app_id).contacts.length],
    ]);
    // Turning the source off and on again does not import again: only the first time does.
    for (const enabled of [false, true]) {
      const patched = await call(workspaceId, "PATCH", `/v1/connections/${connected.json.id}`, { source: { enabled } });
      expect(patched.status).toBe(200);
    }
    expect((await call(workspaceId, "GET", base)).json.items).toHaveLength(1);

    // With the setting off, turning the source on starts nothing.
    const { workspaceId: other, connection } = await connectSource({ enabled: false, import_on_enable: false });
    const patched = await call(other, "PATCH", `/v1/connections/${connection.id}`, { source: { enabled: true } });
    expect(patched.json.source).toMatchObject({ enabled: true, import_on_enable: false });
    expect((await call(other, "GET", `/v1/connections/${connection.id}/imports`)).json.items).toEqual([]);
  });

  it("waits on a 401 and continues from the same page after a reconnect", async () => {
    const { workspace, workspaceId, connection } = await connectSource();
    sim.seedWideWorkspace(workspace.app_id, { contacts: 20, leads: 0, companies: 0, attributes: 2, seed: 7 });
    const db = database(env.DB);
    const job = (await insertQueuedImport(db, {
      connectionId: connection.id,
      workspaceId,
      options: importOptions({ objects: ["contacts"] }),
    }))!;
    sim.revokeTokens(workspace.app_id);
    const runner = pageByPage();
    const first: ImportPageMessage = {
      kind: "import_page",
      job_id: job.id,
      connection_id: connection.id,
      page: 0,
      attempt: 0,
    };
    await runImportPage(runner.env, first);
    const waiting = (await importById(db, connection.id, job.id))!;
    expect(waiting).toMatchObject({ state: "queued", page: 0 });
    expect(waiting.detail).toMatch(/^waiting for a reconnect/);
    expect(runner.sent).toHaveLength(0);
    const status = await env.DB.prepare("SELECT status FROM connections WHERE id = ?")
      .bind(connection.id)
      .first<{ status: string }>();
    expect(status!.status).toBe("revoked");

    // A reconnect (a new token for the same Intercom workspace) hands the import its page again.
    const token = sim.issueToken(workspace.app_id);
    const reconnected = await call(workspaceId, "POST", "/v1/connections", { name: "Again", access_token: token });
    expect(reconnected.status).toBe(200);
    const resumed = await waitFor(
      async () => {
        const row = await importById(db, connection.id, job.id);
        return row?.state === "done" ? row : null;
      },
      30_000,
      "the import resumed and done",
    );
    expect(resumed.phases[0]).toMatchObject({ object: "contacts", total: 20, done: 20, failed: 0, calls: 1 });
  });
});
