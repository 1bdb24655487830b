/**
 * Benchmark 4, cost at scale: D1 rows read and written (D1's own `meta.rows_read` / `meta.rows_written`, what D1
 * bills) per processed webhook and per ingest write, in a workspace of 1,000 users and in one of 100,000.
 *
 * Two workspaces in one database: the first seeded with 1,000 users and measured, then the second seeded with
 * 100,000 and measured (the database then holds 101,000). Both carry the same shape of history: every user linked
 * to an Intercom contact, one account per 100 users (100 members each), 2 captured events, 3 processed
 * notifications and 3 sync-log rows per user. Seeding uses single INSERT … SELECT statements over a recursive CTE,
 * outside the counter.
 *
 * Measured through a counting D1 binding (counting-d1.ts): `processNotification(database(counter), …)` exactly as
 * the INBOUND consumer calls it for one message (the consumer's connection lookup, once per batch of 25, is not
 * included), and the ingest functions behind the routes with `{ ...env, DB: counter, OUTBOUND: stub }` (a stub queue,
 * so no sync runs in the background), plus the user JSON the identify route answers with.
 */
import { env } from "cloudflare:workers";
import { it } from "vitest";
import { userJson } from "../../src/api/ingest/users";
import { inboundMessageOf, readEnvelope } from "../../src/api/intercom-webhook/envelope";
import { database } from "../../src/db/client";
import { acceptAction } from "../../src/destination/actions";
import { identifyUser, setMembership, upsertAccount } from "../../src/destination/ingest";
import type { Env } from "../../src/env";
import { processNotification } from "../../src/source/process";
import type { SourceConnection } from "../../src/source/work";
import { seedConnection } from "../helpers/connections";
import { type FixtureName, type Item, notification } from "../helpers/webhooks";
import { D1Counter, type D1Totals } from "./counting-d1";
import { type BenchRow, goalRow, prng, progress, record, round, SMOKE, size } from "./support";

const SCALES = SMOKE ? [200, 2_000] : [1_000, 100_000];
const WEBHOOKS = size(400, 40);
const WRITES_PER_KIND = size(60, 6);
const SEED_TIME = Date.parse("2025-06-01T00:00:00Z");
const contactId = (pk: number) => pk.toString(16).padStart(24, "0");
const companyId = (pk: number) => `c${pk.toString(16).padStart(23, "0")}`;

interface Scale {
  users: number;
  workspaceId: string;
  connection: SourceConnection;
  /** pk of user n is firstUserPk + n - 1 (seeded in order). */
  firstUserPk: number;
  firstAccountPk: number;
  accounts: number;
}

async function run(sql: string, ...params: unknown[]) {
  return env.DB.prepare(sql)
    .bind(...params)
    .run();
}

/** Seeds a workspace of `users` users with its history (see the header). */
async function seed(users: number): Promise<Scale> {
  const started = Date.now();
  const workspaceId = `ws_cost_${users}`;
  const row = await seedConnection({
    workspaceId,
    appId: `app_cost_${users}`,
    destination: { enabled: true, allow_create: true },
  });
  const accounts = Math.max(1, Math.floor(users / 100));
  const seq = (n: number) => `WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ${n})`;
  await run(
    `${seq(users)} INSERT INTO users (workspace_id, user_id, email, properties, segments, version, created_at, updated_at)
     SELECT ?1, 'u-' || n, 'user' || n || '@example.com',
            json_object('full_name', 'User ' || n, 'plan', 'pro', 'health', 0.5), '[]', 0, ?2, ?2 FROM s`,
    workspaceId,
    SEED_TIME,
  );
  await run(
    `${seq(accounts)} INSERT INTO accounts (workspace_id, account_id, name, properties, version, created_at, updated_at)
     SELECT ?1, 'a-' || n, 'Account ' || n, json_object('plan', 'Scale', 'mrr', 1000 + n), 0, ?2, ?2 FROM s`,
    workspaceId,
    SEED_TIME,
  );
  const firstUserPk = (await env.DB.prepare("SELECT min(pk) AS pk FROM users WHERE workspace_id = ?")
    .bind(workspaceId)
    .first<{ pk: number }>())!.pk;
  const firstAccountPk = (await env.DB.prepare("SELECT min(pk) AS pk FROM accounts WHERE workspace_id = ?")
    .bind(workspaceId)
    .first<{ pk: number }>())!.pk;
  await run(
    `INSERT INTO intercom_links (connection_id, object_type, local_pk, intercom_id, remote_updated_at, remote_state, updated_at)
     SELECT ?1, 'contact', pk, printf('%024x', pk), ?2,
            json_object('email', email, 'external_id', user_id, 'role', 'user', 'name', json_extract(properties, '$.full_name')), ?2
     FROM users WHERE workspace_id = ?3`,
    row.id,
    SEED_TIME,
    workspaceId,
  );
  await run(
    `INSERT INTO intercom_links (connection_id, object_type, local_pk, intercom_id, remote_updated_at, remote_state, updated_at)
     SELECT ?1, 'company', pk, 'c' || printf('%023x', pk), ?2, json_object('company_id', account_id, 'name', name), ?2
     FROM accounts WHERE workspace_id = ?3`,
    row.id,
    SEED_TIME,
    workspaceId,
  );
  await run(
    `INSERT INTO memberships (user_pk, account_pk, workspace_id, created_at)
     SELECT pk, ?1 + ((pk - ?2) % ?3), ?4, ?5 FROM users WHERE workspace_id = ?4`,
    firstAccountPk,
    firstUserPk,
    accounts,
    workspaceId,
    SEED_TIME,
  );
  await run(
    `INSERT INTO events (workspace_id, user_pk, connection_id, name, properties, occurred_at, source, dedupe_key, created_at)
     SELECT ?1, pk, ?2, 'seeded-event', '{}', ?3 - k * 1000, 'intercom', 'seed:' || ?2 || ':' || pk || ':' || k, ?3
     FROM users, (SELECT 1 AS k UNION ALL SELECT 2) WHERE workspace_id = ?1`,
    workspaceId,
    row.id,
    SEED_TIME,
  );
  await run(
    `INSERT INTO processed_notifications (key, processed_at)
     SELECT ?1 || ':seed-' || pk || '-' || k, ?2 FROM users, (SELECT 1 AS k UNION ALL SELECT 2 UNION ALL SELECT 3) WHERE workspace_id = ?3`,
    row.appId,
    SEED_TIME,
    workspaceId,
  );
  await run(
    `INSERT INTO sync_logs (connection_id, workspace_id, direction, outcome, object_type, object_id, intercom_id, email, action, detail, created_at)
     SELECT ?1, ?2, CASE k WHEN 1 THEN 'in' ELSE 'out' END, 'synced', 'contact', user_id, printf('%024x', pk), email,
            'contact.user.updated', 'seeded', ?3
     FROM users, (SELECT 1 AS k UNION ALL SELECT 2 UNION ALL SELECT 3) WHERE workspace_id = ?2`,
    row.id,
    workspaceId,
    SEED_TIME,
  );
  progress(`seeded ${users.toLocaleString("en-US")} users in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return {
    users,
    workspaceId,
    firstUserPk,
    firstAccountPk,
    accounts,
    connection: { id: row.id, workspaceId, appId: row.appId, source: row.source, destination: row.destination },
  };
}

type WebhookKind =
  | "contact updated"
  | "contact created"
  | "company updated"
  | "data event"
  | "chat started"
  | "company attached";
const MIX: Array<[WebhookKind, number]> = [
  ["contact updated", 0.4],
  ["contact created", 0.15],
  ["company updated", 0.1],
  ["data event", 0.15],
  ["chat started", 0.1],
  ["company attached", 0.1],
];

function pick<T>(random: () => number, mix: Array<[T, number]>): T {
  let r = random();
  for (const [value, weight] of mix) {
    if ((r -= weight) < 0) return value;
  }
  return mix.at(-1)![0];
}

/** The notification the consumer would receive (projected exactly as the ack path does). */
function queued(name: FixtureName, appId: string, edit: (item: Item) => void) {
  const envelope = notification(name, { appId, edit });
  const check = readEnvelope(envelope);
  if (!check.ok) throw new Error(check.detail);
  return inboundMessageOf({ ...check.envelope, id: check.envelope.id! }, Date.now()).notification;
}

function contactItem(item: Item, scale: Scale, n: number, name: string) {
  const pk = scale.firstUserPk + n - 1;
  item.id = contactId(pk);
  item.external_id = `u-${n}`;
  item.email = `user${n}@example.com`;
  item.name = name;
  item.updated_at = new Date().toISOString();
  return pk;
}

function webhookOf(kind: WebhookKind, scale: Scale, random: () => number, serial: number) {
  const n = 1 + Math.floor(random() * scale.users);
  const account = 1 + Math.floor(random() * scale.accounts);
  const accountPk = scale.firstAccountPk + account - 1;
  const appId = scale.connection.appId;
  switch (kind) {
    case "contact updated":
      return queued(
        "contact.user.updated",
        appId,
        (item) => void contactItem(item, scale, n, `User ${n} renamed ${serial}`),
      );
    case "contact created":
      return queued("contact.user.created", appId, (item) => {
        item.id = `new${serial.toString(16).padStart(21, "0")}`;
        item.external_id = `new-${scale.users}-${serial}`;
        item.email = `new${serial}.${scale.users}@example.com`;
        item.updated_at = new Date().toISOString();
      });
    case "company updated":
      return queued("company.updated", appId, (item) => {
        item.id = companyId(accountPk);
        item.company_id = `a-${account}`;
        item.name = `Account ${account} renamed ${serial}`;
        item.updated_at = new Date().toISOString();
      });
    case "data event":
      return queued("event.created", appId, (item) => {
        item.intercom_user_id = contactId(scale.firstUserPk + n - 1);
        item.user_id = `u-${n}`;
        item.email = `user${n}@example.com`;
        item.id = crypto.randomUUID();
        item.created_at = Math.floor(Date.now() / 1000) + serial;
      });
    case "chat started":
      return queued("conversation.user.created", appId, (item) => {
        const id = contactId(scale.firstUserPk + n - 1);
        item.id = String(900000000 + serial);
        item.source.author = { type: "user", id, name: `User ${n}`, email: `user${n}@example.com` };
        item.contacts.contacts = [{ type: "contact", id, external_id: `u-${n}` }];
      });
    case "company attached":
      return queued("company.contact.attached", appId, (item) => {
        contactItem(item.contact, scale, n, `User ${n}`);
        item.company.id = companyId(accountPk);
        item.company.company_id = `a-${account}`;
        item.company.name = `Account ${account}`;
      });
  }
}

interface Sample {
  kind: string;
  read: number;
  written: number;
}

function delta(before: D1Totals, after: D1Totals) {
  return { read: after.rowsRead - before.rowsRead, written: after.rowsWritten - before.rowsWritten };
}

async function measureWebhooks(scale: Scale, counter: D1Counter): Promise<Sample[]> {
  const random = prng(42);
  const db = database(counter.db);
  const samples: Sample[] = [];
  for (let i = 0; i < WEBHOOKS; i++) {
    const kind = pick(random, MIX);
    const message = webhookOf(kind, scale, random, i);
    const before = counter.snapshot();
    const entries = await processNotification(db, scale.connection, message, "webhook", Date.now());
    if (entries.some((entry) => entry.outcome === "failed"))
      throw new Error(`${kind} failed: ${JSON.stringify(entries)}`);
    samples.push({ kind, ...delta(before, counter.snapshot()) });
  }
  return samples;
}

async function measureWrites(scale: Scale, counter: D1Counter): Promise<Sample[]> {
  const random = prng(7);
  let sent = 0;
  const outbound = {
    send: async () => void sent++,
    sendBatch: async (messages: unknown[]) => void (sent += messages.length),
  };
  const countedEnv = { ...env, DB: counter.db, OUTBOUND: outbound } as unknown as Env;
  const ws = scale.workspaceId;
  const user = () => 1 + Math.floor(random() * scale.users);
  const kinds: Array<[string, (i: number) => Promise<unknown>]> = [
    [
      "identify: mapped change",
      (i) => identifyUser(countedEnv, ws, { user_id: `u-${user()}`, properties: { full_name: `Renamed ${i}` } }),
    ],
    [
      "identify: no-op",
      () => {
        const n = user();
        return identifyUser(countedEnv, ws, { user_id: `u-${n}`, properties: { plan: "pro" } });
      },
    ],
    [
      "identify: new user",
      (i) =>
        identifyUser(countedEnv, ws, {
          user_id: `w-${scale.users}-${i}`,
          email: `w${i}.${scale.users}@example.com`,
          properties: { full_name: `New ${i}` },
        }),
    ],
    [
      "identify answer (userJson)",
      async () => {
        const found = await env.DB.prepare("SELECT pk FROM users WHERE workspace_id = ? AND user_id = ?")
          .bind(ws, `u-${user()}`)
          .first<{ pk: number }>();
        const row = await database(env.DB).query.users.findFirst({ where: (users, { eq }) => eq(users.pk, found!.pk) });
        return userJson({ db: database(counter.db), control: database(counter.db) }, row!);
      },
    ],
    [
      "account upsert: change",
      (i) =>
        upsertAccount(countedEnv, ws, `a-${1 + Math.floor(random() * scale.accounts)}`, {
          properties: { mrr: 5000 + i },
        }),
    ],
    [
      "link user to account",
      () => {
        // Seeded user n belongs to account ((n - 1) % accounts) + 1: link it to the next one, a new membership.
        const n = user();
        return setMembership(countedEnv, ws, `a-${(n % scale.accounts) + 1}`, `u-${n}`, true);
      },
    ],
    ["action: add_tag", () => acceptAction(countedEnv, ws, { user_id: `u-${user()}`, type: "add_tag", tag: "vip" })],
  ];
  const samples: Sample[] = [];
  for (const [kind, write] of kinds) {
    for (let i = 0; i < WRITES_PER_KIND; i++) {
      const before = counter.snapshot();
      await write(i);
      samples.push({ kind, ...delta(before, counter.snapshot()) });
    }
  }
  return samples;
}

function summarize(samples: Sample[]) {
  const kinds = [...new Set(samples.map((sample) => sample.kind))];
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  return kinds.map((kind) => {
    const of = samples.filter((sample) => sample.kind === kind);
    return {
      kind,
      n: of.length,
      rowsRead: mean(of.map((sample) => sample.read)),
      rowsWritten: mean(of.map((sample) => sample.written)),
      maxRead: Math.max(...of.map((sample) => sample.read)),
    };
  });
}

const mean = (samples: Sample[], key: "read" | "written") =>
  samples.reduce((sum, sample) => sum + sample[key], 0) / samples.length;

it("D1 rows per webhook and per ingest write at 1k and 100k users", async ({ task }) => {
  const counter = new D1Counter(env.DB);
  const results: Array<{
    scale: Scale;
    webhooks: Sample[];
    writes: Sample[];
    top: ReturnType<D1Counter["statements"]>;
  }> = [];
  for (const users of SCALES) {
    const scale = await seed(users);
    counter.reset();
    const webhooks = await measureWebhooks(scale, counter);
    const writes = await measureWrites(scale, counter);
    results.push({ scale, webhooks, writes, top: counter.statements().slice(0, 8) });
    progress(
      `measured ${WEBHOOKS} webhooks and ${writes.length} ingest writes at ${users.toLocaleString("en-US")} users`,
    );
  }
  const [small, large] = results as [(typeof results)[0], (typeof results)[0]];
  const label = (n: number) => (n >= 1000 ? `${n / 1000}k` : String(n));
  const [s, l] = [label(small.scale.users), label(large.scale.users)];
  const webhookRead = [mean(small.webhooks, "read"), mean(large.webhooks, "read")] as const;
  const writeRead = [mean(small.writes, "read"), mean(large.writes, "read")] as const;
  const rows: BenchRow[] = [
    goalRow(`rows read per webhook, ${s} users (mean)`, webhookRead[0], "≤ 20", (v) => v <= 20),
    goalRow(`rows read per webhook, ${l} users (mean)`, webhookRead[1], "≤ 20", (v) => v <= 20),
    goalRow(`webhook rows read ratio ${l}/${s}`, webhookRead[1] / webhookRead[0], "≤ 1.2", (v) => v <= 1.2),
    { metric: `rows written per webhook, ${s} users (mean)`, value: round(mean(small.webhooks, "written")) },
    { metric: `rows written per webhook, ${l} users (mean)`, value: round(mean(large.webhooks, "written")) },
    { metric: `max rows read by one webhook, ${l} users`, value: Math.max(...large.webhooks.map((x) => x.read)) },
    { metric: `rows read per ingest write, ${s} users (mean)`, value: round(writeRead[0]) },
    { metric: `rows read per ingest write, ${l} users (mean)`, value: round(writeRead[1]) },
    goalRow(`ingest rows read ratio ${l}/${s}`, writeRead[1] / writeRead[0], "≤ 1.2", (v) => v <= 1.2),
    { metric: `rows written per ingest write, ${s} users (mean)`, value: round(mean(small.writes, "written")) },
    { metric: `rows written per ingest write, ${l} users (mean)`, value: round(mean(large.writes, "written")) },
  ];
  const byKind = (samplesOf: (r: (typeof results)[0]) => Sample[]) => {
    const a = summarize(samplesOf(small));
    const b = summarize(samplesOf(large));
    return a.map((x, i) => ({
      kind: x.kind,
      n: x.n,
      [`read ${s}`]: round(x.rowsRead, 2),
      [`read ${l}`]: round(b[i]!.rowsRead, 2),
      [`max read ${l}`]: b[i]!.maxRead,
      [`written ${s}`]: round(x.rowsWritten, 2),
      [`written ${l}`]: round(b[i]!.rowsWritten, 2),
    }));
  };
  record(task, {
    name: "d1-cost",
    title: "Cost at scale: D1 rows per webhook and per ingest write",
    notes: [
      "Rows read/written are D1's meta.rows_read / meta.rows_written summed over every statement of one operation.",
      "Webhook = processNotification() for one queued notification (the consumer's per-batch connection lookup excluded).",
      `Webhook mix: ${MIX.map(([kind, weight]) => `${kind} ${Math.round(weight * 100)}%`).join(", ")}; existing users and accounts picked at random.`,
      "Ingest write = identifyUser / upsertAccount / setMembership / acceptAction with a stub OUTBOUND queue; 'identify answer' is the user JSON the PUT /v1/users route answers with.",
      `Each scale is its own workspace with the same history per user; the ${l} workspace is measured in a database that also holds the ${s} one.`,
    ],
    params: {
      scales: SCALES,
      webhooks_per_scale: WEBHOOKS,
      writes_per_kind: WRITES_PER_KIND,
      mix: Object.fromEntries(MIX),
    },
    rows,
    tables: {
      "Webhooks by kind (mean rows per webhook)": byKind((r) => r.webhooks),
      "Ingest writes by kind (mean rows per write)": byKind((r) => r.writes),
      [`Statements reading the most rows, ${l} users (totals over the run)`]: large.top.map((statement) => ({
        calls: statement.calls,
        "rows read": statement.rowsRead,
        "rows written": statement.rowsWritten,
        sql: statement.sql.length > 140 ? `${statement.sql.slice(0, 140)}…` : statement.sql,
      })),
    },
  });
});
