#!/usr/bin/env node
import { execFile, execFileSync } from "node:child_process";
// Benchmark 9, priority lanes and fair tenants (issue 14 §3 and §5): how long a real-time change takes to reach
// Intercom while bulk work (a resync, a webhook storm) runs, against a simulator rate limit that binds. The whole
// product runs locally as `npm run dev` runs it: the simulator Worker and the connector, each under `wrangler dev`.
//
// Real-time probe (every phase that reports time-to-Intercom): `--hot` users (20) identified through PUT /v1/users and
// synced before anything is measured; then every 500 ms one of them (round robin) gets a new integer `score` (a mapped
// property, a value never sent before) through PUT /v1/users. Time-to-Intercom = from that PUT's answer to the arrival,
// in the simulator's journal, of the 2xx PUT /contacts/{id} carrying that score (or a later one of the same user:
// a newer value supersedes an older one still waiting, as the contact's object coalesces them). The journal's `at` is
// the simulator's arrival time on the same machine's clock; the simulator applies a call within milliseconds of it.
//
// Part A (§3, one workspace): baseline of the probe for `--baseline` seconds with nothing else running; then `--users`
// (3,000) users not in Intercom are inserted into D1 and resynced (POST /v1/connections/:id/resync) against `--limit`
// (25) calls per 1 s window while the probe runs until the job is done. Then, on a fresh connector, the same resync in
// another workspace with nothing else running: the resync's use of the budget when nothing else waits.
// Part B (§5, two workspaces, each its own simulator workspace, limit and connection): B's probe alone, then A resyncs
// `--users` users and receives `--webhooks` (2,000) signed contact.user.updated webhooks (8 in flight) while B's probe
// runs until A's job is done and every webhook is captured.
// Each part runs on its own connector process with its own local state: a local workerd holds at most ~4,700
// SQLite-backed objects (test/bench/README.md), and each resync makes one `ContactSync` object per user.
//
// Budget use = accepted calls ÷ (limit × every 1 s window from the workspace's first call after the resync started to
// its last); the resync's share leaves out the probe's own calls. 429 share = simulator 429s ÷ calls made.
//
//   node test/bench/lanes.mjs [--smoke] [--users 3000] [--limit 25] [--hot 20] [--baseline 30] [--webhooks 2000]
//                            [--part a|b|both] [--keep]
import { createHmac, randomUUID } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadDevConfig, mintDevToken } from "../../scripts/dev-vars.mjs";
import { appRoot, benchSession, CHILD_ENV, d1, devVars, sleep, snapshotApp, wranglerSync } from "./local-worker.mjs";
import { ROOT, writeResult } from "./report.mjs";

const { values: args } = parseArgs({
  options: {
    smoke: { type: "boolean", default: process.env.BENCH_SMOKE === "1" },
    users: { type: "string" },
    limit: { type: "string" },
    hot: { type: "string" },
    baseline: { type: "string" },
    webhooks: { type: "string" },
    part: { type: "string", default: "both" },
    keep: { type: "boolean", default: false },
  },
});
const SMOKE = args.smoke;
const USERS = Number(args.users ?? (SMOKE ? 200 : 3_000));
const LIMIT = Number(args.limit ?? 25);
const HOT = Number(args.hot ?? (SMOKE ? 5 : 20));
const BASELINE_SECONDS = Number(args.baseline ?? (SMOKE ? 8 : 30));
const WEBHOOKS = Number(args.webhooks ?? (SMOKE ? 200 : 2_000));
const WINDOW_MS = 1_000;
const PROBE_INTERVAL_MS = 500;
const WEBHOOK_CONCURRENCY = 8;
/** A resync whose counted outcomes do not move for this long has stalled (the local queue broker; README). */
const STALL_MS = 120_000;
/** A probe change not in Intercom this long after the probe stopped counts as lost. */
const PROBE_DRAIN_MS = 90_000;

const session = benchSession({ prefix: "intercom-bench-lanes-", keep: args.keep });
const { tmp } = session;
const round = (value, digits = 2) => (Number.isFinite(value) ? Math.round(value * 10 ** digits) / 10 ** digits : value);
const loadavg = () => os.loadavg().map((value) => round(value, 2));

async function json(url, init = {}) {
  const request = () => fetch(url, { ...init, headers: { "content-type": "application/json", ...init.headers } });
  let response;
  for (let attempt = 1; ; attempt++) {
    try {
      response = await request();
      break;
    } catch (error) {
      // A pooled keep-alive connection closed by the other side as the request went out ("other side closed"):
      // reads are asked again; anything else, or a write, fails.
      if ((init.method ?? "GET") !== "GET" || error.name === "TimeoutError" || attempt >= 3) throw error;
      await sleep(200);
    }
  }
  const text = await response.text();
  const body = text ? JSON.parse(text) : null;
  if (!response.ok)
    throw new Error(`${init.method ?? "GET"} ${url} answered ${response.status}: ${text.slice(0, 500)}`);
  return body;
}

function percentile(values, p) {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

let scoreSerial = 0;
const runId = randomUUID().slice(0, 8);

/** The stack of one part: the simulator (shared by the whole run) and a connector with its own local state. */
async function startConnector(sim, vars, label) {
  const persist = path.join(tmp, `state-${label}`);
  mkdirSync(persist, { recursive: true });
  wranglerSync(["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist]);
  const connector = await session.start({
    args: [
      "--persist-to",
      persist,
      "--var",
      `INTERCOM_API_BASE:${sim.base}`,
      "--var",
      `INTERCOM_OAUTH_URL:${sim.base}/oauth`,
      ...vars.args,
    ],
    logFile: path.join(tmp, `connector-${label}.log`),
  });
  return {
    ...connector,
    persist,
    sql: (statement) => d1(persist, statement),
    sqlAsync: (statement) => d1Async(persist, statement),
  };
}

/** `d1` without blocking the event loop (the probe's timestamps are taken in callbacks while this runs). */
function d1Async(persist, sql) {
  const wrangler = path.join(ROOT, "node_modules", ".bin", "wrangler");
  const argv = ["d1", "execute", "DB", "--local", "--persist-to", persist, "--json", "--command", sql];
  return new Promise((resolve, reject) => {
    execFile(wrangler, argv, { cwd: appRoot(), env: CHILD_ENV, maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      if (error) reject(error);
      else resolve(JSON.parse(stdout.slice(stdout.indexOf("[")))[0].results);
    });
  });
}

/** A simulator workspace with its own limit and a mapped integer `score`, connected with destination on. */
async function workspace({ sim, connector, config, appId, workspaceId }) {
  const token = `${appId}-token`;
  await json(`${sim.base}/_sim/workspaces`, {
    method: "POST",
    body: JSON.stringify({ app_id: appId, token, name: appId, rate_limit: { limit: LIMIT, window_ms: WINDOW_MS } }),
  });
  await json(`${sim.base}/data_attributes`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}` },
    body: JSON.stringify({ name: "score", model: "contact", data_type: "integer" }),
  });
  const headers = {
    authorization: `Bearer ${await mintDevToken(config, { workspace: workspaceId, scope: "admin ingest", expires: "3h" })}`,
  };
  const connection = await json(`${connector.base}/v1/connections`, {
    method: "POST",
    headers,
    body: JSON.stringify({ name: appId, access_token: token }),
  });
  await json(`${connector.base}/v1/connections/${connection.id}`, {
    method: "PATCH",
    headers,
    body: JSON.stringify({
      destination: {
        enabled: true,
        allow_create: true,
        mappings: { contact: [{ from: "score", to: "custom_attributes.score", type: "integer" }], company: [] },
      },
    }),
  });
  const journal = async (since = 0) => (await json(`${sim.base}/_sim/journal?app_id=${appId}&since=${since}`)).entries;
  return { appId, workspaceId, headers, connection, connector, sim, journal };
}

/** `HOT` users identified and synced into Intercom: their Intercom contact ids. */
async function hotUsers(ws) {
  for (let i = 1; i <= HOT; i++) {
    await json(`${ws.connector.base}/v1/users`, {
      method: "PUT",
      headers: ws.headers,
      body: JSON.stringify({ user_id: `hot-${i}`, email: `hot${i}@example.com`, properties: { score: 0 } }),
    });
  }
  const deadline = Date.now() + 120_000;
  for (;;) {
    const { contacts } = await json(`${ws.sim.base}/_sim/state?app_id=${ws.appId}`);
    const hot = contacts.filter((contact) => contact.external_id?.startsWith("hot-"));
    if (hot.length >= HOT && hot.every((contact) => contact.custom_attributes?.score === 0))
      return hot.map((contact) => ({ userId: contact.external_id, contactId: contact.id }));
    if (Date.now() > deadline) throw new Error(`${ws.appId}: the hot users did not reach Intercom in 120 s`);
    await sleep(500);
  }
}

/** Inserts `users` users (none in Intercom) into the connector's D1 for the workspace. */
function seedUsers(ws, users) {
  const now = Date.now();
  ws.connector.sql(
    `WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ${users})
     INSERT INTO users (workspace_id, user_id, email, properties, segments, version, created_at, updated_at)
     SELECT '${ws.workspaceId}', 'u-' || n, 'user' || n || '@example.com', json_object('full_name', 'User ' || n), '[]', 0, ${now}, ${now} FROM s`,
  );
}

/**
 * The real-time probe: every PROBE_INTERVAL_MS a new score for the next hot user through PUT /v1/users, until
 * `done()` says so (checked every tick) and at least `minSeconds` passed; the journal is polled for the PUT
 * /contacts/{id} carrying it. Returns the samples (ms from the PUT's answer to the simulator's arrival time).
 */
async function probe(ws, hot, { done, minSeconds = 0, label }) {
  const byContact = new Map(hot.map((user) => [user.contactId, []]));
  const samples = [];
  const putMs = [];
  const probeCalls = new Set(); // journal seqs of the probe's own calls (2xx and 429)
  let putErrors = 0;
  let cursor = (await ws.journal(0)).at(-1)?.seq ?? 0;
  const seen = new Set();
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const entries = await ws.journal(cursor);
      let nextCursor = cursor;
      let inFlight = false;
      for (const entry of entries) {
        if (entry.status === 0) inFlight = true;
        else if (!inFlight) nextCursor = entry.seq;
        if (entry.status === 0 || seen.has(entry.seq)) continue;
        seen.add(entry.seq);
        const id = /^\/contacts\/([^/]+)$/.exec(entry.path)?.[1];
        const score = entry.request_body?.custom_attributes?.score;
        if (entry.method !== "PUT" || !id || !byContact.has(id) || typeof score !== "number") continue;
        const waiting = byContact.get(id);
        if (score > 0) probeCalls.add(entry.seq); // the hot users' setup sent 0; every probe value is > 0
        if (entry.status < 200 || entry.status > 299) continue;
        // Intercom holds `score` now: every change of this user up to it is there (a newer value supersedes).
        for (let i = waiting.length - 1; i >= 0; i--) {
          if (waiting[i].score <= score && waiting[i].answeredAt !== null) {
            samples.push({
              ms: entry.at - waiting[i].answeredAt,
              answeredAt: waiting[i].answeredAt,
              superseded: waiting[i].score !== score,
            });
            waiting.splice(i, 1);
          }
        }
      }
      cursor = nextCursor;
      await sleep(150);
    }
  })();
  const started = Date.now();
  const puts = [];
  // Whether to stop is asked in the background: the ticker never waits for it (a status request can take long).
  let finished = false;
  const checker = (async () => {
    while (!finished) {
      if (Date.now() - started >= minSeconds * 1000 && (await done())) finished = true;
      else await sleep(250);
    }
  })();
  for (let tick = 0; ; tick++) {
    if (finished) break;
    const user = hot[tick % hot.length];
    const score = ++scoreSerial;
    const pending = { score, answeredAt: null };
    byContact.get(user.contactId).push(pending);
    const t0 = performance.now();
    puts.push(
      fetch(`${ws.connector.base}/v1/users`, {
        method: "PUT",
        headers: { "content-type": "application/json", ...ws.headers },
        body: JSON.stringify({ user_id: user.userId, properties: { score } }),
      })
        .then(async (response) => {
          await response.arrayBuffer();
          putMs.push(performance.now() - t0);
          if (!response.ok) throw new Error(String(response.status));
          pending.answeredAt = Date.now();
        })
        .catch(() => {
          putErrors++;
          const list = byContact.get(user.contactId);
          list.splice(list.indexOf(pending), 1);
        }),
    );
    const next = started + (tick + 1) * PROBE_INTERVAL_MS;
    await sleep(Math.max(0, next - Date.now()));
  }
  const stoppedAt = Date.now();
  await checker;
  await Promise.all(puts);
  const deadline = Date.now() + PROBE_DRAIN_MS;
  while ([...byContact.values()].some((list) => list.length) && Date.now() < deadline) await sleep(250);
  watching = false;
  await watcher;
  const lostAt = [...byContact.values()].flat().map((pending) => pending.answeredAt);
  const raw = {
    label,
    samples,
    lostAt,
    putErrors,
    seconds: (stoppedAt - started) / 1000,
    putP50: percentile(putMs, 50),
    putP95: percentile(putMs, 95),
    probeCalls,
  };
  const result = summarize(raw);
  console.log(
    `[bench] ${label}: ${result.sent} changes, ${result.arrived} in Intercom (${result.superseded} superseded), ${result.lost} lost; time-to-Intercom p50 ${Math.round(result.p50)} ms, p95 ${Math.round(result.p95)} ms, max ${Math.round(result.max)} ms`,
  );
  return result;
}

/** The probe's figures for the changes answered up to `until` (Unix ms): during the bulk work, not after it. */
function summarize(raw, until = Number.POSITIVE_INFINITY) {
  const samples = raw.samples.filter((sample) => sample.answeredAt <= until);
  const lost = raw.lostAt.filter((at) => at <= until).length;
  const ms = samples.map((sample) => sample.ms);
  return {
    ...raw,
    sent: samples.length + lost,
    arrived: samples.length,
    superseded: samples.filter((sample) => sample.superseded).length,
    lost,
    after: raw.samples.length - samples.length,
    p50: percentile(ms, 50),
    p95: percentile(ms, 95),
    max: ms.length ? Math.max(...ms) : Number.NaN,
    raw,
  };
}

/** Starts a resync; returns `running()` (polls the job) and the job's start. */
async function startResync(ws) {
  const startedAt = Date.now();
  const job = await json(`${ws.connector.base}/v1/connections/${ws.connection.id}/resync`, {
    method: "POST",
    headers: ws.headers,
  });
  console.log(`[bench] ${ws.appId}: resync job ${job.id} started for ${job.total} users (limit ${LIMIT} per s)`);
  let state = job;
  let statusTimeouts = 0;
  let progress = 0;
  let progressAt = Date.now();
  let answeredAt = Date.now();
  let stalled = false;
  let lastPoll = 0;
  let lastLog = Date.now();
  const deadline = Date.now() + 30 * 60_000;
  const running = async () => {
    if (Date.now() - lastPoll >= 1_000) {
      lastPoll = Date.now();
      // Under wrangler dev a request now and then stays unanswered for minutes (see test/bench/README.md): give up
      // on one after 10 s and ask again.
      const asked = Date.now();
      try {
        state = await json(`${ws.connector.base}/v1/connections/${ws.connection.id}/resync`, {
          headers: ws.headers,
          signal: AbortSignal.timeout(10_000),
        });
        answeredAt = Date.now();
      } catch (error) {
        // Unanswered in 10 s, or a 5xx (the local D1 busy while the connector writes): asked again a second later.
        if (error.name !== "TimeoutError" && !/ answered 5\d\d/.test(String(error.message))) throw error;
        statusTimeouts++;
        console.log(`[bench] ${ws.appId}: the job status did not answer in ${Date.now() - asked} ms; asking again`);
      }
      if (Date.now() - lastLog >= 15_000) {
        lastLog = Date.now();
        console.log(
          `[bench] ${ws.appId}: ${Math.round((Date.now() - startedAt) / 1000)} s, job ${state.state}: ${state.synced} synced, ${state.noop} noop, ${state.failed} failed of ${state.total}`,
        );
      }
    }
    if (Date.now() > deadline) throw new Error(`${ws.appId}: the resync did not end in 30 minutes`);
    const counted = state.synced + state.noop + state.skipped + state.failed;
    if (counted !== progress) {
      progress = counted;
      progressAt = Date.now();
    } else if (
      state.state === "running" &&
      !stalled &&
      answeredAt - progressAt >= STALL_MS &&
      Date.now() - answeredAt < 5_000
    ) {
      // Judged on fresh answers only: a status request that timed out says nothing about the job.
      // wrangler dev's local queue broker now and then stops dispatching a queue for good (test/bench/README.md):
      // the job would never end. The phase ends here and reports how far the job came.
      stalled = true;
      console.log(
        `[bench] ${ws.appId}: no resync progress for ${STALL_MS / 1000} s (${counted} of ${state.total} counted, ${state.queued} handed over): stalled, ending the phase`,
      );
    }
    return state.state === "running" && !stalled;
  };
  return { startedAt, running, job: () => state, statusTimeouts: () => statusTimeouts, stalled: () => stalled };
}

/** Waits until the workspace's journal has been quiet for `quietMs`. */
async function quiet(ws, quietMs = 3_000) {
  let cursor = 0;
  let since = Date.now();
  for (;;) {
    const entries = await ws.journal(cursor);
    const busy = entries.some((entry) => entry.status === 0);
    if (entries.length) {
      if (!busy) cursor = entries.at(-1).seq;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
    await sleep(500);
  }
}

/** Budget use from the journal entries of the workspace made at or after `from` (Unix ms). */
function budgetUse(entries, from, probeCalls = new Set()) {
  // From the first call after `from` to the bulk work's last call (the probe's later calls are left out).
  const after = entries.filter((entry) => entry.at >= from && entry.status !== 0);
  const bulk = after.filter((entry) => !probeCalls.has(entry.seq));
  if (!bulk.length) return null;
  const first = after[0].at;
  const last = bulk.at(-1).at;
  const calls = after.filter((entry) => entry.at <= last);
  const windows = Math.floor(last / WINDOW_MS) - Math.floor(first / WINDOW_MS) + 1;
  const accepted = calls.filter((entry) => entry.status !== 429);
  const probeAccepted = accepted.filter((entry) => probeCalls.has(entry.seq)).length;
  const limited = calls.length - accepted.length;
  const kinds = new Map();
  for (const entry of calls) {
    const route = entry.path.startsWith("/contacts/search")
      ? "/contacts/search"
      : entry.path.replace(/\/contacts\/[^/]+/, "/contacts/{id}");
    const key = `${probeCalls.has(entry.seq) ? "probe" : "other"} ${entry.method} ${route} ${entry.status}`;
    kinds.set(key, (kinds.get(key) ?? 0) + 1);
  }
  return {
    first,
    last,
    byEndpoint: [...kinds].sort((a, b) => b[1] - a[1]).map(([call, n]) => ({ call, n })),
    calls: calls.length,
    accepted: accepted.length,
    probeAccepted,
    limited,
    windows,
    seconds: (last - first) / 1000,
    use: accepted.length / (LIMIT * windows),
    resyncUse: (accepted.length - probeAccepted) / (LIMIT * windows),
    limitedShare: limited / calls.length,
  };
}

/** A contact.user.updated notification for the workspace, compact JSON as Intercom sends it (ack-path.mjs's shape). */
const fixture = JSON.parse(
  readFileSync(path.join(ROOT, "test", "fixtures", "intercom", "contact.user.updated.json"), "utf8"),
);
function webhookBody(appId, i) {
  const envelope = structuredClone(fixture);
  const item = envelope.data.item;
  const id = (0x6b000000 + i).toString(16).padStart(24, "0");
  envelope.app_id = appId;
  envelope.id = `notif_${runId}_${i}`;
  envelope.created_at = Math.floor(Date.now() / 1000);
  item.id = id;
  item.workspace_id = appId;
  item.external_id = `storm-${runId}-${i}`;
  item.email = `storm.${runId}.${i}@example.com`;
  item.name = `Storm Contact ${i}`;
  item.updated_at = new Date().toISOString();
  item.custom_attributes = { plan: "Scale", seats: 15 };
  return JSON.stringify(envelope);
}

/** Sends `count` signed webhooks for `appId`, `WEBHOOK_CONCURRENCY` in flight. */
async function webhookStorm(base, secret, appId, count) {
  let next = 0;
  let accepted = 0;
  let refused = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: WEBHOOK_CONCURRENCY }, async () => {
      while (next < count) {
        const body = webhookBody(appId, next++);
        try {
          const response = await fetch(`${base}/webhooks/intercom`, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              "x-hub-signature": `sha1=${createHmac("sha1", secret).update(body).digest("hex")}`,
            },
            body,
          });
          await response.arrayBuffer();
          if (response.status === 200) accepted++;
          else refused++;
        } catch {
          refused++;
        }
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  console.log(`[bench] ${appId}: ${accepted} webhooks accepted, ${refused} refused in ${seconds.toFixed(1)} s`);
  return { accepted, refused, seconds, endedAt: Date.now() };
}

const processedOf = async (ws) =>
  (await ws.connector.sqlAsync(`SELECT count(*) AS n FROM processed_notifications WHERE key LIKE '${ws.appId}:%'`))[0]
    .n;

async function partA(sim, vars, config) {
  // A1: the probe alone, then during a resync of the same workspace.
  const connector = await startConnector(sim, vars, "a");
  const ws = await workspace({ sim, connector, config, appId: `lanesa${runId}`, workspaceId: "ws_lanes_a" });
  const hot = await hotUsers(ws);
  seedUsers(ws, USERS);
  await quiet(ws, 2_000);
  const loadBefore = loadavg();
  const alone = await probe(ws, hot, {
    done: async () => true,
    minSeconds: BASELINE_SECONDS,
    label: "A: real-time alone",
  });
  await quiet(ws, 2_000);
  const resync = await startResync(ws);
  const probed = await probe(ws, hot, {
    done: async () => !(await resync.running()),
    label: "A: real-time during the resync",
  });
  await quiet(ws);
  const entries = await ws.journal(0);
  const use = budgetUse(entries, resync.startedAt, probed.probeCalls);
  // Only the changes made while the resync was still calling Intercom count as "during" it.
  const during = summarize(probed.raw, use.last);
  console.log(
    `[bench] A: ${during.sent} changes answered before the resync's last call: p50 ${Math.round(during.p50)} ms, p95 ${Math.round(during.p95)} ms, max ${Math.round(during.max)} ms`,
  );
  const job = resync.job();
  const loadDuring = loadavg();
  console.log(
    `[bench] A: resync use ${round(use.resyncUse, 3)} (all calls ${round(use.use, 3)}), 429 share ${round(use.limitedShare * 100, 2)} %`,
  );
  await connector.stop();

  // A0: the same resync in another workspace on a fresh connector, nothing else running.
  const connector0 = await startConnector(sim, vars, "a0");
  const ws0 = await workspace({
    sim,
    connector: connector0,
    config,
    appId: `lanesz${runId}`,
    workspaceId: "ws_lanes_a0",
  });
  seedUsers(ws0, USERS);
  await quiet(ws0, 2_000);
  const resync0 = await startResync(ws0);
  while (await resync0.running()) await sleep(1_000);
  await quiet(ws0);
  const use0 = budgetUse(await ws0.journal(0), resync0.startedAt);
  const job0 = resync0.job();
  console.log(`[bench] A0: resync alone use ${round(use0.use, 3)}, 429 share ${round(use0.limitedShare * 100, 2)} %`);
  await connector0.stop();
  return {
    alone,
    during,
    use,
    job,
    use0,
    job0,
    statusTimeouts: resync.statusTimeouts() + resync0.statusTimeouts(),
    stalled: [resync.stalled() && "A", resync0.stalled() && "A0"].filter(Boolean),
    load: { before: loadBefore, during: loadDuring, after: loadavg() },
  };
}

async function partB(sim, vars, config, secret) {
  const connector = await startConnector(sim, vars, "b");
  const wsA = await workspace({ sim, connector, config, appId: `lanesx${runId}`, workspaceId: "ws_lanes_x" });
  const wsB = await workspace({ sim, connector, config, appId: `lanesy${runId}`, workspaceId: "ws_lanes_y" });
  const hot = await hotUsers(wsB);
  seedUsers(wsA, USERS);
  await quiet(wsB, 2_000);
  const loadBefore = loadavg();
  const alone = await probe(wsB, hot, {
    done: async () => true,
    minSeconds: BASELINE_SECONDS,
    label: "B: real-time alone",
  });
  await quiet(wsB, 2_000);
  const resync = await startResync(wsA);
  const storm = webhookStorm(connector.base, secret, wsA.appId, WEBHOOKS);
  let stormDone = null;
  storm.then((result) => {
    stormDone = result;
  });
  // Captures are counted in the background (a wrangler d1 execute takes a second or two), every 3 s.
  let captured = 0;
  let capturedAt = null;
  let captureMovedAt = Date.now();
  let captureStalled = false;
  let counting = true;
  let lastCaptured = -1;
  const counter = (async () => {
    while (counting) {
      await sleep(3_000);
      if (!stormDone) continue;
      try {
        captured = await processedOf(wsA);
      } catch (error) {
        // The local D1 file is busy now and then while the connector writes (SQLITE_BUSY): count again next round.
        console.log(
          `[bench] counting captures failed (${String(error.message).split("\n")[1] ?? error.message}); again in 3 s`,
        );
        continue;
      }
      if (captured >= stormDone.accepted) {
        capturedAt ??= Date.now();
        return;
      }
      if (captured !== lastCaptured) {
        lastCaptured = captured;
        captureMovedAt = Date.now();
      } else if (Date.now() - Math.max(captureMovedAt, stormDone.endedAt) >= STALL_MS) {
        // The local INBOUND broker stops dispatching now and then (test/bench/README.md): end the phase, say so.
        captureStalled = true;
        console.log(
          `[bench] ${wsA.appId}: no webhook captured for ${STALL_MS / 1000} s (${captured} of ${stormDone.accepted}): stalled, ending the phase`,
        );
        return;
      }
    }
  })();
  const allCaptured = () => capturedAt !== null;
  const probed = await probe(wsB, hot, {
    done: async () => {
      const running = await resync.running();
      // Every accepted webhook captured, or given up when captures stalled or 10 minutes after the last one was
      // accepted (reported).
      return (
        !running &&
        (allCaptured() || captureStalled || (stormDone !== null && Date.now() - stormDone.endedAt > 600_000))
      );
    },
    label: "B: real-time during A's resync and webhook storm",
  });
  const stormResult = await storm;
  counting = false;
  await counter;
  await quiet(wsA);
  const useA = budgetUse(await wsA.journal(0), resync.startedAt);
  // B's changes made while A's bulk work still ran (its resync's calls, or webhooks not yet captured) count.
  const bulkEnd = Math.max(useA.last, capturedAt ?? stormResult.endedAt);
  const during = summarize(probed.raw, bulkEnd);
  console.log(
    `[bench] B: ${during.sent} changes answered while A's bulk work ran: p50 ${Math.round(during.p50)} ms, p95 ${Math.round(during.p95)} ms, max ${Math.round(during.max)} ms`,
  );
  const job = resync.job();
  const loadDuring = loadavg();
  await connector.stop();
  return {
    alone,
    during,
    useA,
    job,
    storm: stormResult,
    captured,
    captureSeconds: capturedAt ? (capturedAt - resync.startedAt) / 1000 : null,
    statusTimeouts: resync.statusTimeouts(),
    stalled: resync.stalled(),
    captureStalled,
    load: { before: loadBefore, during: loadDuring, after: loadavg() },
  };
}

/** A job's figures: counted outcomes of its total, users handed over, state. */
const jobText = (job) =>
  `${job.synced + job.noop + job.skipped + job.failed} of ${job.total} counted (${job.synced} synced, ${job.noop} noop, ${job.failed} failed), ${job.queued} handed over; ${job.state}`;

function probeRows(prefix, result) {
  return [
    {
      metric: `${prefix}: changes sent / in Intercom / lost`,
      value: `${result.sent} / ${result.arrived} / ${result.lost}`,
    },
    {
      metric: `${prefix}: time-to-Intercom p50 / p95 / max`,
      value: `${Math.round(result.p50)} / ${Math.round(result.p95)} / ${Math.round(result.max)}`,
      unit: "ms",
    },
  ];
}

/** The connector's commit, for the results (a dirty tree marked). */
function commitOf() {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT }).toString().trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "src"], { cwd: ROOT }).toString().trim();
    return dirty ? `${head}+dirty` : head;
  } catch {
    return null;
  }
}

async function main() {
  console.log(`[bench] load average at the start: ${loadavg().join(", ")} (${os.availableParallelism()} cores)`);
  snapshotApp(path.join(tmp, "app"));
  const vars = devVars(tmp);
  const config = loadDevConfig(vars.file);
  const secret = vars.vars.INTERCOM_CLIENT_SECRET;
  const sim = await session.start({
    args: ["--config", "test/intercom-sim/wrangler.toml", "--persist-to", path.join(tmp, "sim-state")],
    readyPath: "/_sim/config",
    logFile: path.join(tmp, "sim.log"),
  });
  await json(`${sim.base}/_sim/config`, { method: "POST", body: JSON.stringify({ webhooks_enabled: false }) });
  const loadStart = loadavg();
  const failures = [];
  /** A part that throws (a crash, a timeout) is reported without a verdict; the other part still runs. */
  const attempt = async (label, run) => {
    try {
      return await run();
    } catch (error) {
      console.error(`[bench] part ${label} failed:`, error);
      failures.push({
        part: label,
        error: String(error?.message ?? error)
          .split("\n")[0]
          .slice(0, 300),
      });
      return null;
    }
  };
  const a = args.part === "b" ? null : await attempt("A", () => partA(sim, vars, config));
  // Written now too: a later crash or stall keeps part A's figures.
  if (args.part === "both") report({ a, b: null, failures, loadStart, vars, partial: true });
  const b = args.part === "a" ? null : await attempt("B", () => partB(sim, vars, config, secret));
  report({ a, b, failures, loadStart, vars, partial: false });
  if (failures.length) throw new Error(`parts failed: ${failures.map((failure) => failure.part).join(", ")}`);
}

/** Writes the results JSON and prints the tables, from whatever parts ran. */
function report({ a, b, failures, loadStart, vars, partial }) {
  const rows = [];
  const tables = {};
  if (a) {
    const p95Goal = a.during.p95 < 5_000 && a.during.lost === 0;
    rows.push(
      ...probeRows("A, baseline: real-time alone", a.alone),
      ...probeRows("A: real-time during the resync", a.during),
      {
        metric: "A: real-time p95 during the resync (nothing lost)",
        value: Math.round(a.during.p95),
        unit: "ms",
        goal: "< 5,000 ms",
        pass: p95Goal,
      },
      {
        metric: "A: resync job at the end",
        value: jobText(a.job),
      },
      { metric: "A: Intercom calls during the resync (probe's own)", value: `${a.use.calls} (${a.use.probeAccepted})` },
      { metric: "A: 1 s windows from first to last call", value: a.use.windows },
      {
        metric: "A: resync's budget use with real-time waiting: accepted ÷ (limit × windows)",
        value: round(a.use.resyncUse, 3),
      },
      { metric: "A: all accepted calls ÷ (limit × windows)", value: round(a.use.use, 3) },
      { metric: "A: 429 share during the resync", value: round(a.use.limitedShare * 100, 2), unit: "%" },
      {
        metric: "A0: resync alone: budget use (nothing else waits)",
        value: round(a.use0.use, 3),
        goal: "≥ 0.9",
        pass: a.use0.use >= 0.9,
      },
      {
        metric: "A0: resync alone: calls / windows / 429 share",
        value: `${a.use0.calls} / ${a.use0.windows} / ${round(a.use0.limitedShare * 100, 2)} %`,
      },
      {
        metric: "A0: resync job at the end",
        value: jobText(a.job0),
      },
    );
  }
  if (b) {
    const ratio = b.during.p95 / b.alone.p95;
    rows.push(
      ...probeRows("B, baseline: real-time alone", b.alone),
      ...probeRows("B: real-time during A's resync + webhook storm", b.during),
      {
        metric: "B: p95 during ÷ p95 alone (nothing lost)",
        value: round(ratio, 2),
        goal: "≤ 2",
        pass: ratio <= 2 && b.during.lost === 0,
      },
      { metric: "A (part B): resync job at the end", value: jobText(b.job) },
      {
        metric: "A (part B): resync budget use / 429 share",
        value: `${round(b.useA.use, 3)} / ${round(b.useA.limitedShare * 100, 2)} %`,
      },
      {
        metric: "A (part B): webhooks accepted / refused / captured",
        value: `${b.storm.accepted} / ${b.storm.refused} / ${b.captured}`,
      },
      {
        metric: "A (part B): webhook ack rate",
        value: round(b.storm.accepted / b.storm.seconds, 1),
        unit: "webhooks/s",
      },
      { metric: "A (part B): resync start → every webhook captured", value: round(b.captureSeconds, 0), unit: "s" },
    );
  }
  const probeTable = (label, r) => ({
    phase: label,
    sent: r.sent,
    arrived: r.arrived,
    superseded: r.superseded,
    lost: r.lost,
    put_errors: r.putErrors,
    seconds: round(r.seconds, 0),
    p50_ms: Math.round(r.p50),
    p95_ms: Math.round(r.p95),
    max_ms: Math.round(r.max),
    put_answer_p50_ms: Math.round(r.putP50),
    put_answer_p95_ms: Math.round(r.putP95),
  });
  tables["Real-time probe per phase"] = [
    ...(a ? [probeTable("A alone", a.alone), probeTable("A during resync", a.during)] : []),
    ...(b ? [probeTable("B alone", b.alone), probeTable("B during A's resync + storm", b.during)] : []),
  ];
  if (a) {
    tables["A: calls during the resync (probe = the real-time changes' own PUTs)"] = a.use.byEndpoint;
    tables["A0: calls of the resync alone"] = a.use0.byEndpoint;
  }
  if (b) tables["Part B, workspace A: calls during its resync"] = b.useA.byEndpoint;
  rows.push({
    metric: "resyncs stalled (no progress for 120 s: local queue broker; phase ended early)",
    value: [...(a?.stalled ?? []), ...(b?.stalled ? ["B's A"] : [])].join(", ") || "none",
  });
  if (b) {
    rows.push({
      metric: "part B: webhook captures stalled (none for 120 s: local queue broker; phase ended early)",
      value: b.captureStalled ? "yes" : "no",
    });
  }
  for (const failure of failures) {
    rows.push({ metric: `part ${failure.part} failed (no verdict)`, value: failure.error, pass: false });
  }
  if (partial) rows.push({ metric: "partial result (written after part A; part B still to run)", value: "yes" });
  rows.push({
    metric: "job status requests unanswered after 10 s (wrangler dev stalls; asked again)",
    value: (a?.statusTimeouts ?? 0) + (b?.statusTimeouts ?? 0),
  });
  tables["Load average (1, 5, 15 min)"] = [
    { when: "start", load: loadStart.join(", ") },
    ...(a
      ? [
          { when: "A before", load: a.load.before.join(", ") },
          { when: "A after its resync", load: a.load.during.join(", ") },
          { when: "A0 after", load: a.load.after.join(", ") },
        ]
      : []),
    ...(b
      ? [
          { when: "B before", load: b.load.before.join(", ") },
          { when: "B after", load: b.load.during.join(", ") },
        ]
      : []),
  ];
  writeResult({
    name: "lanes",
    title: "Priority lanes and fair tenants: real-time time-to-Intercom under bulk work",
    smoke: SMOKE,
    notes: [
      "Simulator Worker and connector under wrangler dev (as `npm run dev`); simulator webhooks off. Each part on a fresh connector process.",
      `Probe: every ${PROBE_INTERVAL_MS} ms a new mapped score for one of ${HOT} users already in Intercom (PUT /v1/users);`,
      "time-to-Intercom = the PUT's answer → the simulator journal's arrival time of the 2xx PUT /contacts/{id} carrying that score",
      "or a later one of the same user (superseded: the object coalesced them). Lost = not there 90 s after the probe stopped.",
      "Budget use = accepted calls ÷ (limit × 1 s windows from the first call after the resync started to the last);",
      "the resync's use leaves out the probe's own calls. 429 share = simulator 429s ÷ calls.",
      "Part B: workspace A (resync + signed webhook storm) and B (probe) each have their own simulator workspace and limit,",
      "and share the connector (one local workerd) as tenants share a deployment.",
    ],
    params: {
      commit: commitOf(),
      users: USERS,
      limit: LIMIT,
      window_ms: WINDOW_MS,
      hot: HOT,
      baseline_seconds: BASELINE_SECONDS,
      webhooks: WEBHOOKS,
      probe_interval_ms: PROBE_INTERVAL_MS,
      part: args.part,
      vars: vars.label,
    },
    rows,
    tables,
  });
}

await session.run(main);
