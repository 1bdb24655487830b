#!/usr/bin/env node
// Benchmark 1, the ack path, against `wrangler dev` with local bindings, as a user runs it:
//   1. a temporary persistence directory; .dev.vars when the checkout has one, else a temporary copy of
//      .dev.vars.example (passed with --env-file); D1 migrations applied there; a connection seeded for the
//      webhooks' app_id (source on, destination off) with `wrangler d1 execute`;
//   2. `wrangler dev` on a free port (its own process group, killed at the end whatever happens);
//   3. a closed-loop load generator (Node's fetch, keep-alive, `--concurrency` requests in flight): GET /healthz for
//      `--seconds`, then signed contact.user.updated webhooks (~3 KB, a fresh notification id and contact each) for
//      `--seconds`, then /healthz again while the queue consumer works through the backlog (shown, not judged);
//   4. waits for the INBOUND consumer and counts processed_notifications and users: every accepted webhook must be
//      captured.
// Prints a table and writes test/bench/results/ack-path.json.
//
//   5. diagnostic, not judged: the same load on a wrangler dev whose INBOUND queue has no consumer (a temporary copy of
//      wrangler.toml), and wrongly signed webhooks (401), to show where the ack path's time goes.
//
//   node test/bench/ack-path.mjs [--smoke] [--concurrency 8] [--seconds 10] [--no-diagnostic] [--state-dir /dev/shm] [--keep]
import { createHmac, randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { appRoot, benchSession, devVars, snapshotApp, sqlString, wranglerSync } from "./local-worker.mjs";
import { ROOT, writeResult } from "./report.mjs";

const { values: args } = parseArgs({
  options: {
    smoke: { type: "boolean", default: process.env.BENCH_SMOKE === "1" },
    concurrency: { type: "string" },
    seconds: { type: "string" },
    keep: { type: "boolean", default: false },
    "no-diagnostic": { type: "boolean", default: false },
    "state-dir": { type: "string" },
  },
});
const SMOKE = args.smoke;
const CONCURRENCY = Number(args.concurrency ?? 8);
const SECONDS = Number(args.seconds ?? (SMOKE ? 2 : 10));
const WARMUP_SECONDS = SMOKE ? 1 : 3;
const APP_ID = "benchapp";
const WORKSPACE_ID = "ws_bench_ack";
const CONNECTION_ID = "conn_bench_ack";

// --state-dir: where the local state lives (e.g. /dev/shm, to see what the disk costs); the system's temp dir by default.
const session = benchSession({ prefix: "intercom-bench-ack-", keep: args.keep, baseDir: args["state-dir"] });
const { tmp, persist, d1 } = session;
let dev = null;

/** A contact.user.updated notification of a few KB for contact number `i`, compact JSON as Intercom sends it. */
const fixture = JSON.parse(
  readFileSync(path.join(ROOT, "test", "fixtures", "intercom", "contact.user.updated.json"), "utf8"),
);
const runId = randomUUID().slice(0, 8);
function webhookBody(i) {
  const envelope = structuredClone(fixture);
  const item = envelope.data.item;
  const id = (0x6a000000 + i).toString(16).padStart(24, "0");
  envelope.app_id = APP_ID;
  envelope.id = `notif_${runId}_${i}`;
  envelope.created_at = Math.floor(Date.now() / 1000);
  item.id = id;
  item.workspace_id = APP_ID;
  item.external_id = `bench-${runId}-${i}`;
  item.email = `bench.${runId}.${i}@example.com`;
  item.name = `Bench Contact ${i}`;
  item.updated_at = new Date().toISOString();
  item.custom_attributes = {
    seats: 15,
    beta_tester: true,
    plan: "Scale",
    health_score: 0.82,
    stage: "customer",
    mrr: 1499,
    region: "EMEA",
    nps: 9,
  };
  item.tags = {
    type: "list",
    data: [
      { type: "tag", id: "7002311", url: "/tags/7002311" },
      { type: "tag", id: "7002312", url: "/tags/7002312" },
    ],
    url: `/contacts/${id}/tags`,
    total_count: 2,
    has_more: false,
  };
  item.companies = {
    type: "list",
    data: [{ type: "company", id: "6a1f10aa5e6f7a8b9c0d1e2f", url: "/companies/6a1f10aa5e6f7a8b9c0d1e2f" }],
    url: `/contacts/${id}/companies`,
    total_count: 1,
    has_more: false,
  };
  return JSON.stringify(envelope);
}

function wranglerMigrate() {
  wranglerSync(["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist]);
}

function percentile(values, p) {
  if (!values.length) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** A closed loop: `concurrency` lanes each sending `request()` back to back for `seconds`. */
async function phase(name, request, seconds) {
  const latencies = [];
  const statuses = new Map();
  let errors = 0;
  let accepted = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          const response = await request();
          await response.arrayBuffer();
          latencies.push(performance.now() - t0);
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          if (response.status === 200) accepted++;
          else errors++;
        } catch (error) {
          errors++;
          statuses.set(
            `network: ${error.cause?.code ?? error.message}`,
            (statuses.get(`network: ${error.cause?.code ?? error.message}`) ?? 0) + 1,
          );
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const requests =
    latencies.length +
    [...statuses.entries()].filter(([key]) => String(key).startsWith("network")).reduce((sum, [, n]) => sum + n, 0);
  const result = {
    name,
    requests,
    accepted,
    errors,
    rps: requests / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    statuses: Object.fromEntries(statuses),
  };
  console.log(
    `[bench] ${name}: ${requests} requests, ${result.rps.toFixed(0)} req/s, p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, ${errors} errors`,
  );
  return result;
}

const round = (value, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

async function main() {
  // 1. A snapshot of the app, vars, migrations, the connection for the webhooks' app.
  snapshotApp(path.join(tmp, "app"));
  const vars = devVars(tmp);
  const secret = vars.vars.INTERCOM_CLIENT_SECRET;
  if (!secret) throw new Error(`INTERCOM_CLIENT_SECRET is not set in ${vars.file}`);
  wranglerMigrate();
  const now = Date.now();
  const source = {
    enabled: true,
    capture_chat_events: true,
    capture_user_events: true,
    create_users_from_contacts: true,
    create_accounts_from_companies: true,
    capture_relationships: true,
  };
  const destination = { enabled: false, segments: [], allow_create: false, mappings: { contact: [], company: [] } };
  d1(
    `INSERT INTO connections (id, workspace_id, name, status, app_id, app_name, region, token_jwe, source, destination, version, created_at, updated_at) VALUES (${[
      CONNECTION_ID,
      WORKSPACE_ID,
      "Bench connection",
      "connected",
      APP_ID,
      "Bench workspace",
      "US",
    ]
      .map(sqlString)
      .join(
        ", ",
      )}, NULL, ${sqlString(JSON.stringify(source))}, ${sqlString(JSON.stringify(destination))}, 0, ${now}, ${now})`,
  );

  // 2. wrangler dev (no Intercom is called: the destination is off; INTERCOM_API_BASE points nowhere to be sure).
  dev = await session.start({
    args: ["--persist-to", persist, "--var", "INTERCOM_API_BASE:http://127.0.0.1:9", ...vars.args],
    logFile: path.join(tmp, "wrangler-dev.log"),
  });
  const { base, readyMs } = dev;
  console.log(`[bench] wrangler dev answered /healthz ${(readyMs / 1000).toFixed(1)} s after it was started`);

  // 3. Load.
  let serial = 0;
  let bodyBytes = 0;
  const healthzOf = (origin) => () => fetch(`${origin}/healthz`);
  const webhookOf =
    (origin, key = secret) =>
    () => {
      const body = webhookBody(serial++);
      bodyBytes = Buffer.byteLength(body);
      const signature = `sha1=${createHmac("sha1", key).update(body).digest("hex")}`;
      return fetch(`${origin}/webhooks/intercom`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json",
          "user-agent": "intercom-parrot-service-client/1.0",
          "x-hub-signature": signature,
        },
        body,
      });
    };
  const healthz = healthzOf(base);
  const webhook = webhookOf(base);
  const warmHealth = await phase("warm-up /healthz", healthz, WARMUP_SECONDS);
  const warmHooks = await phase("warm-up webhooks", webhook, WARMUP_SECONDS);
  const health = await phase("GET /healthz", healthz, SECONDS);
  const hooks = await phase("POST /webhooks/intercom", webhook, SECONDS);
  const lastAcceptedAt = performance.now();
  const healthAfter = await phase("GET /healthz during the backlog", healthz, SECONDS);
  const accepted = warmHooks.accepted + hooks.accepted;

  // 4. Every accepted webhook captured.
  let processed = 0;
  let users = 0;
  let lastChange = performance.now();
  const deadline = performance.now() + 15 * 60_000;
  while (performance.now() < deadline) {
    const [row] = d1(
      `SELECT (SELECT count(*) FROM processed_notifications WHERE key LIKE '${APP_ID}:%') AS processed, (SELECT count(*) FROM users WHERE workspace_id = '${WORKSPACE_ID}') AS users`,
    );
    if (row.processed !== processed) lastChange = performance.now();
    processed = row.processed;
    users = row.users;
    if (processed >= accepted || performance.now() - lastChange > 60_000) break;
    await new Promise((resolve) => setTimeout(resolve, 3_000));
  }
  const captureSeconds = (performance.now() - lastAcceptedAt) / 1000;
  console.log(
    `[bench] ${processed} of ${accepted} accepted webhooks processed, ${users} users, ${captureSeconds.toFixed(0)} s after the last one`,
  );
  const failed = d1(
    `SELECT count(*) AS n FROM sync_logs WHERE connection_id = '${CONNECTION_ID}' AND outcome = 'failed'`,
  )[0].n;
  await dev.stop();

  // 5. Diagnostic (not judged): the same load on a wrangler dev whose INBOUND queue has no consumer, so the ack path
  // does not share workerd's one thread with the capture of what it accepts; plus wrongly signed webhooks (401: the
  // body read and HMAC check only).
  let diagnostic = [];
  if (!args["no-diagnostic"]) {
    const config = path.join(tmp, "wrangler.no-inbound-consumer.toml");
    writeFileSync(
      config,
      readFileSync(path.join(appRoot(), "wrangler.toml"), "utf8")
        .replace('main = "src/index.ts"', `main = ${JSON.stringify(path.join(appRoot(), "src", "index.ts"))}`)
        .replace(
          'migrations_dir = "migrations"',
          `migrations_dir = ${JSON.stringify(path.join(appRoot(), "migrations"))}`,
        )
        .replace(/\[\[queues\.consumers\]\]\nqueue = "intercom-inbound"\n(?:[a-z_]+ = .*\n)+/, ""),
    );
    dev = await session.start({
      args: [
        "--config",
        config,
        "--persist-to",
        persist,
        "--var",
        "INTERCOM_API_BASE:http://127.0.0.1:9",
        "--env-file",
        vars.file,
      ],
      logFile: path.join(tmp, "wrangler-dev-no-consumer.log"),
    });
    await phase("warm-up (no consumer)", healthzOf(dev.base), WARMUP_SECONDS);
    await phase("warm-up webhooks (no consumer)", webhookOf(dev.base), WARMUP_SECONDS);
    diagnostic = [
      await phase("GET /healthz, no consumer", healthzOf(dev.base), SECONDS),
      await phase("POST /webhooks/intercom, no consumer", webhookOf(dev.base), SECONDS),
      await phase("POST wrongly signed (401), no consumer", webhookOf(dev.base, "not-the-secret"), SECONDS),
    ];
    await dev.stop();
  }

  const ratio = hooks.rps / health.rps;
  const errors = health.errors + hooks.errors + warmHooks.errors;
  const phaseRow = (p) => ({
    phase: p.name,
    requests: p.requests,
    "req/s": round(p.rps, 1),
    "p50 ms": round(p.p50),
    "p99 ms": round(p.p99),
    errors: p.errors,
    statuses: JSON.stringify(p.statuses),
  });
  writeResult({
    name: "ack-path",
    title: "Ack path: signed webhooks vs /healthz on wrangler dev",
    smoke: SMOKE,
    notes: [
      `wrangler dev (local D1, queues, Durable Objects) on 127.0.0.1; ${CONCURRENCY} requests in flight from one Node process (fetch, keep-alive);`,
      `phases of ${SECONDS} s after ${WARMUP_SECONDS} s warm-ups; webhooks are contact.user.updated, ${bodyBytes} bytes, HMAC-SHA1 signed, each a new notification and contact.`,
      "Ratio = webhook req/s ÷ the first /healthz phase's req/s; the later /healthz phase runs while the consumer drains the backlog (not judged).",
      "Captured = processed_notifications rows of the app (the consumer's idempotency record) after the queue drained; users = CDP users created from them.",
      "The load generator shares the machine's cores with workerd and wrangler.",
    ],
    params: {
      concurrency: CONCURRENCY,
      seconds: SECONDS,
      warmup_seconds: WARMUP_SECONDS,
      body_bytes: bodyBytes,
      vars: vars.label,
      state_dir: path.dirname(tmp),
    },
    rows: [
      { metric: "/healthz req/s", value: round(health.rps, 1) },
      { metric: "/healthz p50 / p99", value: `${round(health.p50)} / ${round(health.p99)}`, unit: "ms" },
      { metric: "webhook req/s", value: round(hooks.rps, 1) },
      { metric: "webhook p50 / p99", value: `${round(hooks.p50)} / ${round(hooks.p99)}`, unit: "ms" },
      { metric: "webhook rate ÷ healthz rate", value: round(ratio, 3), goal: "≥ 0.5", pass: ratio >= 0.5 },
      { metric: "errors (both routes, warm-up webhooks included)", value: errors, goal: "0", pass: errors === 0 },
      { metric: "webhooks accepted (200)", value: accepted },
      {
        metric: "webhooks captured (processed_notifications)",
        value: processed,
        goal: `= ${accepted}`,
        pass: processed === accepted,
      },
      { metric: "users created from them", value: users },
      { metric: "consumer failures (sync_logs 'failed')", value: failed },
      { metric: "backlog drained after the last webhook", value: round(captureSeconds, 0), unit: "s" },
      { metric: "capture throughput while draining", value: round(accepted / captureSeconds, 1), unit: "webhooks/s" },
      { metric: "wrangler dev start → first /healthz 200", value: round(readyMs / 1000, 1), unit: "s" },
      ...(diagnostic.length
        ? [
            {
              metric: "diagnostic, INBOUND consumer detached: webhook ÷ healthz rate",
              value: round(diagnostic[1].rps / diagnostic[0].rps, 3),
            },
            {
              metric: "diagnostic: wrongly signed (401) ÷ healthz rate",
              value: round(diagnostic[2].rps / diagnostic[0].rps, 3),
            },
          ]
        : []),
    ],
    tables: { Phases: [warmHealth, warmHooks, health, hooks, healthAfter, ...diagnostic].map(phaseRow) },
  });
}

await session.run(main);
