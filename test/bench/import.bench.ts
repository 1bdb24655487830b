/**
 * The source import's cost (issue 16, "Cheap"): Intercom calls against the minimum page count, D1 rows written per
 * imported contact, D1 statements and round trips per contact and per page, and wall time against the rate-limit
 * lower bound.
 *
 * Workload: the Intercom simulator seeded with a wide workspace (`seedWideWorkspace`: 100 custom attributes per
 * model, users and leads, companies, contacts in 1–3 companies and a few in 12, whose embedded list says `has_more`).
 * The import runs through the production code: `startImport`, then `runImportPage` for every JOBS message it queues
 * (one Intercom page each, the bulk lane of the rate budget), and every INBOUND message those pages produce goes
 * through `consumeInbound` (the INBOUND consumer: validation, connection lookup, `processNotification`) in batches of
 * 25 (wrangler.toml's `max_batch_size`), right after the page that produced it, as the queue would deliver them.
 * Two counting D1 bindings (counting-d1.ts) tell the pages' own statements from the capture's.
 */
import { env } from "cloudflare:workers";
import { it } from "vitest";
import { findConnectionById } from "../../src/connections/repository";
import { database } from "../../src/db/client";
import type { Env } from "../../src/env";
import { messageBytes } from "../../src/lib/queue-batches";
import { IMPORT_COMPANIES_FIELD } from "../../src/source/capture/import-memberships";
import { consumeInbound } from "../../src/source/consumer";
import { importById } from "../../src/source/import/jobs";
import type { ImportPageMessage } from "../../src/source/import/messages";
import { importOptions } from "../../src/source/import/plan";
import { IMPORT_PAGE_SIZE, runImportPage, startImport } from "../../src/source/import/run";
import type { InboundMessage } from "../../src/source/inbound-message";
import { seedConnection } from "../helpers/connections";
import { journalMark, useIntercomSim } from "../helpers/intercom-sim";
import { D1Counter, type D1Totals, type StatementCount } from "./counting-d1";
import { type BenchRow, goalRow, progress, record, round, SMOKE, size } from "./support";

// Search pages are offsets in the simulator: no index lag, so a page never shifts under the import.
const sim = useIntercomSim({ config: { search_lag_ms: 0 } });

/** Run A: the whole import, every INBOUND message captured (the capture takes ~0.1 s per message in the pool). */
const CAPTURED = { contacts: size(1_000, 120), companies: size(150, 60) };
/** Run B: the import pages alone, at a size whose capture would not fit the pool's time. */
const PAGES_ONLY = { contacts: size(10_000, 400), companies: size(600, 120) };
const ATTRIBUTES = 100;
/**
 * Run C (`npm run bench -- import-100k`): the bench size, every page; captured: a sample of contact pages
 * (one in `SAMPLE_EVERY`) and the companies they name. Fewer custom attributes, so the simulator's 100,000
 * contacts fit the isolate's memory.
 */
const HUNDRED_K = { contacts: size(100_000, 600), companies: size(5_000, 120), attributes: 10, sampleEvery: 67 };
const RUN_100K = env.BENCH_IMPORT_100K === "1" || env.BENCH_IMPORT_100K === "full";
/** `npm run bench -- import-100k-full`: every INBOUND message of the 100,000-contact import captured, no sample. */
const FULL_100K = env.BENCH_IMPORT_100K === "full";
/** Intercom's scroll page (companies) and the import's search page (contacts). */
const SCROLL_PAGE = 50;
/** Intercom's default rate limit per app: 10,000 calls per minute (the simulator's 1,666 per 10 s). */
const RATE_LIMIT_PER_SECOND = 10_000 / 60;
/** wrangler.toml: INBOUND's `max_batch_size`. */
const INBOUND_BATCH = 25;

type Kind = "company" | "contact" | "membership";

function kindOf(message: InboundMessage): Kind {
  const topic = message.notification.topic;
  if (topic.startsWith("company.contact.")) return "membership";
  return topic.startsWith("company.") ? "company" : "contact";
}

function delta(before: D1Totals, after: D1Totals): D1Totals {
  return {
    statements: after.statements - before.statements,
    roundTrips: after.roundTrips - before.roundTrips,
    rowsRead: after.rowsRead - before.rowsRead,
    rowsWritten: after.rowsWritten - before.rowsWritten,
    sizeAfter: after.sizeAfter - before.sizeAfter,
  };
}

function add(into: D1Totals, more: D1Totals): void {
  into.statements += more.statements;
  into.roundTrips += more.roundTrips;
  into.rowsRead += more.rowsRead;
  into.rowsWritten += more.rowsWritten;
  into.sizeAfter += more.sizeAfter;
}

const zero = (): D1Totals => ({ statements: 0, roundTrips: 0, rowsRead: 0, rowsWritten: 0, sizeAfter: 0 });

/** The table a write statement writes (INSERT INTO / UPDATE / DELETE FROM), else "(read)". */
function tableOf(sql: string): string {
  const match = /^\s*(?:insert\s+(?:or\s+\w+\s+)?into|update|delete\s+from)\s+["`]?(\w+)/i.exec(sql);
  return match ? match[1]! : "(read)";
}

function statementRows(list: StatementCount[], per: number, limit = 12) {
  return [...list]
    .sort((a, b) => b.rowsWritten - a.rowsWritten || b.calls - a.calls)
    .slice(0, limit)
    .map((s) => ({
      table: tableOf(s.sql),
      calls: s.calls,
      "rows written": s.rowsWritten,
      "written per contact": round(s.rowsWritten / per, 2),
      "rows read": s.rowsRead,
      sql: s.sql.length > 110 ? `${s.sql.slice(0, 110)}…` : s.sql,
    }));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface ImportRun {
  contacts: number;
  users: number;
  leads: number;
  companies: number;
  memberships: number;
  withMore: number;
  captured: boolean;
  /** Run C: the contacts captured (a sample of pages) and the company messages captured with them. */
  sampled: { contacts: number; companies: number; companyMessages: number } | null;
  pages: number;
  calls: number;
  limited: number;
  minimum: number;
  byRoute: Map<string, number>;
  pageTotals: D1Totals;
  pageStatements: StatementCount[];
  captureTotals: D1Totals;
  captureStatements: StatementCount[];
  capture: Record<Kind, { messages: number; d1: D1Totals; ms: number }>;
  inboundMessages: number;
  inboundBytes: number;
  wallMs: number;
  pageMs: number;
  seedMs: number;
  connectionId: string;
  workspaceId: string;
}

/**
 * Seeds a simulator workspace, imports it through the production path and, when `captured`, consumes every INBOUND
 * message the pages produce (else they are only counted: the pages' own cost, at a size the capture could not reach
 * in the pool's time).
 */
async function runImport(sizes: {
  contacts: number;
  companies: number;
  seed: number;
  captured: boolean;
  attributes?: number;
  /** Capture one contact page in this many (and the companies those contacts name), after the import's pages. */
  sampleEvery?: number;
}) {
  // ---- The workspace and the connection (source on with its defaults: relationships captured).
  const workspace = sim.createWorkspace();
  const workspaceId = `ws_import_bench_${crypto.randomUUID().slice(0, 6)}`;
  const row = await seedConnection({ workspaceId, appId: workspace.app_id, token: workspace.token });
  let started = Date.now();
  const seeded = sim.seedWideWorkspace(workspace.app_id, {
    contacts: sizes.contacts,
    companies: sizes.companies,
    attributes: sizes.attributes ?? ATTRIBUTES,
    seed: sizes.seed,
  });
  const seedMs = Date.now() - started;
  const state = sim.state(workspace.app_id);
  const contacts = state.contacts.length;
  const withMore = state.contacts.filter((contact: any) => contact.companies?.has_more).length;
  const attachments = state.attachments.length;
  progress(
    `seeded ${seeded.users.length} users, ${seeded.leads.length} leads, ${sizes.companies} companies, ${attachments} memberships (${withMore} contacts with has_more) in ${(seedMs / 1000).toFixed(1)} s; capture ${sizes.captured ? "on" : "off"}`,
  );

  // ---- Counting bindings and stub queues: the pages' statements and the capture's are counted apart.
  const pageCounter = new D1Counter(env.DB);
  const captureCounter = new D1Counter(env.DB);
  const jobs: Array<{ body: ImportPageMessage; delaySeconds?: number }> = [];
  const inbound: InboundMessage[] = [];
  let inboundBytes = 0;
  let inboundMessages = 0;
  const keep = (body: InboundMessage) => {
    inboundBytes += messageBytes(body);
    inboundMessages++;
    // Queue messages are serialized; the consumer reads a copy.
    if (sizes.captured || sizes.sampleEvery) inbound.push(structuredClone(body));
  };
  const importEnv = {
    ...env,
    DB: pageCounter.db,
    JOBS: {
      send: async (body: ImportPageMessage, options?: { delaySeconds?: number }) =>
        void jobs.push({ body, ...(options?.delaySeconds ? { delaySeconds: options.delaySeconds } : {}) }),
    },
    INBOUND: {
      send: async (body: InboundMessage) => keep(body),
      sendBatch: async (messages: Array<{ body: InboundMessage }>) => {
        for (const message of messages) keep(message.body);
      },
    },
  } as unknown as Env;
  const outbound = { send: async () => {}, sendBatch: async () => {} };
  const captureEnv = { ...env, DB: captureCounter.db, OUTBOUND: outbound } as unknown as Env;
  const ctx = { waitUntil: () => {}, passThroughOnException: () => {} } as unknown as ExecutionContext;

  const capture: Record<Kind, { messages: number; d1: D1Totals; ms: number }> = {
    company: { messages: 0, d1: zero(), ms: 0 },
    contact: { messages: 0, d1: zero(), ms: 0 },
    membership: { messages: 0, d1: zero(), ms: 0 },
  };
  let retried = 0;
  let batchId = 0;
  /** Consumes what the last page queued on INBOUND, in order, batches of up to 25 of one kind. */
  const drainInbound = async (queue = inbound) => {
    while (queue.length > 0) {
      const kind = kindOf(queue[0]!);
      let n = 1;
      while (n < Math.min(INBOUND_BATCH, queue.length) && kindOf(queue[n]!) === kind) n++;
      const bodies = queue.splice(0, n);
      const messages = bodies.map((body, i) => ({
        id: `m${batchId}-${i}`,
        timestamp: new Date(),
        body,
        attempts: 1,
        ack: () => {},
        retry: () => {
          retried++;
        },
      }));
      batchId++;
      const before = captureCounter.snapshot();
      const t0 = Date.now();
      await consumeInbound(
        { queue: "intercom-inbound", messages, ackAll: () => {}, retryAll: () => {} } as unknown as MessageBatch,
        captureEnv,
        ctx,
      );
      capture[kind].ms += Date.now() - t0;
      capture[kind].messages += n;
      add(capture[kind].d1, delta(before, captureCounter.snapshot()));
    }
  };

  // ---- The import: started as the API starts it, each JOBS message run as the JOBS consumer runs it.
  const connection = (await findConnectionById(database(env.DB), row.id))!;
  const mark = journalMark(sim);
  started = Date.now();
  const result = await startImport(importEnv, connection, importOptions({}), "benchmark");
  if (!result.ok) throw new Error("an import is already running");
  let pages = 0;
  let pageMs = 0;
  // Run C: every company message by company id, and the contact messages of the sampled pages.
  const companyMessages = new Map<string, InboundMessage>();
  const sampledContacts: InboundMessage[] = [];
  let contactPages = 0;
  while (jobs.length > 0) {
    const { body, delaySeconds } = jobs.shift()!;
    // A page held back (the rate budget, a busy scroll) would be run later: it is waited for here.
    if (delaySeconds) await sleep(delaySeconds * 1000);
    const t0 = Date.now();
    await runImportPage(importEnv, body);
    pageMs += Date.now() - t0;
    pages++;
    if (sizes.sampleEvery) {
      const page = inbound.splice(0, inbound.length);
      const contactsPage = page.some((m) => kindOf(m) === "contact");
      for (const m of page) if (kindOf(m) === "company") companyMessages.set(String(m.notification.item.id), m);
      if (contactsPage && contactPages++ % sizes.sampleEvery === 0) sampledContacts.push(...page);
    }
    await drainInbound();
    if (pages % 10 === 0) progress(`page ${pages}, ${inboundMessages} INBOUND messages so far`);
  }
  const wallMs = Date.now() - started;
  let sampled: ImportRun["sampled"] = null;
  if (sizes.sampleEvery) {
    // The sample's companies first (the import's order), then its contacts.
    const named = new Set(
      sampledContacts.flatMap((m) => (m.notification.item[IMPORT_COMPANIES_FIELD] ?? []) as string[]),
    );
    const companies = [...named].map((id) => companyMessages.get(id)).filter((m) => m !== undefined);
    progress(`capturing a sample: ${companies.length} companies, then ${sampledContacts.length} contact messages`);
    // drainInbound empties the lists it is given: the counts are taken first.
    sampled = {
      contacts: new Set(sampledContacts.map((m) => String(m.notification.item.id))).size,
      companies: named.size,
      companyMessages: companies.length,
    };
    await drainInbound(companies);
    await drainInbound(sampledContacts);
  }
  const job = (await importById(database(env.DB), connection.id, result.job.id))!;
  if (job.state !== "done") throw new Error(`the import ended ${job.state}: ${job.detail}`);
  if (retried > 0) throw new Error(`${retried} INBOUND messages were retried`);

  // ---- Intercom calls (the simulator's journal, 429s included).
  const journal = sim.journal({ since: mark, app_id: workspace.app_id });
  const byRoute = new Map<string, number>();
  for (const entry of journal) {
    const key = `${entry.method} ${entry.path.replace(/\/contacts\/[^/]+\/companies/, "/contacts/{id}/companies")}`;
    byRoute.set(key, (byRoute.get(key) ?? 0) + 1);
  }
  const jobCalls = job.phases.reduce((sum, phase) => sum + phase.calls, 0);
  if (jobCalls !== journal.length)
    throw new Error(`the job counted ${jobCalls} calls, the simulator ${journal.length}`);
  return {
    contacts,
    users: seeded.users.length,
    leads: seeded.leads.length,
    companies: sizes.companies,
    memberships: attachments,
    withMore,
    captured: sizes.captured,
    sampled,
    pages,
    calls: journal.length,
    limited: journal.filter((entry) => entry.status === 429).length,
    minimum: Math.ceil(sizes.companies / SCROLL_PAGE) + Math.ceil(contacts / IMPORT_PAGE_SIZE) + withMore,
    byRoute,
    pageTotals: pageCounter.snapshot(),
    pageStatements: pageCounter.statements(),
    captureTotals: captureCounter.snapshot(),
    captureStatements: captureCounter.statements(),
    capture,
    inboundMessages,
    inboundBytes,
    wallMs,
    pageMs,
    seedMs,
    connectionId: connection.id,
    workspaceId,
  } satisfies ImportRun;
}

it.skipIf(RUN_100K)(
  "import: Intercom calls vs the minimum, D1 rows written per contact, statements per page, wall time vs the rate limit",
  async ({ task }) => {
    const a = await runImport({ contacts: CAPTURED.contacts, companies: CAPTURED.companies, seed: 16, captured: true });
    const b = await runImport({
      contacts: PAGES_ONLY.contacts,
      companies: PAGES_ONLY.companies,
      seed: 17,
      captured: false,
    });

    // ---- What run A captured.
    const scalar = async (sql: string, ...binds: unknown[]) =>
      (
        await env.DB.prepare(sql)
          .bind(...binds)
          .first<{ n: number }>()
      )?.n ?? 0;
    const users = await scalar("SELECT count(*) AS n FROM users WHERE workspace_id = ?", a.workspaceId);
    const accounts = await scalar("SELECT count(*) AS n FROM accounts WHERE workspace_id = ?", a.workspaceId);
    const memberships = await scalar("SELECT count(*) AS n FROM memberships WHERE workspace_id = ?", a.workspaceId);
    const pending = await scalar("SELECT count(*) AS n FROM pending_links WHERE connection_id = ?", a.connectionId);
    const contactLinks = await scalar(
      "SELECT count(*) AS n FROM intercom_links WHERE connection_id = ? AND object_type = 'contact'",
      a.connectionId,
    );
    const logRows = await scalar("SELECT count(*) AS n FROM sync_logs WHERE connection_id = ?", a.connectionId);
    if (accounts !== a.companies) throw new Error(`${accounts} accounts captured of ${a.companies} companies`);

    // ---- D1 figures of run A.
    const contacts = a.contacts;
    const captureAll = zero();
    for (const kind of Object.keys(a.capture) as Kind[]) add(captureAll, a.capture[kind].d1);
    const writtenPages = a.pageTotals.rowsWritten / contacts;
    const writtenCapture = a.captureTotals.rowsWritten / contacts;
    const writtenTotal = writtenPages + writtenCapture;
    const indexes = await env.DB.prepare(
      "SELECT tbl_name AS tbl, count(*) AS n FROM sqlite_master WHERE type = 'index' GROUP BY tbl_name",
    ).all<{ tbl: string; n: number }>();
    const indexCount = new Map(indexes.results.map((r) => [r.tbl, r.n]));
    const byTable = (list: StatementCount[]) => {
      const tables = new Map<string, { statements: number; written: number }>();
      for (const s of list) {
        const table = tableOf(s.sql);
        if (table === "(read)") continue;
        const entry = tables.get(table) ?? { statements: 0, written: 0 };
        entry.statements += s.calls;
        entry.written += s.rowsWritten;
        tables.set(table, entry);
      }
      return tables;
    };
    const pageTables = byTable(a.pageStatements);
    const captureTables = byTable(a.captureStatements);
    const tableNames = [...new Set([...captureTables.keys(), ...pageTables.keys()])];
    const writesByTable = tableNames
      .map((table) => {
        const p = pageTables.get(table) ?? { statements: 0, written: 0 };
        const c = captureTables.get(table) ?? { statements: 0, written: 0 };
        return {
          table,
          "indexes (auto + declared)": indexCount.get(table) ?? 0,
          "write statements": p.statements + c.statements,
          "rows written (pages)": p.written,
          "rows written (capture)": c.written,
          "per contact": round((p.written + c.written) / contacts, 2),
        };
      })
      .sort((x, y) => y["per contact"] - x["per contact"]);

    const per = (value: number, n: number, digits = 2) => round(value / Math.max(1, n), digits);
    const lowerBound = (run: ImportRun) => run.calls / RATE_LIMIT_PER_SECOND;
    const captureMs = Object.values(a.capture).reduce((sum, c) => sum + c.ms, 0);
    const bRatio = b.calls / b.minimum;
    const rows: BenchRow[] = [
      {
        metric: "run A (captured): contacts (users + leads) / companies / memberships / has_more",
        value: `${a.contacts} (${a.users} + ${a.leads}) / ${a.companies} / ${a.memberships} / ${a.withMore}`,
      },
      {
        metric: "run B (pages only): contacts (users + leads) / companies / memberships / has_more",
        value: `${b.contacts} (${b.users} + ${b.leads}) / ${b.companies} / ${b.memberships} / ${b.withMore}`,
      },
      {
        metric: "A: Intercom calls / minimum (⌈co/50⌉ + ⌈contacts/150⌉ + has_more)",
        value: `${a.calls} / ${a.minimum}`,
      },
      goalRow("A: Intercom calls ÷ minimum", a.calls / a.minimum, "≤ 1.05", (v) => v <= 1.05),
      { metric: "B: Intercom calls / minimum", value: `${b.calls} / ${b.minimum}` },
      goalRow("B: Intercom calls ÷ minimum", bRatio, "≤ 1.05", (v) => v <= 1.05),
      goalRow("A: D1 rows written per imported contact (pages + capture)", writtenTotal, "≤ 8", (v) => v <= 8),
      { metric: "A:   the import pages' own writes, per contact", value: round(writtenPages, 2) },
      { metric: "A:   the capture's writes (INBOUND consumer), per contact", value: round(writtenCapture, 2) },
      {
        metric: "A: rows written per contact message / membership message / company message",
        value: `${per(a.capture.contact.d1.rowsWritten, a.capture.contact.messages)} / ${per(a.capture.membership.d1.rowsWritten, a.capture.membership.messages)} / ${per(a.capture.company.d1.rowsWritten, a.capture.company.messages)}`,
      },
      {
        metric: "A: D1 rows read per contact (pages + capture)",
        value: per(a.pageTotals.rowsRead + a.captureTotals.rowsRead, contacts, 1),
      },
      {
        metric: "A: D1 statements per contact (pages + capture)",
        value: per(a.pageTotals.statements + a.captureTotals.statements, contacts),
      },
      {
        metric: "A: D1 round trips per contact (pages + capture)",
        value: per(a.pageTotals.roundTrips + a.captureTotals.roundTrips, contacts),
      },
      {
        metric: "A: D1 statements / round trips per page (the page alone)",
        value: `${per(a.pageTotals.statements, a.pages)} / ${per(a.pageTotals.roundTrips, a.pages)}`,
      },
      {
        metric: "B: D1 statements / round trips per page (the page alone)",
        value: `${per(b.pageTotals.statements, b.pages)} / ${per(b.pageTotals.roundTrips, b.pages)}`,
      },
      {
        metric: "A: D1 statements per page including its capture",
        value: per(a.pageTotals.statements + a.captureTotals.statements, a.pages, 1),
      },
      { metric: "A: INBOUND messages per contact", value: per(a.inboundMessages, contacts) },
      {
        metric: "A: INBOUND bytes per message (JSON)",
        value: Math.round(a.inboundBytes / Math.max(1, a.inboundMessages)),
        unit: "B",
      },
      { metric: "A: wall time, whole import (pool)", value: round(a.wallMs / 1000, 1), unit: "s" },
      {
        metric: "A:   of which the pages / the capture",
        value: `${round(a.pageMs / 1000, 1)} / ${round(captureMs / 1000, 1)}`,
        unit: "s",
      },
      { metric: "A: capture per INBOUND message (pool)", value: per(captureMs, a.inboundMessages, 1), unit: "ms" },
      { metric: "B: wall time of the pages (pool)", value: round(b.pageMs / 1000, 1), unit: "s" },
      {
        metric: `B: rate-limit lower bound, calls ÷ ${round(RATE_LIMIT_PER_SECOND, 1)}/s`,
        value: round(lowerBound(b), 2),
        unit: "s",
      },
      { metric: "B: pages' wall time ÷ rate-limit lower bound", value: round(b.pageMs / 1000 / lowerBound(b), 2) },
      { metric: "A: pages' wall time ÷ rate-limit lower bound", value: round(a.pageMs / 1000 / lowerBound(a), 2) },
      { metric: "Intercom 429 answers (A + B)", value: a.limited + b.limited },
    ];
    record(task, {
      name: "import",
      title: "Import: Intercom calls vs the minimum, D1 rows written per contact, statements per page, wall time",
      notes: [
        `Simulator workspaces seeded wide (seedWideWorkspace, ${ATTRIBUTES} custom attributes per model). Run A: the whole import, every INBOUND message captured. Run B: a larger workspace, the import pages alone (INBOUND messages counted, not consumed: the capture costs ~${per(captureMs, a.inboundMessages, 0)} ms per message in the pool, too slow for this size).`,
        "Production path: startImport, runImportPage for every JOBS message, consumeInbound (batches of 25) for every INBOUND message right after its page; two counting D1 bindings (pages, capture).",
        "Rows written are D1's meta.rows_written: every index entry written counts, so a new row of a table with k indexes counts 1 + k (table 'Rows written by table'; sqlite_autoindex of a non-rowid key included).",
        `Per contact = ÷ ${contacts} imported contacts (users and leads) of run A, companies' and memberships' writes included.`,
        `Rate-limit lower bound: calls ÷ Intercom's default 10,000 per minute per app (${round(RATE_LIMIT_PER_SECOND, 1)}/s). Wall times are the vitest pool's on this machine (local SQLite D1, the simulator in the same isolate, Date.now() advancing only at I/O, a shared machine), not production's.`,
        `Run A captured: ${users} users, ${contactLinks} contact links, ${accounts} accounts, ${memberships} memberships, ${pending} pending links (contacts naming no CDP user), ${logRows} sync-log rows.`,
        `Seeding took ${round(a.seedMs / 1000, 1)} s (A) and ${round(b.seedMs / 1000, 1)} s (B), not counted.`,
      ],
      params: {
        run_a: {
          contacts: a.contacts,
          users: a.users,
          leads: a.leads,
          companies: a.companies,
          memberships: a.memberships,
          has_more: a.withMore,
        },
        run_b: {
          contacts: b.contacts,
          users: b.users,
          leads: b.leads,
          companies: b.companies,
          memberships: b.memberships,
          has_more: b.withMore,
        },
        attributes: ATTRIBUTES,
        rate_limit_per_second: RATE_LIMIT_PER_SECOND,
        inbound_batch: INBOUND_BATCH,
      },
      rows,
      tables: {
        "Intercom calls by route": [...new Set([...a.byRoute.keys(), ...b.byRoute.keys()])].map((route) => ({
          route,
          "A calls": a.byRoute.get(route) ?? 0,
          "B calls": b.byRoute.get(route) ?? 0,
        })),
        "D1 by part, run A (totals)": [
          { part: "import pages (JOBS)", n: a.pages, ...d1Row(a.pageTotals, contacts) },
          { part: "capture: companies", n: a.capture.company.messages, ...d1Row(a.capture.company.d1, contacts) },
          { part: "capture: contacts", n: a.capture.contact.messages, ...d1Row(a.capture.contact.d1, contacts) },
          {
            part: "capture: memberships",
            n: a.capture.membership.messages,
            ...d1Row(a.capture.membership.d1, contacts),
          },
          { part: "all", n: contacts, ...d1Row(sum(a.pageTotals, captureAll), contacts) },
          { part: "run B: import pages (JOBS)", n: b.pages, ...d1Row(b.pageTotals, b.contacts) },
        ],
        "Rows written by table, run A (index entries included)": writesByTable,
        "Capture statements of run A, most rows written first (totals)": statementRows(a.captureStatements, contacts),
        "Import page statements of run A, most rows written first (totals)": statementRows(
          a.pageStatements,
          contacts,
          8,
        ),
      },
    });
    progress(
      `A: calls ${a.calls} (minimum ${a.minimum}), rows written per contact ${writtenTotal.toFixed(2)}, wall ${(a.wallMs / 1000).toFixed(1)} s; B: calls ${b.calls} (minimum ${b.minimum})`,
    );
    if (SMOKE) progress("smoke sizes: the figures are not meaningful");
  },
);

function sum(a: D1Totals, b: D1Totals): D1Totals {
  const out = zero();
  add(out, a);
  add(out, b);
  return out;
}

function d1Row(totals: D1Totals, contacts: number) {
  return {
    statements: totals.statements,
    "round trips": totals.roundTrips,
    "rows read": totals.rowsRead,
    "rows written": totals.rowsWritten,
    "rows written per contact": round(totals.rowsWritten / contacts, 2),
  };
}

it.runIf(RUN_100K)(
  "import-100k: 100,000 contacts and 5,000 companies, calls vs the minimum, wall time vs the rate limit, D1 rows per contact (a sample)",
  async ({ task }) => {
    const c = await runImport({
      contacts: HUNDRED_K.contacts,
      companies: HUNDRED_K.companies,
      seed: 18,
      captured: FULL_100K,
      attributes: HUNDRED_K.attributes,
      ...(FULL_100K ? {} : { sampleEvery: HUNDRED_K.sampleEvery }),
    });
    // A full capture is its own "sample": every contact and company.
    const sample = c.sampled ?? {
      contacts: c.contacts,
      companies: c.companies,
      companyMessages: c.capture.company.messages,
    };
    const lowerBound = c.calls / RATE_LIMIT_PER_SECOND;
    const perMessage = (kind: Kind) => c.capture[kind].d1.rowsWritten / Math.max(1, c.capture[kind].messages);
    // Per imported contact: the sampled contacts' capture, every company's capture at the sample's cost per company,
    // and the import pages' own writes, each spread over all contacts.
    const contactPart = c.capture.contact.d1.rowsWritten / Math.max(1, sample.contacts);
    const companyPart = FULL_100K
      ? c.capture.company.d1.rowsWritten / c.contacts
      : (perMessage("company") * c.companies) / c.contacts;
    const pagePart = c.pageTotals.rowsWritten / c.contacts;
    const perContact = contactPart + companyPart + pagePart;
    const captureMs = Object.values(c.capture).reduce((sum, k) => sum + k.ms, 0);
    const captureMessages = Object.values(c.capture).reduce((sum, k) => sum + k.messages, 0);
    const rows: BenchRow[] = [
      {
        metric: "contacts (users + leads) / companies / memberships / has_more",
        value: `${c.contacts} (${c.users} + ${c.leads}) / ${c.companies} / ${c.memberships} / ${c.withMore}`,
      },
      { metric: "Intercom calls / minimum (⌈co/50⌉ + ⌈contacts/150⌉ + has_more)", value: `${c.calls} / ${c.minimum}` },
      goalRow("Intercom calls ÷ minimum", c.calls / c.minimum, "≤ 1.05", (v) => v <= 1.05),
      { metric: "import pages (JOBS messages run)", value: c.pages },
      { metric: "wall time of the pages (pool)", value: round(c.pageMs / 1000, 1), unit: "s" },
      {
        metric: `rate-limit lower bound, calls ÷ ${round(RATE_LIMIT_PER_SECOND, 1)}/s`,
        value: round(lowerBound, 1),
        unit: "s",
      },
      { metric: "pages' wall time ÷ rate-limit lower bound", value: round(c.pageMs / 1000 / lowerBound, 2) },
      {
        metric: FULL_100K
          ? "captured: contacts / company messages (all of them)"
          : `captured sample: contacts / their companies (one contact page in ${HUNDRED_K.sampleEvery})`,
        value: `${sample.contacts} / ${sample.companyMessages}`,
      },
      goalRow(
        FULL_100K
          ? "D1 rows written per imported contact (everything captured)"
          : "D1 rows written per imported contact (sample-based estimate)",
        perContact,
        "≤ 8",
        (v) => v <= 8,
      ),
      { metric: `  of which the contacts' capture${FULL_100K ? "" : " (sample)"}`, value: round(contactPart, 2) },
      {
        metric: FULL_100K
          ? "  of which the companies' capture (÷ contacts)"
          : "  of which the companies' capture (per company × 5,000 ÷ contacts)",
        value: round(companyPart, 2),
      },
      { metric: "  of which the import pages", value: round(pagePart, 3) },
      {
        metric: "rows written per contact message / per company message",
        value: `${round(perMessage("contact"), 2)} / ${round(perMessage("company"), 2)}`,
      },
      { metric: "INBOUND messages per contact (all pages)", value: round(c.inboundMessages / c.contacts, 3) },
      {
        metric: `capture per INBOUND message (pool${FULL_100K ? "" : ", sample"})`,
        value: round(captureMs / Math.max(1, captureMessages), 1),
        unit: "ms",
      },
      { metric: "Intercom 429 answers", value: c.limited },
    ];
    record(task, {
      name: "import-100k",
      title:
        "Import of 100,000 contacts and 5,000 companies: calls vs the minimum, wall time vs the rate limit, D1 rows per contact",
      notes: [
        `Simulator workspace seeded wide (seedWideWorkspace, ${HUNDRED_K.attributes} custom attributes per model, not 100: the simulator holds all 100,000 contacts in the isolate). Every import page runs through the production path (startImport, runImportPage for every JOBS message).`,
        FULL_100K
          ? `Everything captured: each page's INBOUND messages go through the INBOUND consumer (batches of ${INBOUND_BATCH}) right after the page, ${captureMessages} messages (~${round(captureMs / Math.max(1, captureMessages), 1)} ms a message here). Rows per contact = every row the pages and the capture wrote ÷ ${c.contacts}.`
          : `The capture is a sample, not the whole import (\`npm run bench -- import-100k-full\` captures everything, ~20 minutes): one contact page in ${HUNDRED_K.sampleEvery} (${sample.contacts} contacts) is captured after the pages (~${round(captureMs / Math.max(1, captureMessages), 0)} ms a message here), preceded by the ${sample.companyMessages} companies those contacts name. Rows per contact = the sample's contact capture ÷ sampled contacts + the sample's rows per company × ${c.companies} ÷ ${c.contacts} + the pages' own writes ÷ ${c.contacts}.`,
        "Rows written are D1's meta.rows_written (index entries included), counted by counting-d1.ts.",
        `Rate-limit lower bound: calls ÷ Intercom's default 10,000 per minute per app. Wall times are the vitest pool's on this machine (local SQLite D1, the simulator in the same isolate, a shared machine), not production's. Seeding took ${round(c.seedMs / 1000, 1)} s, not counted.`,
      ],
      params: {
        contacts: c.contacts,
        companies: c.companies,
        memberships: c.memberships,
        has_more: c.withMore,
        attributes: HUNDRED_K.attributes,
        sample_every: FULL_100K ? 1 : HUNDRED_K.sampleEvery,
        rate_limit_per_second: RATE_LIMIT_PER_SECOND,
      },
      rows,
      tables: {
        "Intercom calls by route": [...c.byRoute.entries()].map(([route, calls]) => ({ route, calls })),
        "D1 by part (totals)": [
          { part: "import pages (JOBS)", n: c.pages, ...d1Row(c.pageTotals, c.contacts) },
          {
            part: FULL_100K ? "capture: companies" : "capture sample: companies",
            n: c.capture.company.messages,
            ...d1Row(c.capture.company.d1, sample.contacts),
          },
          {
            part: FULL_100K ? "capture: contacts" : "capture sample: contacts",
            n: c.capture.contact.messages,
            ...d1Row(c.capture.contact.d1, sample.contacts),
          },
        ],
        "Capture statements of the sample, most rows written first (totals)": statementRows(
          c.captureStatements,
          sample.contacts,
        ),
      },
    });
    progress(
      `100k: calls ${c.calls} (minimum ${c.minimum}), pages ${round(c.pageMs / 1000, 1)} s vs lower bound ${round(lowerBound, 1)} s, rows/contact ≈ ${perContact.toFixed(2)}`,
    );
    if (SMOKE) progress("smoke sizes: the figures are not meaningful");
  },
);
