import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { database } from "../src/db/client";
import type { Env } from "../src/env";
import { consumeInbound } from "../src/source/consumer";
import { importById, insertQueuedImport } from "../src/source/import/jobs";
import type { ImportPageMessage } from "../src/source/import/messages";
import { importOptions } from "../src/source/import/plan";
import { IMPORT_PAGE_SIZE, IMPORT_STALL_MS, kickStalledImports, runImportPage } from "../src/source/import/run";
import type { InboundMessage } from "../src/source/inbound-message";
import { connectSimWorkspace } from "./helpers/connections";
import { waitFor } from "./helpers/destination";
import { scalar } from "./helpers/imports";
import { journalMark, useIntercomSim } from "./helpers/intercom-sim";

// Source import at the scale (issue 16, "Proof"): 2,000 contacts (users and leads) and 300 companies (six
// scroll pages), contacts in more than one page of companies (`has_more`), one import run page by page through the
// production code with the disturbances of a real run: a page delivered twice, the company scroll expiring mid-phase,
// a 429 on a contacts page, a crash after a page's items were queued but before its cursor was recorded (the cron
// hands the page out again), and webhooks newer than the state the import read. Every INBOUND message the pages
// queue is kept: the whole import is checked message by message (each contact and company once, each membership
// once, in its contact's message); the capture (INBOUND consumer, ~0.1 s a message in the pool) runs for the
// companies and for the page queued twice, where "no item twice" and "newest wins" are decided.

// The simulator's clock runs `skewMs` ahead of ours: a scroll expires when it jumps past a minute. Search pages are
// offsets in the simulator: no index lag, so a page never shifts under the import.
let skewMs = 0;
const sim = useIntercomSim({ now: () => Date.now() + skewMs, config: { search_lag_ms: 0 } });

const CONTACTS = 2_000;
const LEADS = 500;
const COMPANIES = 300;
const SCROLL_PAGE = 50;
/** wrangler.toml: INBOUND's `max_batch_size`. */
const INBOUND_BATCH = 25;
const COMPANY_IDS_FIELD = "import_company_ids";

/** Runs INBOUND messages through the production consumer, in batches of 25 as the queue delivers them. */
async function consume(messages: InboundMessage[]): Promise<void> {
  const outbound = { send: async () => {}, sendBatch: async () => {} };
  const captureEnv = { ...env, OUTBOUND: outbound } as unknown as Env;
  const ctx = { waitUntil: () => {}, passThroughOnException: () => {} } as unknown as ExecutionContext;
  let retried = 0;
  for (let start = 0; start < messages.length; start += INBOUND_BATCH) {
    const batch = messages.slice(start, start + INBOUND_BATCH).map((body, i) => ({
      id: `m${start + i}`,
      timestamp: new Date(),
      body: structuredClone(body),
      attempts: 1,
      ack: () => {},
      retry: () => void retried++,
    }));
    await consumeInbound(
      { queue: "intercom-inbound", messages: batch, ackAll: () => {}, retryAll: () => {} } as unknown as MessageBatch,
      captureEnv,
      ctx,
    );
  }
  expect(retried).toBe(0);
}

const contactIdOf = (message: InboundMessage) => String(message.notification.item.id);
const companyIdsOf = (message: InboundMessage) => (message.notification.item[COMPANY_IDS_FIELD] ?? []) as string[];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("import at scale", () => {
  it("imports 2,000 contacts and 300 companies through a redelivery, an expired scroll, a 429 and a crash", async () => {
    skewMs = 0;
    const { workspace, workspaceId, connection } = await connectSimWorkspace(sim);
    sim.seedWideWorkspace(workspace.app_id, {
      contacts: CONTACTS,
      leads: LEADS,
      companies: COMPANIES,
      attributes: 2,
      seed: 21,
    });
    const state = sim.state(workspace.app_id);
    expect(state.contacts).toHaveLength(CONTACTS);
    const withMore = state.contacts.filter((c: any) => c.companies.has_more);
    expect(withMore.length).toBeGreaterThan(0);
    const contactPages = Math.ceil(CONTACTS / IMPORT_PAGE_SIZE);
    const minimum = COMPANIES / SCROLL_PAGE + contactPages + withMore.length;

    const db = database(env.DB);
    const job = (await insertQueuedImport(db, {
      connectionId: connection.id,
      workspaceId,
      options: importOptions({}),
    }))!;
    // JOBS and INBOUND are this test's: each page runs when the test says, and what it queues is kept.
    const sent: Array<{ body: ImportPageMessage; delaySeconds?: number }> = [];
    let queued: InboundMessage[] = [];
    const pageEnv = {
      ...env,
      JOBS: {
        send: async (body: ImportPageMessage, options?: { delaySeconds?: number }) =>
          void sent.push({ body, ...(options?.delaySeconds ? { delaySeconds: options.delaySeconds } : {}) }),
      },
      INBOUND: {
        send: async (body: InboundMessage) => void queued.push(structuredClone(body)),
        sendBatch: async (batch: Array<{ body: InboundMessage }>) => {
          for (const message of batch) queued.push(structuredClone(message.body));
        },
      },
    } as unknown as Env;
    /** Runs one page; returns what it queued on INBOUND. */
    const run = async (message: ImportPageMessage) => {
      queued = [];
      await runImportPage(pageEnv, message);
      return queued;
    };
    const jobNow = async () => (await importById(db, connection.id, job.id))!;
    const next = () => {
      expect(sent).toHaveLength(1);
      return sent.shift()!;
    };
    const mark = journalMark(sim);
    let message: ImportPageMessage = {
      kind: "import_page",
      job_id: job.id,
      connection_id: connection.id,
      page: 0,
      attempt: 0,
    };

    // Companies, page 1: the scroll starts; its companies are captured. The same page delivered again does nothing.
    const companyMessages: InboundMessage[] = await run(message);
    await consume(companyMessages);
    expect(await run(message)).toEqual([]);
    expect(await jobNow()).toMatchObject({ phase: "companies", page: 1 });
    message = next().body;

    // The scroll expires (unused for over a minute): the phase starts over from a new scroll, the companies
    // captured already are not handed over again.
    skewMs += 61_000;
    expect(await run(message)).toEqual([]);
    const restarted = await jobNow();
    expect(restarted).toMatchObject({ phase: "companies", page: 2, cursor: null });
    expect(restarted.phases[0]).toMatchObject({ done: 0, calls: 2 });
    message = next().body;
    while ((await jobNow()).phase === "companies") {
      const page = await run(message);
      companyMessages.push(...page);
      await consume(page);
      message = next().body;
    }
    expect((await jobNow()).phases[0]).toMatchObject({
      total: COMPANIES,
      done: COMPANIES,
      skipped: SCROLL_PAGE,
      failed: 0,
      calls: 8,
    });
    expect(new Set(companyMessages.map(contactIdOf)).size).toBe(COMPANIES);
    expect(companyMessages).toHaveLength(COMPANIES);

    // Contacts, page by page: page 4 meets a 429, page 7 is recorded and then "lost" in a crash.
    const contactMessages: InboundMessage[] = [];
    let crashed: { first: InboundMessage[]; again: InboundMessage[] } | null = null;
    let contactPage = 0;
    let limited = 0;
    while ((await jobNow()).phase === "contacts") {
      contactPage++;
      const before = await jobNow();
      if (contactPage === 4) {
        // Intercom answers 429: nothing recorded, the page is queued again for after the reset.
        sim.configure({ faults: { rate_limit_rate: 1 } });
        expect(await run(message)).toEqual([]);
        sim.configure({ faults: { rate_limit_rate: 0 } });
        limited++;
        expect(await jobNow()).toMatchObject({ page: before.page, cursor: before.cursor });
        const requeued = next();
        expect(requeued.body).toMatchObject({ page: before.page });
        expect(requeued.delaySeconds).toBeGreaterThanOrEqual(1);
        await sleep(requeued.delaySeconds! * 1000);
        message = requeued.body;
      }
      const page = await run(message);
      if (contactPage === 7) {
        // A crash after the page's items were queued but before its cursor was recorded: the job is as it was, the
        // cron hands the page out again, and the page's items reach INBOUND twice.
        sent.length = 0;
        await env.DB.prepare("UPDATE import_jobs SET page = ?, cursor = ?, phases = ?, updated_at = 0 WHERE id = ?")
          .bind(before.page, before.cursor, JSON.stringify(before.phases), job.id)
          .run();
        expect(await kickStalledImports(pageEnv, Date.now() + IMPORT_STALL_MS)).toBe(1);
        crashed = { first: page, again: await run(next().body) };
      } else contactMessages.push(...page);
      const following = sent.shift();
      if (following) message = following.body;
    }
    const done = await jobNow();
    expect(done.state).toBe("done");
    expect(done.phases[1]).toMatchObject({ total: CONTACTS, done: CONTACTS, failed: 0 });

    // Message by message: every contact once (the crashed page twice), with its companies, every membership once.
    expect(crashed).not.toBeNull();
    const { first, again } = crashed!;
    expect(again.map(contactIdOf)).toEqual(first.map(contactIdOf));
    contactMessages.push(...first);
    const ids = contactMessages.map(contactIdOf);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(new Set(state.contacts.map((c: any) => c.id)));
    expect(contactMessages.every((m) => m.origin === "import")).toBe(true);
    const carried = contactMessages.flatMap((m) => companyIdsOf(m).map((company) => `${contactIdOf(m)}/${company}`));
    expect(new Set(carried).size).toBe(carried.length);
    expect(new Set(carried)).toEqual(new Set(state.attachments.map((a: any) => `${a.contact_id}/${a.company_id}`)));

    // Every call accounted for: the minimum, plus the expired scroll (its 404 and the first page read again), the
    // 429, and the page run again after the crash (its search and its contacts' company lists).
    const journal = sim.journal({ since: mark, app_id: workspace.app_id });
    const ok = (path: RegExp) => journal.filter((entry) => entry.status === 200 && path.test(entry.path));
    expect(journal.filter((entry) => entry.status === 404)).toHaveLength(1);
    expect(journal.filter((entry) => entry.status === 429)).toHaveLength(limited);
    expect(ok(/^\/companies\/scroll$/)).toHaveLength(COMPANIES / SCROLL_PAGE + 1);
    expect(ok(/^\/contacts\/search$/)).toHaveLength(contactPages + 1);
    const listed = ok(/^\/contacts\/[^/]+\/companies$/).map((entry) => entry.path.split("/")[2]!);
    expect(new Set(listed)).toEqual(new Set(withMore.map((c: any) => c.id)));
    const listedAgain = first.filter((m) => withMore.some((c: any) => c.id === contactIdOf(m))).length;
    expect(listed).toHaveLength(withMore.length + listedAgain);
    expect(journal.filter((entry) => entry.status === 200)).toHaveLength(minimum + 1 + 1 + listedAgain);
    // The job counts the calls of the pages it recorded: not the 429, nor the crashed page's first run.
    expect(done.phases.reduce((sum, phase) => sum + phase.calls, 0)).toBe(journal.length - limited - 1 - listedAgain);

    // The crashed page captured: webhooks newer than the state the import read arrive first (newest wins), then
    // both copies of its items, in turn. Each user once, each membership once, nothing written twice.
    const newer = first
      .map((m) => state.contacts.find((c: any) => c.id === contactIdOf(m)) as any)
      .filter((c: any) => c.role === "user" && c.external_id && c.companies.data.length > 0)
      .slice(0, 5);
    expect(newer).toHaveLength(5);
    for (const contact of newer) {
      sim.emit({
        app_id: workspace.app_id,
        topic: "contact.user.updated",
        item: { ...contact, name: "From webhook", updated_at: contact.updated_at + 60 },
      });
    }
    await sim.deliverWebhooks();
    const fromWebhook = () =>
      scalar(
        `SELECT count(*) AS n FROM users WHERE workspace_id = ? AND json_extract(properties, '$.full_name') = 'From webhook'`,
        workspaceId,
      );
    await waitFor(async () => (await fromWebhook()) === newer.length, 30_000, "the webhooks captured");
    await consume(first);
    await consume(again);
    const named = new Set(
      first
        .map((m) => state.contacts.find((c: any) => c.id === contactIdOf(m)))
        .filter((c: any) => (c.role === "user" && c.external_id) || c.email)
        .map((c: any) => c.id),
    );
    expect(await scalar("SELECT count(*) AS n FROM users WHERE workspace_id = ?", workspaceId)).toBe(named.size);
    expect(
      await scalar(
        "SELECT count(*) AS n FROM intercom_links WHERE connection_id = ? AND object_type = 'contact'",
        connection.id,
      ),
    ).toBe(named.size);
    const attachments = state.attachments.filter((a: any) => named.has(a.contact_id)).length;
    expect(await scalar("SELECT count(*) AS n FROM memberships WHERE workspace_id = ?", workspaceId)).toBe(attachments);
    expect(await scalar("SELECT count(*) AS n FROM accounts WHERE workspace_id = ?", workspaceId)).toBe(COMPANIES);
    // Memberships of contacts that name no CDP user wait for it; none waits for a company.
    const unnamed = first.filter((m) => !named.has(contactIdOf(m)));
    expect(await scalar("SELECT count(*) AS n FROM pending_links WHERE connection_id = ?", connection.id)).toBe(
      unnamed.reduce((sum, m) => sum + companyIdsOf(m).length, 0),
    );
    // A user is created at version 0: none was written again, and what the webhooks brought stayed.
    expect(await scalar("SELECT count(*) AS n FROM users WHERE workspace_id = ? AND version > 0", workspaceId)).toBe(0);
    expect(await fromWebhook()).toBe(newer.length);

    // Logged per page, not per item: the pages (the crashed one twice), the scroll restart and the summary, beside
    // the webhooks' rows; the import's items counted, without idempotency keys.
    expect(
      await scalar("SELECT count(*) AS n FROM sync_logs WHERE connection_id = ? AND action = 'import'", connection.id),
    ).toBe(COMPANIES / SCROLL_PAGE + 1 + 1 + contactPages + 1 + 1);
    expect(
      await scalar("SELECT count(*) AS n FROM sync_logs WHERE connection_id = ? AND action <> 'import'", connection.id),
    ).toBe(newer.length);
    expect(
      await scalar(
        "SELECT count(*) AS n FROM processed_notifications WHERE key LIKE ?",
        `${workspace.app_id}:import:%`,
      ),
    ).toBe(0);
  }, 240_000);
});
