#!/usr/bin/env node
// Benchmark 6, contention: bursts of concurrent writes to ONE user or ONE account through the real routes, with the
// whole product under `wrangler dev` (simulator Worker and connector, as `npm run dev` runs them), as issue 19 tried
// it: every answer must be a 2xx (never a 5xx), Intercom must end in the state of the last committed write with at
// most 2 calls per burst, and the connector's workerd must come back to its file descriptors and memory after each
// burst (no leak, no runaway), with a log volume proportional to the requests.
//
//   1. a simulator workspace (rate limit out of the way) with an integer attribute `score`; a connection through
//      POST /v1/connections + PATCH (destination on, creation allowed, `score` mapped); one known user `hot`, synced;
//   2. `--rounds` bursts of `--burst` concurrent PUT /v1/users for `hot`, each setting its own key and `score` (the
//      shared key); each burst then drained (Intercom holds D1's final score, the journal quiet for 2 s);
//   3. one big burst of `--big` concurrent identifies of `hot`;
//   4. `--members` users, then one burst of `--members` concurrent PUT /v1/accounts/acct-hot (own key + plan) and as
//      many member links, drained until the company holds the final plan and every member is attached.
// File descriptors (entries of /proc/<pid>/fd) and resident memory (VmRSS of /proc/<pid>/status) of the connector's
// workerd, and of wrangler's Node process, are sampled every 100 ms: before each burst, the peak during it, and after
// it drained. The connector isolate's V8 heap (the memory production limits to 128 MB; the process's RSS also holds
// the local D1, queues and object storage, and the allocator keeps what it once used) is read before and
// after each burst through the inspector (a DevTools client connected during a burst makes wrangler buffer gigabytes;
// peaks under load are measured by `npm run bench -- cpu`). A watchdog stops the run if workerd passes 15,000 fds, 4 GiB or the log 500 MB (what the issue saw).
// Prints a table and writes test/bench/results/contention.json.
//
//   node test/bench/contention.mjs [--smoke] [--rounds 5] [--burst 100] [--big 500] [--members 100] [--keep]
import { readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadDevConfig, mintDevToken } from "../../scripts/dev-vars.mjs";
import {
  benchSession,
  devVars,
  inspector,
  relaunchWithWebSocket,
  sleep,
  snapshotApp,
  wranglerSync,
} from "./local-worker.mjs";
import { writeResult } from "./report.mjs";

relaunchWithWebSocket();

const { values: args } = parseArgs({
  options: {
    smoke: { type: "boolean", default: process.env.BENCH_SMOKE === "1" },
    rounds: { type: "string" },
    burst: { type: "string" },
    big: { type: "string" },
    members: { type: "string" },
    keep: { type: "boolean", default: false },
  },
});
const SMOKE = args.smoke;
const ROUNDS = Number(args.rounds ?? (SMOKE ? 2 : 5));
const BURST = Number(args.burst ?? (SMOKE ? 20 : 100));
// 500, not 1,000: wrangler dev's ProxyWorker (not the connector) holds ~23 descriptors per request in flight, so a
// burst of 1,000 takes it past a 20,000-descriptor ulimit ("Too many open files") before the connector sees them all.
const BIG = Number(args.big ?? (SMOKE ? 50 : 500));
const MEMBERS = Number(args.members ?? (SMOKE ? 10 : 100));
const APP_ID = "benchcontention";
const SIM_TOKEN = "bench-contention-token";
const WORKSPACE_ID = "ws_bench_contention";
const LIMITS = { fds: 15_000, rssBytes: 4 * 2 ** 30, logBytes: 500 * 2 ** 20 };

const session = benchSession({ prefix: "intercom-bench-contention-", keep: args.keep });
const { tmp, persist } = session;
const round = (value, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
const mib = (bytes) => round(bytes / 2 ** 20);

// Every request on its own connection (closed after it), as many clients or many workers of one CDP would send them.
const agent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });

/** One HTTP request with node:http: status, parsed body, milliseconds. */
function send(base, method, pathname, { headers = {}, body } = {}) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const started = performance.now();
  return new Promise((resolve) => {
    const request = http.request(
      `${base}${pathname}`,
      {
        method,
        agent,
        headers: {
          "content-type": "application/json",
          ...(payload ? { "content-length": Buffer.byteLength(payload) } : {}),
          ...headers,
        },
      },
      (response) => {
        const chunks = [];
        response.on("data", (chunk) => chunks.push(chunk));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json = null;
          try {
            json = text ? JSON.parse(text) : null;
          } catch {
            json = text;
          }
          resolve({ status: response.statusCode, json, ms: performance.now() - started });
        });
      },
    );
    request.on("error", (error) => resolve({ status: 0, json: String(error), ms: performance.now() - started }));
    if (payload) request.write(payload);
    request.end();
  });
}

/**
 * wrangler dev's ProxyWorker (not the connector) answers this when its pooled connection to the Worker closed under a
 * request (kj's 5 s keep-alive; workers-sdk #14641, fixed in wrangler releases that need Node 22): the request never
 * reached the connector. A client retries it, as it would any 503.
 */
const DEV_PROXY_DROP = "Your worker restarted mid-request";
let devProxyRetries = 0;

/** `send`, retrying (up to 3 times) what wrangler dev's ProxyWorker dropped before it reached the Worker. */
async function sendThroughDevProxy(base, method, pathname, options) {
  for (let attempt = 1; ; attempt++) {
    const answer = await send(base, method, pathname, options);
    const dropped = answer.status === 503 && typeof answer.json === "string" && answer.json.startsWith(DEV_PROXY_DROP);
    if (!dropped || attempt > 3) return answer;
    devProxyRetries++;
  }
}

/** Like `send`, but throws unless the answer is a 2xx. */
async function must(base, method, pathname, options) {
  const answer = await sendThroughDevProxy(base, method, pathname, options);
  if (answer.status < 200 || answer.status > 299)
    throw new Error(`${method} ${pathname} answered ${answer.status}: ${JSON.stringify(answer.json).slice(0, 300)}`);
  return answer.json;
}

/** The processes of a process group whose command is `name`. */
function processesOf(pgid, name) {
  const pids = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) === pgid && comm === name) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Open file descriptors and resident bytes of processes (summed); 0 for those gone. */
function usage(pids) {
  let fds = 0;
  let rss = 0;
  for (const pid of pids) {
    try {
      fds += readdirSync(`/proc/${pid}/fd`).length;
      rss += 1024 * Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return { fds, rss };
}

/** What a process's file descriptors are: sockets, pipes, event fds, files (by extension). */
function fdKinds(pids) {
  const kinds = {};
  for (const pid of pids) {
    let entries = [];
    try {
      entries = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of entries) {
      let target = "?";
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const kind = target.startsWith("socket:")
        ? "socket"
        : target.startsWith("pipe:")
          ? "pipe"
          : target.startsWith("anon_inode:")
            ? target.slice("anon_inode:".length)
            : `file *${path.extname(target) || path.basename(target)}`;
      kinds[kind] = (kinds[kind] ?? 0) + 1;
    }
  }
  return kinds;
}

/** Samples the runtime's and the dev proxy's workerd and wrangler every 100 ms; `phase()` starts a new peak. */
function sampler(runtimePids, proxyPids, wranglerPid, logFile) {
  let peak = null;
  let tripped = null;
  const take = () => {
    const runtime = usage(runtimePids);
    const proxy = usage(proxyPids);
    const wrangler = usage([wranglerPid]);
    const log = statSync(logFile).size;
    const now = {
      fds: runtime.fds,
      rss: runtime.rss,
      proxyFds: proxy.fds,
      proxyRss: proxy.rss,
      wranglerRss: wrangler.rss,
      log,
    };
    if (peak) for (const key of Object.keys(peak)) peak[key] = Math.max(peak[key], now[key]);
    if (runtime.fds + proxy.fds > LIMITS.fds || runtime.rss + proxy.rss > LIMITS.rssBytes || log > LIMITS.logBytes)
      tripped ??= `watchdog: workerd ${runtime.fds + proxy.fds} fds, ${mib(runtime.rss + proxy.rss)} MiB; log ${mib(log)} MiB`;
    return now;
  };
  const timer = setInterval(take, 100);
  return {
    now: take,
    phase() {
      const current = take();
      peak = { ...current };
      return current;
    },
    peak: () => ({ ...peak }),
    tripped: () => tripped,
    stop: () => clearInterval(timer),
  };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

async function main() {
  snapshotApp(path.join(tmp, "app"));
  const vars = devVars(tmp);
  const config = loadDevConfig(vars.file);
  wranglerSync(["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist]);
  const sim = await session.start({
    args: ["--config", "test/intercom-sim/wrangler.toml", "--persist-to", path.join(tmp, "sim-state")],
    readyPath: "/_sim/config",
    logFile: path.join(tmp, "sim.log"),
  });
  const connectorLog = path.join(tmp, "connector.log");
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
    logFile: connectorLog,
  });
  // wrangler dev runs two workerd: its ProxyWorker (which the clients' connections reach) and the runtime that runs
  // the connector with its local D1, queues and objects (the one with SQLite files open).
  const workerds = processesOf(connector.pid, "workerd");
  const runtimePids = workerds.filter((pid) => Object.keys(fdKinds([pid])).some((kind) => kind.endsWith(".sqlite")));
  const proxyPids = workerds.filter((pid) => !runtimePids.includes(pid));
  if (runtimePids.length !== 1) throw new Error(`expected one runtime workerd, found ${JSON.stringify(workerds)}`);

  await must(sim.base, "POST", "/_sim/config", { body: { webhook_delivery: "manual" } });
  await must(sim.base, "POST", "/_sim/workspaces", {
    body: {
      app_id: APP_ID,
      token: SIM_TOKEN,
      name: "Bench contention",
      rate_limit: { limit: 1_000_000, window_ms: 10_000 },
    },
  });
  await must(sim.base, "POST", "/data_attributes", {
    headers: { authorization: `Bearer ${SIM_TOKEN}` },
    body: { name: "score", model: "contact", data_type: "integer" },
  });
  const headers = {
    authorization: `Bearer ${await mintDevToken(config, { workspace: WORKSPACE_ID, scope: "admin ingest", expires: "3h" })}`,
  };
  const connection = await must(connector.base, "POST", "/v1/connections", {
    headers,
    body: { name: "Bench", access_token: SIM_TOKEN },
  });
  await must(connector.base, "PATCH", `/v1/connections/${connection.id}`, {
    headers,
    body: {
      destination: {
        enabled: true,
        allow_create: true,
        mappings: { contact: [{ from: "score", to: "custom_attributes.score", type: "integer" }], company: [] },
      },
    },
  });
  const journalLength = async () => (await must(sim.base, "GET", `/_sim/journal?app_id=${APP_ID}`)).entries.length;
  const simState = () => must(sim.base, "GET", `/_sim/state?app_id=${APP_ID}`);
  const contactScore = async (userId) =>
    (await simState()).contacts.find((contact) => contact.external_id === userId)?.custom_attributes?.score;
  /** Polls `check` every 250 ms for up to `seconds`; then waits until the journal has been quiet for 2 s. */
  const drain = async (check, what, seconds = 300) => {
    const deadline = Date.now() + seconds * 1000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`${what}: not reached in ${seconds} s`);
      if (meter.tripped()) throw new Error(meter.tripped());
      await sleep(250);
    }
    for (let last = -1, quiet = 0; quiet < 8; quiet++) {
      const length = await journalLength();
      if (length !== last) quiet = 0;
      last = length;
      await sleep(250);
    }
  };

  const meter = sampler(runtimePids, proxyPids, connector.pid, connectorLog);
  // A DevTools client connected through a burst makes wrangler's inspector proxy buffer gigabytes: connect for one
  // reading at a quiet moment, then close.
  // workerd's inspector ignores HeapProfiler.collectGarbage, but V8 runs a full GC before it takes a heap snapshot:
  // `live` readings (the growth goal's two) take one, so they count what is retained, not garbage not yet collected.
  const heapUsed = async ({ live = false } = {}) => {
    const cdp = await inspector(connector.inspectorPort);
    try {
      if (live) await cdp.send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
      return (await cdp.send("Runtime.getHeapUsage")).usedSize;
    } finally {
      cdp.close();
    }
  };
  await must(connector.base, "PUT", "/v1/users", { headers, body: { user_id: "hot", properties: { score: -1 } } });
  await drain(async () => (await contactScore("hot")) === -1, "the first sync");
  // One identify at a time: the latency of a write with nothing else going on.
  const serial = [];
  for (let i = 0; i < 20; i++) {
    const started = performance.now();
    await must(connector.base, "PUT", "/v1/users", { headers, body: { user_id: "hot", properties: { serial: i } } });
    serial.push(performance.now() - started);
  }
  serial.sort((a, b) => a - b);
  const health = [];
  for (let i = 0; i < 20; i++) {
    const started = performance.now();
    await must(connector.base, "GET", "/healthz");
    health.push(performance.now() - started);
  }
  health.sort((a, b) => a - b);
  await drain(async () => true, "the serial writes");
  await sleep(6_000);
  const baseline = meter.now();
  const heapBaseline = await heapUsed({ live: true });
  const bursts = [];

  /** Runs `requests` at once, drains with `settled`, and records the burst's figures. */
  const burst = async (name, requests, settled) => {
    const before = meter.phase();
    const heapBefore = await heapUsed();
    const calls0 = await journalLength();
    const started = performance.now();
    const retried = devProxyRetries;
    const answers = await Promise.all(
      requests.map((r) => sendThroughDevProxy(connector.base, r.method, r.path, { headers, body: r.body })),
    );
    const seconds = (performance.now() - started) / 1000;
    const peak = meter.peak();
    await settled();
    // Pooled connections (the dev proxy's, the runtime's own) close after kj's 5 s keep-alive: measure after that.
    await sleep(6_000);
    const after = meter.now();
    const heapAfter = await heapUsed();
    const latencies = answers.map((answer) => answer.ms).sort((a, b) => a - b);
    const statuses = {};
    for (const answer of answers) statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
    const row = {
      burst: name,
      requests: requests.length,
      "2xx": answers.filter((answer) => answer.status >= 200 && answer.status < 300).length,
      "5xx": answers.filter((answer) => answer.status >= 500 || answer.status === 0).length,
      statuses,
      dev_proxy_retries: devProxyRetries - retried,
      seconds: round(seconds, 2),
      p50_ms: round(percentile(latencies, 50)),
      p99_ms: round(percentile(latencies, 99)),
      intercom_calls: (await journalLength()) - calls0,
      fds_before: before.fds,
      fds_peak: peak.fds,
      fds_after: after.fds,
      heap_before_mib: mib(heapBefore),
      heap_after_mib: mib(heapAfter),
      rss_before_mib: mib(before.rss),
      rss_peak_mib: mib(peak.rss),
      rss_after_mib: mib(after.rss),
      proxy_fds_before: before.proxyFds,
      proxy_fds_peak: peak.proxyFds,
      proxy_fds_after: after.proxyFds,
      proxy_rss_peak_mib: mib(peak.proxyRss),
      wrangler_rss_after_mib: mib(after.wranglerRss),
      log_bytes_per_request: Math.round((after.log - before.log) / requests.length),
    };
    const failed = answers.find((answer) => answer.status < 200 || answer.status > 299);
    if (failed)
      console.log(`[bench] ${name}: a failed answer: ${failed.status} ${JSON.stringify(failed.json).slice(0, 500)}`);
    bursts.push(row);
    console.log(`[bench] ${JSON.stringify(row)}`);
    if (meter.tripped()) throw new Error(meter.tripped());
    return answers;
  };

  const identifies = (count, tag, scoreBase) =>
    Array.from({ length: count }, (_, i) => ({
      method: "PUT",
      path: "/v1/users",
      body: { user_id: "hot", properties: { [`${tag}_${i}`]: i, score: scoreBase + i } },
    }));
  const finalScoreSynced = async () => {
    const user = await must(connector.base, "GET", "/v1/users/lookup?user_id=hot", { headers });
    return (await contactScore("hot")) === user.properties.score;
  };
  for (let r = 1; r <= ROUNDS; r++) {
    await burst(`identify ×${BURST} #${r}`, identifies(BURST, `r${r}`, 1_000 * r), () =>
      drain(finalScoreSynced, `round ${r}`),
    );
  }
  await burst(`identify ×${BIG}`, identifies(BIG, "big", 100_000), () => drain(finalScoreSynced, "the big burst"));
  const identified = meter.now();
  const heapIdentified = await heapUsed({ live: true });
  const user = await must(connector.base, "GET", "/v1/users/lookup?user_id=hot", { headers });
  const keysKept = Object.keys(user.properties).length;
  const keysWritten = 2 + ROUNDS * BURST + BIG;

  // One account: its members first (paced), then every upsert and link at once.
  for (let i = 0; i < MEMBERS; i += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, MEMBERS - i) }, (_, j) =>
        must(connector.base, "PUT", "/v1/users", {
          headers,
          body: { user_id: `member-${i + j}`, properties: { full_name: `Member ${i + j}` } },
        }),
      ),
    );
  }
  await must(connector.base, "PUT", "/v1/accounts/acct-hot", {
    headers,
    body: { name: "Hot", properties: { plan: "p" } },
  });
  await drain(async () => (await simState()).contacts.length >= MEMBERS + 1, "the members' contacts");
  const accountRequests = [
    ...Array.from({ length: MEMBERS }, (_, i) => ({
      method: "PUT",
      path: "/v1/accounts/acct-hot",
      body: { properties: { [`k${i}`]: i, plan: `p${i}` } },
    })),
    ...Array.from({ length: MEMBERS }, (_, i) => ({ method: "PUT", path: `/v1/accounts/acct-hot/users/member-${i}` })),
  ];
  await burst(`account upsert ×${MEMBERS} + link ×${MEMBERS}`, accountRequests, () =>
    drain(async () => {
      const account = await must(connector.base, "GET", "/v1/accounts/acct-hot", { headers });
      const state = await simState();
      const company = state.companies.find((candidate) => candidate.company_id === "acct-hot");
      const attached = company ? state.attachments.filter((a) => a.company_id === company.id).length : 0;
      return company?.plan?.name === account.properties.plan && attached === MEMBERS;
    }, "the account burst"),
  );
  const account = await must(connector.base, "GET", "/v1/accounts/acct-hot", { headers });
  meter.stop();

  const logText = readFileSync(connectorLog, "utf8");
  const unhandled = (logText.match(/msg: 'unhandled error'/g) ?? []).length;
  const overloaded = (logText.match(/msg: 'overloaded'/g) ?? []).length;
  const identifyBursts = bursts.filter((row) => row.burst.startsWith("identify"));
  const fiveXx = bursts.reduce((sum, row) => sum + row["5xx"], 0);
  const maxCalls = Math.max(...identifyBursts.map((row) => row.intercom_calls));
  // Growth over the identify bursts (the same objects throughout); the account phase adds 100 objects, each with
  // its SQLite files open, and is shown in its own row.
  const fdsGrowth = identified.fds - baseline.fds;
  const rssGrowth = identified.rss - baseline.rss;
  const heapGrowth = heapIdentified - heapBaseline;
  const heapMax = Math.max(...bursts.map((row) => Math.max(row.heap_before_mib, row.heap_after_mib))) * 2 ** 20;
  const maxFdsOverRequests = Math.max(...bursts.map((row) => (row.fds_peak - row.fds_before) / row.requests));
  const logPerRequest = Math.max(...bursts.map((row) => row.log_bytes_per_request));
  writeResult({
    name: "contention",
    title: "Contention: concurrent writes to one user or account",
    smoke: SMOKE,
    notes: [
      "Connector and simulator under wrangler dev; every request of a burst sent at once on its own connection (node:http).",
      "Calls: the simulator's journal during the burst and its drain (until Intercom holds D1's final value, quiet 2 s).",
      "fds / RSS: the connector's workerd (/proc/<pid>/fd entries, VmRSS), sampled every 100 ms; 'after' 6 s after the drain",
      "heap: the connector isolate's V8 used heap (inspector, before and after each burst, uncollected garbage included; the growth goal compares two readings taken after a full GC).",
      "(pooled connections close after kj's 5 s keep-alive); wrangler = its Node process.",
      "wrangler dev's ProxyWorker drops a request now and then (503 'Your worker restarted mid-request', workers-sdk #14641):",
      "it never reached the connector; the client retries it, as it would any 503.",
      `Keys: ${keysKept} of ${keysWritten} written keys kept on the hot user; the account kept ${Object.keys(account.properties).length - 1} of ${MEMBERS} member keys and ${account.user_ids.length} members.`,
    ],
    params: { rounds: ROUNDS, burst: BURST, big: BIG, members: MEMBERS, vars: vars.label },
    rows: [
      { metric: "requests answered 5xx (or not at all)", value: fiveXx, goal: "0", pass: fiveXx === 0 },
      { metric: "connector errors logged ('unhandled error')", value: unhandled, goal: "0", pass: unhandled === 0 },
      { metric: "503 overloaded answered by the connector", value: overloaded },
      { metric: "requests wrangler dev's proxy dropped (retried)", value: devProxyRetries },
      {
        metric: "keys kept on the hot user / written",
        value: `${keysKept} / ${keysWritten}`,
        goal: "all",
        pass: keysKept === keysWritten,
      },
      { metric: "Intercom calls per identify burst (max)", value: maxCalls, goal: "≤ 2", pass: maxCalls <= 2 },
      {
        metric: "p50 latency, one GET /healthz at a time (the local stack's floor)",
        value: round(percentile(health, 50)),
        unit: "ms",
      },
      { metric: "p50 latency, one identify at a time", value: round(percentile(serial, 50)), unit: "ms" },
      {
        metric: `p99 latency, identify ×${BURST} (max over rounds)`,
        value: Math.max(...identifyBursts.slice(0, ROUNDS).map((row) => row.p99_ms)),
        unit: "ms",
      },
      { metric: `p99 latency, identify ×${BIG}`, value: identifyBursts.at(-1).p99_ms, unit: "ms" },
      {
        metric: "runtime workerd fds: after the identify bursts − before",
        value: fdsGrowth,
        goal: "≤ 32",
        pass: fdsGrowth <= 32,
      },
      {
        metric: "runtime workerd fds at a burst's peak, per request in it (max)",
        value: round(maxFdsOverRequests, 2),
        goal: "≤ 2",
        pass: maxFdsOverRequests <= 2,
      },
      {
        metric: "connector isolate heap: after the identify bursts − before",
        value: mib(heapGrowth),
        unit: "MiB",
        goal: "≤ 16",
        pass: heapGrowth <= 16 * 2 ** 20,
      },
      {
        metric: "connector isolate heap, largest reading before or after a burst",
        value: mib(heapMax),
        unit: "MiB",
        goal: "≤ 128",
        pass: heapMax <= 128 * 2 ** 20,
      },
      {
        metric: "runtime workerd RSS: after the identify bursts − before (local D1, queues and storage included)",
        value: mib(rssGrowth),
        unit: "MiB",
      },
      {
        metric: "runtime workerd RSS at the largest peak",
        value: mib(Math.max(...bursts.map((row) => row.rss_peak_mib * 2 ** 20))),
        unit: "MiB",
      },
      {
        metric: "wrangler dev's proxy workerd fds at a burst's peak, per request in it (max; not the connector)",
        value: round(Math.max(...bursts.map((row) => (row.proxy_fds_peak - row.proxy_fds_before) / row.requests)), 1),
      },
      {
        metric: "connector log per request (max over bursts)",
        value: logPerRequest,
        unit: "bytes",
        goal: "≤ 4096",
        pass: logPerRequest <= 4096,
      },
    ],
    tables: {
      "Bursts (fds/RSS of the connector's workerd: before, peak during the burst, after it drained)": bursts.map(
        ({ statuses: _statuses, ...row }) => row,
      ),
    },
  });
}

await session.run(main);
