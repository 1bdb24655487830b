/**
 * The capacity model's figures (docs/capacity.md): bytes per stored row and D1 statements / round trips per unit of
 * work, measured against the local D1 of the test pool, and what one D1 database serves when derived from them.
 *
 * Workload, all through the production code paths with a counting D1 binding (counting-d1.ts):
 * - webhooks: `processNotification` one at a time (the sweep's path; the INBOUND consumer's before it decided whole
 *   batches), for wide `contact.user.created`
 *   (100 custom attributes, every field Intercom sends: the simulator's wide generator), wide `company.created`,
 *   `company.contact.attached`, `event.created`, `conversation.user.created`, and redeliveries (duplicates);
 * - the same mix (a quarter of it, no repeated ids) through `consumeInbound` in queue batches of INBOUND_BATCH_SIZE,
 *   shuffled, with redeliveries in the second half: what the INBOUND consumer costs per notification;
 * - ingest: `identifyUser` with 100 properties (a stub OUTBOUND queue);
 * - destination syncs: `loadSyncContext` + `syncContact` (what a ContactSync alarm runs) against the Intercom
 *   simulator, 100 properties mapped onto 100 custom attributes: a create, an update of one attribute, a no-op.
 *
 * Bytes: D1 refuses `dbstat` and `PRAGMA page_count` ("not authorized"), but every result's `meta.size_after` is the
 * database's size (pages × page size). Each table's rows are copied (`INSERT … SELECT`) into an empty twin made from
 * its own DDL in `sqlite_master`, then each index is created on the twin: the growth of `size_after` at each step is
 * the table's and each index's size, packed (B-trees built in order). Tables grown by the workload's inserts hold
 * more slack: the ratio of the workload's real growth to the packed sum is reported and applied to the model.
 */
import { env } from "cloudflare:workers";
import { it } from "vitest";
import { inboundMessageOf, readEnvelope } from "../../src/api/intercom-webhook/envelope";
import { database } from "../../src/db/client";
import type { FieldMapping } from "../../src/db/schema";
import { loadSyncContext } from "../../src/destination/context";
import { identifyUser } from "../../src/destination/ingest";
import { syncContact } from "../../src/destination/sync/contact";
import type { Env } from "../../src/env";
import { COUNT_WINDOW_MS, DEFAULT_LOG_ROWS_PER_DAY, writeSyncLog } from "../../src/lib/sync-log";
import { consumeInbound } from "../../src/source/consumer";
import { processNotification } from "../../src/source/process";
import type { SourceConnection } from "../../src/source/work";
import { seedConnection } from "../helpers/connections";
import { connectDestination } from "../helpers/destination";
import { useIntercomSim, wideAttributeDefinitions, wideNotification } from "../helpers/intercom-sim";
import { type Envelope, type FixtureName, type Item, notification } from "../helpers/webhooks";
import { D1Counter, type D1Totals } from "./counting-d1";
import { type BenchRow, progress, record, round, SMOKE, size } from "./support";

const sim = useIntercomSim({ config: { search_lag_ms: 0 } });

const CONTACTS = size(2_000, 60);
const COMPANIES = size(200, 6);
const ATTACHMENTS = size(2_000, 60);
const EVENTS = size(4_000, 120);
const CHATS = size(500, 20);
const DUPLICATES = size(500, 20);
const SYNC_USERS = size(300, 10);
const LOG_ROWS = size(10_000, 200);
const COUNTER_WINDOWS = size(2_000, 50);

/** The model's D1 database (Cloudflare's documented limits, and the working figure for throughput). */
const D1 = { bytes: 10e9, queriesPerSecond: 1_000 };

/** The reference tenant of the model (assumptions, printed with the result). */
const TENANT = {
  users: 10_000,
  accounts: 500,
  membershipsPerUser: 1,
  /** Events are kept for ever (no retention): a year of them. */
  eventsPerUserPerDay: 0.5,
  eventDays: 365,
  /** Intercom webhooks and destination syncs per day. */
  webhooksPerDay: 20_000,
  syncsPerDay: 20_000,
  /** Peak hour rate ÷ mean rate. */
  peakFactor: 10,
  retentionDays: 30,
};

const CONTACT_ATTRIBUTES = wideAttributeDefinitions("contact");

/** 100 properties of realistic width: short strings (plans, cities, ids), numbers, booleans, dates. */
function properties(seed: number): Record<string, unknown> {
  return Object.fromEntries(
    CONTACT_ATTRIBUTES.map((attribute, i) => {
      switch (attribute.data_type) {
        case "string":
          return [attribute.name, `value ${seed}-${i} ${"abcdefghij".slice(0, (seed + i) % 10)}`.padEnd(24, "x")];
        case "integer":
          return [attribute.name, seed * 1000 + i];
        case "float":
          return [attribute.name, seed + i / 100];
        case "boolean":
          return [attribute.name, (seed + i) % 2 === 0];
        default:
          return [attribute.name, "2026-03-01T12:00:00Z"];
      }
    }),
  );
}

const MAPPINGS: FieldMapping[] = CONTACT_ATTRIBUTES.map((attribute) => ({
  from: attribute.name,
  to: `custom_attributes.${attribute.name}`,
  type: attribute.data_type === "datetime" ? "date" : (attribute.data_type as FieldMapping["type"]),
}));

interface Phase {
  kind: string;
  n: number;
  statements: number;
  roundTrips: number;
  rowsRead: number;
  rowsWritten: number;
  bytes: number;
}

function phaseOf(kind: string, n: number, before: D1Totals, after: D1Totals): Phase {
  return {
    kind,
    n,
    statements: (after.statements - before.statements) / n,
    roundTrips: (after.roundTrips - before.roundTrips) / n,
    rowsRead: (after.rowsRead - before.rowsRead) / n,
    rowsWritten: (after.rowsWritten - before.rowsWritten) / n,
    bytes: (after.sizeAfter - before.sizeAfter) / n,
  };
}

/** wrangler.toml's INBOUND max_batch_size. */
const INBOUND_BATCH_SIZE = 25;

/** An envelope as the ack path accepts it. */
function readEnvelopeOk(envelope: Envelope) {
  const check = readEnvelope(envelope);
  if (!check.ok) throw new Error(check.detail);
  return check.envelope;
}

/** The notification the consumer receives for an envelope (projected as the ack path does). */
function queued(envelope: Envelope) {
  const check = readEnvelope(envelope);
  if (!check.ok) throw new Error(check.detail);
  return inboundMessageOf({ ...check.envelope, id: check.envelope.id! }, Date.now()).notification;
}

async function sizeNow(): Promise<number> {
  const result = await env.DB.prepare("SELECT 1").run();
  return result.meta.size_after ?? 0;
}

async function exec(sql: string, ...params: unknown[]): Promise<number> {
  const result = await env.DB.prepare(sql)
    .bind(...params)
    .run();
  return result.meta.size_after ?? 0;
}

interface Sized {
  table: string;
  twin: string;
  rows: number;
  /** Bytes per row: the table itself (with its primary-key index when the key is not the rowid). */
  tableBytes: number;
  /** Bytes per row of each secondary index. */
  indexes: Record<string, number>;
  totalBytes: number;
}

let twins = 0;

/** Sizes the rows of `table` matching `where` in a packed twin built from the table's own DDL (see the header). */
async function sizeRows(table: string, label: string, where = "1", ...params: unknown[]): Promise<Sized> {
  const twin = `bench_twin_${++twins}`;
  const schema = await env.DB.prepare(
    "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL",
  )
    .bind(table)
    .all<{ type: string; name: string; sql: string }>();
  const ddl = schema.results.find((row) => row.type === "table")!.sql;
  // A table rebuilt and renamed by a migration (0006) has its name in double quotes in its DDL, not backticks.
  const rename = (sql: string) => sql.replace(new RegExp(`[\`"]${table}[\`"]`, "g"), `\`${twin}\``);
  let size = await exec(rename(ddl));
  const rows = (await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${where}`)
    .bind(...params)
    .first<{ n: number }>())!.n;
  const afterRows = await exec(`INSERT INTO ${twin} SELECT * FROM ${table} WHERE ${where}`, ...params);
  const tableBytes = (afterRows - size) / rows;
  size = afterRows;
  const indexes: Record<string, number> = {};
  for (const index of schema.results.filter((row) => row.type === "index")) {
    const sql = rename(index.sql).replace(`\`${index.name}\``, `\`${twin}_${index.name}\``);
    const after = await exec(sql);
    indexes[index.name] = (after - size) / rows;
    size = after;
  }
  const totalBytes = tableBytes + Object.values(indexes).reduce((a, b) => a + b, 0);
  return { table: label, twin, rows, tableBytes, indexes, totalBytes };
}

it("capacity: bytes per row, D1 statements and round trips per webhook and per sync, and what one database serves", async ({
  task,
}) => {
  const counter = new D1Counter(env.DB);
  const db = database(counter.db);
  const startSize = await sizeNow();
  counter.add("SELECT 1", { size_after: startSize });

  // ---- Source: webhooks through processNotification.
  const appId = "capbench1";
  const row = await seedConnection({ workspaceId: "ws_cap_source", appId });
  const connection: SourceConnection = {
    id: row.id,
    workspaceId: row.workspaceId,
    appId,
    source: row.source,
    destination: row.destination,
  };
  const phases: Phase[] = [];
  const run = async (kind: string, n: number, make: (i: number) => Envelope) => {
    const before = counter.snapshot();
    for (let i = 0; i < n; i++) {
      const entries = await processNotification(db, connection, queued(make(i)), "webhook", Date.now());
      if (entries.some((entry) => entry.outcome === "failed")) throw new Error(`${kind}: ${JSON.stringify(entries)}`);
    }
    phases.push(phaseOf(kind, n, before, counter.snapshot()));
    progress(`${kind}: ${n}`);
  };
  const contacts: Array<{ id: string; email: string; externalId: string }> = [];
  const contactEnvelopes: Envelope[] = [];
  await run("contact.user.created (wide, new contact)", CONTACTS, (i) => {
    const envelope = wideNotification("contact.user.created", { app_id: appId, seed: i + 1 }) as unknown as Envelope;
    const item = envelope.data.item as Item;
    contacts.push({ id: item.id, email: item.email, externalId: item.external_id });
    contactEnvelopes.push(envelope);
    return envelope;
  });
  const companies: Array<{ id: string; companyId: string; name: string }> = [];
  await run("company.created (wide, new company)", COMPANIES, (i) => {
    const envelope = wideNotification("company.created", { app_id: appId, seed: 100_000 + i }) as unknown as Envelope;
    const item = envelope.data.item as Item;
    companies.push({ id: item.id, companyId: item.company_id, name: item.name });
    return envelope;
  });
  const fixture = (name: FixtureName, edit: (item: Item) => void) => notification(name, { appId, edit });
  await run("company.contact.attached", ATTACHMENTS, (i) =>
    fixture("company.contact.attached", (item) => {
      const contact = contacts[i % contacts.length]!;
      const company = companies[i % companies.length]!;
      Object.assign(item.contact, { id: contact.id, email: contact.email, external_id: contact.externalId });
      item.contact.updated_at = new Date().toISOString();
      Object.assign(item.company, { id: company.id, company_id: company.companyId, name: company.name });
    }),
  );
  await run("event.created (data event)", EVENTS, (i) =>
    fixture("event.created", (item) => {
      const contact = contacts[i % contacts.length]!;
      item.intercom_user_id = contact.id;
      item.user_id = contact.externalId;
      item.email = contact.email;
      item.id = crypto.randomUUID();
      item.created_at = Math.floor(Date.now() / 1000) + i;
    }),
  );
  await run("conversation.user.created (chat event)", CHATS, (i) =>
    fixture("conversation.user.created", (item) => {
      const contact = contacts[i % contacts.length]!;
      item.id = String(800_000_000 + i);
      item.source.author = { type: "user", id: contact.id, name: "Chat", email: contact.email };
      item.contacts.contacts = [{ type: "contact", id: contact.id, external_id: contact.externalId }];
    }),
  );
  await run("redelivery (duplicate)", DUPLICATES, (i) => contactEnvelopes[i % contactEnvelopes.length]!);
  const webhookPhases = [...phases];
  // One at a time as processNotification (the sweep's path, and the consumer's before it decided batches).

  // ---- The same mix as the INBOUND consumer sees it: queue batches of the configured size, one shuffled stream.
  const batchApp = "capbench2";
  await seedConnection({ workspaceId: "ws_cap_batches", appId: batchApp });
  const scale = (n: number) => Math.max(1, Math.round(n / 4));
  const stream: Array<{ kind: string; envelope: Envelope }> = [];
  const batchContacts: Array<{ id: string; email: string; externalId: string; envelope: Envelope }> = [];
  const batchCompanies: Array<{ id: string; companyId: string; name: string }> = [];
  for (let i = 0; i < scale(CONTACTS); i++) {
    const envelope = wideNotification("contact.user.created", {
      app_id: batchApp,
      seed: 200_000 + i,
    }) as unknown as Envelope;
    const item = envelope.data.item as Item;
    batchContacts.push({ id: item.id, email: item.email, externalId: item.external_id, envelope });
    stream.push({ kind: "contact", envelope });
  }
  for (let i = 0; i < scale(COMPANIES); i++) {
    const envelope = wideNotification("company.created", {
      app_id: batchApp,
      seed: 300_000 + i,
    }) as unknown as Envelope;
    const item = envelope.data.item as Item;
    batchCompanies.push({ id: item.id, companyId: item.company_id, name: item.name });
    stream.push({ kind: "company", envelope });
  }
  const batchFixture = (name: FixtureName, edit: (item: Item) => void) => notification(name, { appId: batchApp, edit });
  for (let i = 0; i < scale(ATTACHMENTS); i++) {
    const contact = batchContacts[i % batchContacts.length]!;
    const company = batchCompanies[i % batchCompanies.length]!;
    stream.push({
      kind: "attachment",
      envelope: batchFixture("company.contact.attached", (item) => {
        Object.assign(item.contact, { id: contact.id, email: contact.email, external_id: contact.externalId });
        item.contact.updated_at = new Date().toISOString();
        Object.assign(item.company, { id: company.id, company_id: company.companyId, name: company.name });
      }),
    });
  }
  for (let i = 0; i < scale(EVENTS); i++) {
    const contact = batchContacts[i % batchContacts.length]!;
    stream.push({
      kind: "event",
      envelope: batchFixture("event.created", (item) => {
        item.intercom_user_id = contact.id;
        item.user_id = contact.externalId;
        item.email = contact.email;
        item.id = crypto.randomUUID();
        item.created_at = Math.floor(Date.now() / 1000) + i;
      }),
    });
  }
  for (let i = 0; i < scale(CHATS); i++) {
    const contact = batchContacts[i % batchContacts.length]!;
    stream.push({
      kind: "chat",
      envelope: batchFixture("conversation.user.created", (item) => {
        item.id = String(900_000_000 + i);
        item.source.author = { type: "user", id: contact.id, name: "Chat", email: contact.email };
        item.contacts.contacts = [{ type: "contact", id: contact.id, external_id: contact.externalId }];
      }),
    });
  }
  // A deterministic shuffle (creations stay before most of what names them, as in a real stream).
  let seed = 42;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const keyed = stream.map((entry, i) => ({ entry, key: i / stream.length + random() * 0.2 }));
  keyed.sort((a, b) => a.key - b.key);
  const ordered = keyed.map(({ entry }) => entry);
  // Redeliveries of contacts already consumed, spread through the second half.
  for (let i = 0; i < scale(DUPLICATES); i++) {
    const at = Math.floor(ordered.length / 2 + (i * ordered.length) / 2 / scale(DUPLICATES));
    ordered.splice(at, 0, { kind: "duplicate", envelope: batchContacts[i % batchContacts.length]!.envelope });
  }
  const batchEnv = {
    ...env,
    DB: counter.db,
    OUTBOUND: { send: async () => {}, sendBatch: async () => {} },
  } as unknown as Env;
  const beforeBatches = counter.snapshot();
  let retried = 0;
  for (let start = 0; start < ordered.length; start += INBOUND_BATCH_SIZE) {
    const messages = ordered.slice(start, start + INBOUND_BATCH_SIZE).map(({ envelope }, i) => ({
      id: `m-${start + i}`,
      timestamp: new Date(),
      attempts: 1,
      body: inboundMessageOf({ ...readEnvelopeOk(envelope), id: envelope.id! }, Date.now()),
      ack() {},
      retry() {
        retried++;
      },
    }));
    await consumeInbound(
      { queue: "intercom-inbound", messages, ackAll() {}, retryAll() {} } as unknown as MessageBatch,
      batchEnv,
      {} as ExecutionContext,
    );
  }
  if (retried > 0) throw new Error(`queue batches: ${retried} messages retried`);
  const batchPhase = phaseOf(
    `queue batches of ${INBOUND_BATCH_SIZE} (the mix, shuffled)`,
    ordered.length,
    beforeBatches,
    counter.snapshot(),
  );
  progress(`queue batches: ${ordered.length}`);

  // ---- Ingest and destination: 100 properties mapped onto 100 custom attributes, synced to the simulator.
  const {
    workspace,
    workspaceId,
    connection: destination,
  } = await connectDestination(sim, {
    mappings: { contact: MAPPINGS, company: [] },
  });
  sim.seedWideWorkspace(workspace.app_id, { contacts: 0, companies: 0 });
  const outbound = { send: async () => {}, sendBatch: async () => {} };
  const countedEnv = { ...env, DB: counter.db, OUTBOUND: outbound } as unknown as Env;
  const pks: number[] = [];
  let before = counter.snapshot();
  for (let i = 0; i < SYNC_USERS; i++) {
    const result = await identifyUser(countedEnv, workspaceId, {
      user_id: `cap-${i}`,
      email: `cap${i}@example.com`,
      properties: properties(i),
    });
    pks.push(result.row.pk);
  }
  phases.push(phaseOf("identify (new user, 100 properties)", SYNC_USERS, before, counter.snapshot()));
  const sync = async (kind: string) => {
    const started = counter.snapshot();
    for (const pk of pks) {
      const loaded = await loadSyncContext(countedEnv, destination.id);
      if (!loaded.usable) throw new Error(loaded.reason);
      const outcome = await syncContact(loaded.context, pk, { companyIdOf: async () => null });
      if (outcome.kind !== "synced") throw new Error(`${kind}: ${JSON.stringify(outcome)}`);
    }
    phases.push(phaseOf(kind, pks.length, started, counter.snapshot()));
    progress(`${kind}: ${pks.length}`);
  };
  await sync("destination sync: create (search, create, link)");
  before = counter.snapshot();
  for (let i = 0; i < SYNC_USERS; i++) {
    await identifyUser(countedEnv, workspaceId, {
      user_id: `cap-${i}`,
      properties: { [MAPPINGS[0]!.from]: `v2 ${i}` },
    });
  }
  phases.push(phaseOf("identify (one mapped property changed)", SYNC_USERS, before, counter.snapshot()));
  counter.resetStatements();
  await sync("destination sync: update one attribute");
  const updateStatements = counter.statements().slice(0, 6);
  await sync("destination sync: no-op (counted, no row)");

  // ---- The sync log alone: a row (with its daily count) per outcome, and a counted outcome per 5-minute window.
  const logConnection = (await seedConnection({ workspaceId: "ws_cap_logs" })).id;
  const logAt = Date.now();
  before = counter.snapshot();
  for (let i = 0; i < LOG_ROWS; i++) {
    await writeSyncLog(
      db,
      {
        connectionId: logConnection,
        workspaceId: "ws_cap_logs",
        direction: i % 2 ? "out" : "in",
        outcome: i % 2 ? "synced" : "captured",
        objectType: i % 2 ? "contact" : "user",
        objectId: `u-${i}`,
        intercomId: (0x6a1f000000 + i).toString(16).padStart(24, "0"),
        email: i % 4 === 0 ? null : `user${i}@example.com`,
        action: i % 2 ? "update" : "contact.user.updated",
        detail: i % 2 ? "sent name, custom_attributes.plan" : null,
      },
      logAt,
    );
  }
  phases.push(phaseOf("sync-log row (row + daily count)", LOG_ROWS, before, counter.snapshot()));
  const noop = { connectionId: logConnection, workspaceId: "ws_cap_logs", objectType: "contact" } as const;
  before = counter.snapshot();
  for (let i = 0; i < COUNTER_WINDOWS; i++) {
    await writeSyncLog(db, { ...noop, direction: "out", outcome: "noop" }, logAt - i * COUNT_WINDOW_MS);
  }
  phases.push(phaseOf("counted outcome, a new 5-minute window", COUNTER_WINDOWS, before, counter.snapshot()));
  before = counter.snapshot();
  for (let i = 0; i < COUNTER_WINDOWS; i++) {
    await writeSyncLog(db, { ...noop, direction: "out", outcome: "noop" }, logAt);
  }
  phases.push(phaseOf("counted outcome, same window (n + 1)", COUNTER_WINDOWS, before, counter.snapshot()));
  const endSize = counter.snapshot().sizeAfter;

  // ---- Bytes per row.
  const sized: Sized[] = [
    await sizeRows("users", "users (captured wide contact)", "workspace_id = ?", connection.workspaceId),
    await sizeRows("users", "users (identified, 100 properties)", "workspace_id = ?", workspaceId),
    await sizeRows("accounts", "accounts (captured wide company)"),
    await sizeRows("memberships", "memberships"),
    await sizeRows("events", "events (data and chat events)"),
    await sizeRows(
      "intercom_links",
      "intercom_links (contact, captured)",
      "connection_id = ? AND object_type = 'contact'",
      connection.id,
    ),
    await sizeRows(
      "intercom_links",
      "intercom_links (contact, 100 mapped attributes)",
      "connection_id = ? AND object_type = 'contact'",
      destination.id,
    ),
    await sizeRows("intercom_links", "intercom_links (company)", "object_type = 'company'"),
    await sizeRows("sync_logs", "sync_logs"),
    await sizeRows("sync_log_counts", "sync_log_counts"),
    await sizeRows("processed_notifications", "processed_notifications"),
  ];
  // What the three q-search indexes would cost without their `IS NOT NULL` condition (their earlier form).
  const logs = sized.find((s) => s.table === "sync_logs")!;
  const [logTwin, logRows] = [logs.twin, logs.rows];
  let logSize = await sizeNow();
  const fullIndexes: Record<string, number> = {};
  for (const column of ["email", "object_id", "intercom_id"]) {
    const after = await exec(`CREATE INDEX ${logTwin}_full_${column} ON ${logTwin} (connection_id, ${column}, id)`);
    fullIndexes[column] = (after - logSize) / logRows;
    logSize = after;
  }
  const nullShare = (await env.DB.prepare(
    "SELECT avg(email IS NULL) AS email, avg(object_id IS NULL) AS object_id, avg(intercom_id IS NULL) AS intercom_id FROM sync_logs",
  ).first<Record<string, number>>())!;

  // Rows the workload created, to compare the real growth with the packed sizes.
  const packed = sized.reduce((sum, s) => sum + s.totalBytes * s.rows, 0);
  const grown = endSize - startSize;
  const slack = grown / packed;

  // ---- The model.
  const bytesOf = (label: string) => sized.find((s) => s.table === label)!.totalBytes * slack;
  const phase = (kind: string) => phases.find((p) => p.kind === kind)!;
  const mean = (list: Phase[], key: "statements" | "roundTrips" | "rowsWritten") =>
    list.reduce((sum, p) => sum + p[key] * p.n, 0) / list.reduce((sum, p) => sum + p.n, 0);
  const perWebhook = {
    statements: mean(webhookPhases, "statements"),
    roundTrips: mean(webhookPhases, "roundTrips"),
    logRows: 0,
  };
  const logRowsWritten = (await env.DB.prepare("SELECT count(*) AS n FROM sync_logs WHERE connection_id = ?")
    .bind(connection.id)
    .first<{ n: number }>())!.n;
  const webhooks = webhookPhases.reduce((sum, p) => sum + p.n, 0);
  perWebhook.logRows = logRowsWritten / webhooks;
  const syncPhases = phases.filter((p) => p.kind.startsWith("destination sync"));
  const perSync = { statements: mean(syncPhases, "statements"), roundTrips: mean(syncPhases, "roundTrips") };
  const membership = TENANT.membershipsPerUser * bytesOf("memberships");
  // A CDP user synced to Intercom (100 properties mapped), and one captured from a wide Intercom contact: its link
  // holds what Intercom holds of it (every captured attribute), the larger of the two; the tenant uses it.
  const perIdentifiedUser =
    bytesOf("users (identified, 100 properties)") +
    bytesOf("intercom_links (contact, 100 mapped attributes)") +
    membership;
  const perUser = bytesOf("users (captured wide contact)") + bytesOf("intercom_links (contact, captured)") + membership;
  const logRowBytes = bytesOf("sync_logs");
  const eventBytes = bytesOf("events (data and chat events)");
  const logCap = DEFAULT_LOG_ROWS_PER_DAY;
  const tenantLogRowsPerDay = Math.min(
    logCap,
    TENANT.webhooksPerDay * perWebhook.logRows + TENANT.syncsPerDay * (2 / 3),
  );
  const tenantParts = {
    users: TENANT.users * perUser,
    accounts: TENANT.accounts * (bytesOf("accounts (captured wide company)") + bytesOf("intercom_links (company)")),
    events: TENANT.users * TENANT.eventsPerUserPerDay * TENANT.eventDays * eventBytes,
    "sync-log rows": tenantLogRowsPerDay * TENANT.retentionDays * logRowBytes,
    "idempotency keys (7 days)": TENANT.webhooksPerDay * 7 * bytesOf("processed_notifications"),
  };
  const tenantBytes = Object.values(tenantParts).reduce((a, b) => a + b, 0);
  const tenantQueriesPerSecond =
    ((TENANT.webhooksPerDay * perWebhook.statements + TENANT.syncsPerDay * perSync.statements) / 86_400) *
    TENANT.peakFactor;
  const tenantsByStorage = D1.bytes / tenantBytes;
  const tenantsByQueries = D1.queriesPerSecond / tenantQueriesPerSecond;
  const first = tenantsByStorage < tenantsByQueries ? "storage (10 GB)" : "queries (one writer)";

  const rows: BenchRow[] = [
    { metric: "D1 statements per webhook (mean of the mix)", value: round(perWebhook.statements, 2) },
    { metric: "D1 round trips per webhook (mean of the mix)", value: round(perWebhook.roundTrips, 2) },
    {
      metric: `D1 round trips per notification, queue batches of ${INBOUND_BATCH_SIZE} (the INBOUND consumer)`,
      value: round(batchPhase.roundTrips, 2),
    },
    {
      metric: `D1 statements per notification, queue batches of ${INBOUND_BATCH_SIZE}`,
      value: round(batchPhase.statements, 2),
    },
    { metric: "sync-log rows per webhook (mean of the mix)", value: round(perWebhook.logRows, 3) },
    { metric: "D1 statements per destination sync (mean)", value: round(perSync.statements, 2) },
    { metric: "D1 round trips per destination sync (mean)", value: round(perSync.roundTrips, 2) },
    { metric: "growth as written ÷ packed size", value: round(slack, 3) },
    {
      metric: "bytes per user captured from a wide contact (row + link + 1 membership)",
      value: Math.round(perUser),
      unit: "B",
    },
    {
      metric: "bytes per CDP user, 100 properties mapped (row + link + 1 membership)",
      value: Math.round(perIdentifiedUser),
      unit: "B",
    },
    { metric: "bytes per event (as grown)", value: Math.round(eventBytes), unit: "B" },
    { metric: "bytes per sync-log row (as grown)", value: Math.round(logRowBytes), unit: "B" },
    { metric: "users per database (captured wide contacts alone)", value: Math.round(D1.bytes / perUser) },
    { metric: "users per database (CDP users, 100 mapped, alone)", value: Math.round(D1.bytes / perIdentifiedUser) },
    { metric: "events per database (events alone)", value: Math.round(D1.bytes / eventBytes) },
    { metric: "sync-log rows per database (logs alone)", value: Math.round(D1.bytes / logRowBytes) },
    {
      metric: `sync-log storage of one connection at the cap (${logCap.toLocaleString("en-US")}/day × ${TENANT.retentionDays} days)`,
      value: round((logCap * TENANT.retentionDays * logRowBytes) / 1e6, 1),
      unit: "MB",
    },
    {
      metric: "webhooks/s per database (queries alone)",
      value: Math.round(D1.queriesPerSecond / perWebhook.statements),
    },
    {
      metric: "destination syncs/s per database (queries alone)",
      value: Math.round(D1.queriesPerSecond / perSync.statements),
    },
    {
      metric: "identifies/s per database (queries alone)",
      value: Math.round(D1.queriesPerSecond / phase("identify (one mapped property changed)").statements),
    },
    { metric: "reference tenant: bytes", value: round(tenantBytes / 1e6, 1), unit: "MB" },
    { metric: "reference tenant: peak queries/s", value: round(tenantQueriesPerSecond, 2) },
    { metric: "reference tenants per database by storage", value: Math.round(tenantsByStorage) },
    { metric: "reference tenants per database by queries", value: Math.round(tenantsByQueries) },
    { metric: "what runs out first (reference tenant)", value: first },
  ];
  record(task, {
    name: "capacity",
    title: "Capacity: bytes per row, D1 statements and round trips per webhook and sync, one database's capacity",
    notes: [
      "Statements and round trips through a counting D1 binding: a batch is one round trip, each statement in it a query.",
      "Bytes: growth of D1's meta.size_after when each table's rows are copied into a twin built from its own DDL, then each index created (packed); D1 refuses dbstat and PRAGMA page_count.",
      `As grown: the workload's real growth (${(grown / 1e6).toFixed(1)} MB) ÷ the packed sum; the model's bytes are packed × this ratio.`,
      `Model: one D1 database = ${D1.bytes / 1e9} GB and ~${D1.queriesPerSecond} queries/s (one writer, ~1 ms each); one query = one statement.`,
      `Reference tenant: ${JSON.stringify(TENANT)}; destination syncs write a row 2 times in 3 (create, update; the no-op is counted).`,
    ],
    params: {
      contacts: CONTACTS,
      companies: COMPANIES,
      attachments: ATTACHMENTS,
      events: EVENTS,
      chats: CHATS,
      duplicates: DUPLICATES,
      sync_users: SYNC_USERS,
      d1: D1,
      tenant: TENANT,
      log_rows: LOG_ROWS,
      counter_windows: COUNTER_WINDOWS,
      log_rows_per_day: logCap,
    },
    rows,
    tables: {
      "Per unit of work (means)": [...phases, batchPhase].map((p) => ({
        kind: p.kind,
        n: p.n,
        statements: round(p.statements, 2),
        "round trips": round(p.roundTrips, 2),
        "rows read": round(p.rowsRead, 1),
        "rows written": round(p.rowsWritten, 1),
        "bytes grown": Math.round(p.bytes),
      })),
      "Reference tenant's storage": Object.entries(tenantParts).map(([part, bytes]) => ({
        part,
        MB: round(bytes / 1e6, 1),
        share: `${Math.round((bytes / tenantBytes) * 100)} %`,
      })),
      "Bytes per row (packed)": sized.map((s) => ({
        table: s.table,
        rows: s.rows,
        table_bytes: Math.round(s.tableBytes),
        index_bytes: Math.round(s.totalBytes - s.tableBytes),
        total: Math.round(s.totalBytes),
        "as grown": Math.round(s.totalBytes * slack),
        indexes: Object.entries(s.indexes)
          .map(([name, bytes]) => `${name} ${Math.round(bytes)}`)
          .join(", "),
      })),
      "Statements of an update sync, most rows read first (totals over the phase)": updateStatements.map(
        (statement) => ({
          calls: statement.calls,
          "rows read": statement.rowsRead,
          "rows written": statement.rowsWritten,
          sql: statement.sql.length > 140 ? `${statement.sql.slice(0, 140)}…` : statement.sql,
        }),
      ),
      "sync_logs q-search indexes: partial (now) vs full (before), bytes per row": [
        "email",
        "object_id",
        "intercom_id",
      ].map((column) => ({
        index: `sync_logs_${column}`,
        "NULL share": round(nullShare[column] ?? 0, 3),
        partial: Math.round(logs.indexes[`sync_logs_${column}`] ?? 0),
        full: Math.round(fullIndexes[column] ?? 0),
      })),
    },
  });
  if (SMOKE) progress("smoke sizes: the figures are not meaningful");
});
