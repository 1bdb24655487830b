#!/usr/bin/env node
// Benchmark 2, Intercom-call efficiency: a scripted CDP workload through the real ingest routes (PUT /v1/users,
// PUT /v1/accounts/:id, PUT|DELETE /v1/accounts/:id/users/:uid, POST /v1/actions) against the simulator, with the
// whole product running locally as `npm run dev` runs it (simulator Worker and connector under `wrangler dev`).
// Counts every REST call the connector makes (the simulator's journal) per effective change and per ingest write,
// and compares with search-then-write (2 calls per write, what Segment and RudderStack do).
//
// Effective change: an ingest write whose own result says it changed what Intercom should hold, i.e. an identify,
// account upsert, link or unlink that enqueued a sync (`queued > 0` in its "user identified" / "account upserted" /
// "user linked to account" / "user unlinked from account" log line), or an accepted action ("action accepted":
// add_tag, remove_tag, trigger_event each must reach Intercom). No-ops (nothing changed) and changes of unmapped
// properties only (changed, queued 0) are not. The script's own model of the workload predicts the same count; both
// are reported. Each write of a burst counts as its own effective change; the "strict" figure counts a burst as one.
//
// Workload (seeded PRNG, the same every run): onboarding of 50 accounts and 1,000 users (unpaced, then drained), then
// a stream paced at 40 writes/s over 8 lanes (a user's writes always in the same lane, so the expected end state is
// exact): no-op identifies, unmapped changes, mapped changes (name or a `health` score mapped to a float custom
// attribute), bursts of 15 score updates on one user, new users, links, unlinks, account changes and no-ops,
// add_tag / remove_tag / trigger_event actions; at least 10,000 writes in all. Then drained (the journal quiet for
// 5 s and no action queued), the end state in the simulator checked against the model, and finally the simulator's
// webhooks (the echoes of our own writes, held back until then) delivered in order to the connector: the Intercom
// calls they cause and the CDP users they write are counted (0 expected).
//
//   node test/bench/intercom-calls.mjs [--smoke] [--keep]
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadDevConfig, mintDevToken } from "../../scripts/dev-vars.mjs";
import { benchSession, devVars, sleep, snapshotApp, wranglerSync } from "./local-worker.mjs";
import { writeResult } from "./report.mjs";

const { values: args } = parseArgs({
  options: {
    smoke: { type: "boolean", default: process.env.BENCH_SMOKE === "1" },
    keep: { type: "boolean", default: false },
  },
});
const SMOKE = args.smoke;
const USERS = SMOKE ? 60 : 1_000;
const ACCOUNTS = SMOKE ? 5 : 50;
const TARGET_WRITES = SMOKE ? 400 : 10_500;
const LANES = 8;
/** Stream writes per second (the onboarding runs unpaced): a CDP pushing changes as they happen, not a bulk load;
 * 40/s is what a 2-core machine sustains through the whole local stack (faster, the lanes fall behind and bunch up). */
const STREAM_RATE = 40;
const BURST_LENGTH = 15;
const TAGS = ["vip", "beta", "churn-risk", "champion", "trial"];
const EVENTS = ["exported-report", "invited-teammate", "hit-usage-limit"];
const APP_ID = "benchcalls";
const SIM_TOKEN = "bench-calls-token";
const WORKSPACE_ID = "ws_bench_calls";
const SEED = 2026;

const session = benchSession({ prefix: "intercom-bench-calls-", keep: args.keep });
const { tmp, persist, d1 } = session;

const round = (value, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

/** mulberry32, as in support.ts. */
function prng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function request(url, init = {}) {
  const response = await fetch(url, { ...init, headers: { "content-type": "application/json", ...init.headers } });
  const text = await response.text();
  if (!response.ok)
    throw new Error(`${init.method ?? "GET"} ${url} answered ${response.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}

/** The script: writes in lanes, and the model of what Intercom should hold at the end. */
function script() {
  const random = prng(SEED);
  const int = (n) => Math.floor(random() * n);
  const r2 = () => Math.round(random() * 100) / 100;
  const users = new Map();
  const accounts = new Map();
  const onboarding = [];
  const stream = [];
  const lane = (n) => n % LANES;
  const identify = (n, properties, email) => ({
    method: "PUT",
    path: "/v1/users",
    body: { user_id: `u-${n}`, ...(email ? { email } : {}), properties },
  });
  const addUser = (into) => {
    const n = users.size + 1;
    const model = { name: `User ${n}`, health: r2(), accounts: new Set(), tags: new Set() };
    users.set(n, model);
    into.push({
      kind: "new user",
      lane: lane(n),
      effective: true,
      ...identify(n, { full_name: model.name, health: model.health, plan: "free" }, `user${n}@example.com`),
    });
  };
  for (let k = 1; k <= ACCOUNTS; k++) {
    const model = { plan: ["Starter", "Scale", "Enterprise"][k % 3], mrr: 100 * k };
    accounts.set(k, model);
    onboarding.push({
      kind: "new account",
      lane: k % LANES,
      effective: true,
      method: "PUT",
      path: `/v1/accounts/a-${k}`,
      body: { name: `Account ${k}`, properties: { ...model } },
    });
  }
  for (let i = 0; i < USERS; i++) addUser(onboarding);

  let writes = onboarding.length;
  let bursts = 0;
  let serial = 0;
  while (writes < TARGET_WRITES) {
    const r = random();
    const n = 1 + int(users.size);
    const user = users.get(n);
    const l = lane(n);
    serial++;
    if (r < 0.28) {
      stream.push({
        kind: "no-op identify",
        lane: l,
        effective: false,
        ...identify(n, { full_name: user.name, health: user.health }),
      });
    } else if (r < 0.38) {
      stream.push({
        kind: "unmapped change",
        lane: l,
        effective: false,
        ...identify(n, { last_page: `/page/${serial}` }),
      });
    } else if (r < 0.6) {
      const before = `${user.name}|${user.health}`;
      if (random() < 0.5) user.health = r2();
      else user.name = `User ${n} v${serial}`;
      stream.push({
        kind: "mapped change",
        lane: l,
        effective: before !== `${user.name}|${user.health}`,
        ...identify(n, { full_name: user.name, health: user.health }),
      });
    } else if (r < 0.615) {
      bursts++;
      for (let b = 0; b < BURST_LENGTH; b++) {
        const before = user.health;
        user.health = r2();
        stream.push({
          kind: "burst write",
          lane: l,
          burst: bursts,
          effective: before !== user.health,
          ...identify(n, { health: user.health }),
        });
      }
      writes += BURST_LENGTH - 1;
    } else if (r < 0.645) {
      addUser(stream);
    } else if (r < 0.745) {
      const k = 1 + int(ACCOUNTS);
      const effective = !user.accounts.has(k);
      user.accounts.add(k);
      stream.push({ kind: "link", lane: l, effective, method: "PUT", path: `/v1/accounts/a-${k}/users/u-${n}` });
    } else if (r < 0.775 && user.accounts.size > 0) {
      const k = [...user.accounts][int(user.accounts.size)];
      user.accounts.delete(k);
      stream.push({
        kind: "unlink",
        lane: l,
        effective: true,
        method: "DELETE",
        path: `/v1/accounts/a-${k}/users/u-${n}`,
      });
    } else if (r < 0.825) {
      const k = 1 + int(ACCOUNTS);
      const model = accounts.get(k);
      const change = random() < 0.5;
      if (change) model.mrr += 10;
      stream.push({
        kind: change ? "account change" : "account no-op",
        lane: k % LANES,
        effective: change,
        method: "PUT",
        path: `/v1/accounts/a-${k}`,
        body: { properties: { ...model } },
      });
    } else {
      const a = random();
      const action = (body) => ({
        lane: l,
        effective: true,
        method: "POST",
        path: "/v1/actions",
        body: { user_id: `u-${n}`, ...body },
      });
      if (a < 0.3 && user.tags.size > 0) {
        const tag = [...user.tags][int(user.tags.size)];
        user.tags.delete(tag);
        stream.push({ kind: "remove_tag", ...action({ type: "remove_tag", tag }) });
      } else if (a < 0.7) {
        const tag = TAGS[int(TAGS.length)];
        user.tags.add(tag);
        stream.push({ kind: "add_tag", ...action({ type: "add_tag", tag }) });
      } else {
        stream.push({
          kind: "trigger_event",
          ...action({ type: "trigger_event", event: { name: EVENTS[int(EVENTS.length)], metadata: { serial } } }),
        });
      }
    }
    writes++;
  }
  return { users, accounts, onboarding, stream, bursts };
}

/** Runs writes in their lanes, in order within a lane; paced at `perSecond` overall when given. */
async function runLanes(base, headers, list, perSecond) {
  const start = Date.now();
  const at = new Map(list.map((write, i) => [write, start + (perSecond ? (1000 * i) / perSecond : 0)]));
  const lanes = Array.from({ length: LANES }, (_, l) => list.filter((write) => write.lane === l));
  await Promise.all(
    lanes.map(async (writes) => {
      for (const write of writes) {
        const wait = at.get(write) - Date.now();
        if (wait > 0) await sleep(wait);
        await request(`${base}${write.path}`, {
          method: write.method,
          headers,
          ...(write.body ? { body: JSON.stringify(write.body) } : {}),
        });
      }
    }),
  );
  return (Date.now() - start) / 1000;
}

/** The writes' own results, from the connector's log lines (wrangler dev prints each console object). */
function writeResults(logFile) {
  const text = readFileSync(logFile, "utf8");
  const counts = {
    identify: 0,
    identifyQueued: 0,
    account: 0,
    accountQueued: 0,
    membership: 0,
    membershipQueued: 0,
    actions: 0,
  };
  const objects = text.split(/\n(?=\{)/);
  for (const object of objects) {
    const msg = /msg: '([^']+)'/.exec(object)?.[1];
    if (!msg) continue;
    const queued = Number(/queued: (\d+)/.exec(object)?.[1] ?? 0);
    if (msg === "user identified") {
      counts.identify++;
      if (queued > 0) counts.identifyQueued++;
    } else if (msg === "account upserted") {
      counts.account++;
      if (queued > 0) counts.accountQueued++;
    } else if (msg === "user linked to account" || msg === "user unlinked from account") {
      counts.membership++;
      if (queued > 0) counts.membershipQueued++;
    } else if (msg === "action accepted") counts.actions++;
  }
  return counts;
}

async function main() {
  snapshotApp(path.join(tmp, "app"));
  const vars = devVars(tmp);
  const config = loadDevConfig(vars.file);
  const secret = vars.vars.INTERCOM_CLIENT_SECRET;
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
  // Webhooks wait in the simulator's outbox until the echo phase; the rate limit is out of the way.
  await request(`${sim.base}/_sim/config`, {
    method: "POST",
    body: JSON.stringify({
      webhook_delivery: "manual",
      client_secret: secret,
      webhook_url: `${connector.base}/webhooks/intercom`,
    }),
  });
  await request(`${sim.base}/_sim/workspaces`, {
    method: "POST",
    body: JSON.stringify({
      app_id: APP_ID,
      token: SIM_TOKEN,
      name: "Bench calls",
      rate_limit: { limit: 1_000_000, window_ms: 10_000 },
    }),
  });
  await request(`${sim.base}/data_attributes`, {
    method: "POST",
    headers: { authorization: `Bearer ${SIM_TOKEN}` },
    body: JSON.stringify({ name: "health", model: "contact", data_type: "float" }),
  });
  const headers = {
    authorization: `Bearer ${await mintDevToken(config, { workspace: WORKSPACE_ID, scope: "admin ingest", expires: "3h" })}`,
  };
  const connection = await request(`${connector.base}/v1/connections`, {
    method: "POST",
    headers,
    body: JSON.stringify({ name: "Bench", access_token: SIM_TOKEN }),
  });
  await request(`${connector.base}/v1/connections/${connection.id}`, {
    method: "PATCH",
    headers,
    body: JSON.stringify({
      destination: {
        enabled: true,
        allow_create: true,
        mappings: { contact: [{ from: "health", to: "custom_attributes.health", type: "float" }], company: [] },
      },
    }),
  });
  const journal = async () => (await request(`${sim.base}/_sim/journal?app_id=${APP_ID}`)).entries;
  const skip = (await journal()).length;
  const queuedActions = () =>
    d1(`SELECT count(*) AS n FROM actions WHERE connection_id = '${connection.id}' AND status = 'queued'`)[0].n;
  const drain = async (what) => {
    let last = -1;
    let quietSince = Date.now();
    const deadline = Date.now() + 20 * 60_000;
    for (;;) {
      await sleep(1_000);
      const length = (await journal()).length;
      if (length !== last) {
        last = length;
        quietSince = Date.now();
      } else if (Date.now() - quietSince >= 5_000 && queuedActions() === 0) return;
      if (Date.now() > deadline) throw new Error(`${what} did not drain in 20 minutes`);
    }
  };

  const { users, accounts, onboarding, stream, bursts } = script();
  let started = Date.now();
  await runLanes(connector.base, headers, onboarding, null);
  await drain("the onboarding");
  const onboardingCalls = (await journal()).length - skip;
  console.log(
    `[bench] onboarding: ${onboarding.length} writes, ${onboardingCalls} calls, ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  const streamSeconds = await runLanes(connector.base, headers, stream, STREAM_RATE);
  console.log(`[bench] stream: ${stream.length} writes in ${streamSeconds.toFixed(1)} s; draining`);
  started = Date.now();
  await drain("the stream");
  const drainSeconds = (Date.now() - started) / 1000 - 5;
  const entries = (await journal()).slice(skip);
  const calls = entries.length;
  const limited = entries.filter((entry) => entry.status === 429).length;
  const failedActions = d1(
    `SELECT count(*) AS n FROM actions WHERE connection_id = '${connection.id}' AND status = 'failed'`,
  )[0].n;

  // Effective changes: the writes' own results (log lines) and the model's prediction.
  const all = [...onboarding, ...stream];
  const results = writeResults(connectorLog);
  const effective = results.identifyQueued + results.accountQueued + results.membershipQueued + results.actions;
  const modelEffective = all.filter((write) => write.effective).length;
  const burstEffective = all.filter((write) => write.burst !== undefined && write.effective);
  const effectiveStrict = effective - burstEffective.length + new Set(burstEffective.map((write) => write.burst)).size;
  const onboardingEffective = onboarding.filter((write) => write.effective).length;

  // The end state in the simulator against the model.
  const state = await request(`${sim.base}/_sim/state?app_id=${APP_ID}`);
  const contactByExternal = new Map(state.contacts.map((contact) => [contact.external_id, contact]));
  const companyById = new Map(state.companies.map((company) => [company.id, company]));
  const tagNames = new Map(state.tags.map((tag) => [tag.id, tag.name]));
  const attached = new Set(
    state.attachments.map((a) => `${a.contact_id}:${companyById.get(a.company_id)?.company_id}`),
  );
  const tagged = new Set(state.taggings.map((t) => `${t.contact_id}:${tagNames.get(t.tag_id)}`));
  let mismatches = 0;
  const examples = [];
  const miss = (what) => {
    mismatches++;
    if (examples.length < 5) examples.push(what);
  };
  for (const [n, model] of users) {
    const contact = contactByExternal.get(`u-${n}`);
    if (!contact) {
      miss(`u-${n} missing`);
      continue;
    }
    if (contact.name !== model.name) miss(`u-${n} name`);
    if (contact.custom_attributes.health !== model.health) miss(`u-${n} health`);
    for (let k = 1; k <= ACCOUNTS; k++)
      if (model.accounts.has(k) !== attached.has(`${contact.id}:a-${k}`)) miss(`u-${n} attachment a-${k}`);
    for (const tag of TAGS) if (model.tags.has(tag) !== tagged.has(`${contact.id}:${tag}`)) miss(`u-${n} tag ${tag}`);
  }
  for (const [k, model] of accounts) {
    const company = state.companies.find((c) => c.company_id === `a-${k}`);
    if (!company || company.monthly_spend !== model.mrr) miss(`a-${k} monthly_spend`);
  }
  if (state.contacts.length !== users.size) miss(`${state.contacts.length} contacts for ${users.size} users`);
  console.log(
    `[bench] ${calls} calls for ${effective} effective changes (model: ${modelEffective}); end state: ${mismatches} mismatches ${examples.join("; ")}`,
  );

  // Echoes: the simulator's held-back webhooks, delivered in order, signed as Intercom signs.
  const pending = (await request(`${sim.base}/_sim/webhooks`)).pending;
  const echoStart = Date.now();
  let echoErrors = 0;
  for (const envelope of pending) {
    const body = JSON.stringify({ ...envelope, delivery_status: "pending" });
    const response = await fetch(`${connector.base}/webhooks/intercom`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-hub-signature": `sha1=${createHmac("sha1", secret).update(body).digest("hex")}`,
      },
      body,
    });
    await response.arrayBuffer();
    if (response.status !== 200) echoErrors++;
  }
  const withId = pending.filter((envelope) => envelope.id !== null).length;
  let processed = 0;
  for (let quiet = 0, last = -1; quiet < 3; ) {
    await sleep(3_000);
    processed = d1(`SELECT count(*) AS n FROM processed_notifications WHERE key LIKE '${APP_ID}:%'`)[0].n;
    quiet = processed === last ? quiet + 1 : 0;
    last = processed;
    if (processed >= withId) break;
  }
  await drain("the echoes");
  const echoCalls = (await journal()).length - skip - calls;
  const echoWrites = d1(
    `SELECT count(*) AS n FROM users WHERE workspace_id = '${WORKSPACE_ID}' AND updated_at >= ${echoStart}`,
  )[0].n;
  const cdpUsers = d1(`SELECT user_id, properties FROM users WHERE workspace_id = '${WORKSPACE_ID}'`);
  const cdpDiffering = cdpUsers.filter((row) => {
    const model = users.get(Number(row.user_id.slice(2)));
    const properties = JSON.parse(row.properties);
    return !model || properties.full_name !== model.name || properties.health !== model.health;
  }).length;
  console.log(
    `[bench] ${pending.length} echoes delivered, ${processed} processed: ${echoCalls} further calls, ${echoWrites} CDP users written`,
  );

  const byEndpoint = new Map();
  for (const entry of entries) {
    let route = entry.path
      .replace(/^\/contacts\/(?!search)[^/]+/, "/contacts/{id}")
      .replace(/\/(companies|tags)\/[^/]+$/, "/$1/{id}");
    if (entry.method === "GET" && route.startsWith("/companies")) route = "/companies";
    byEndpoint.set(`${entry.method} ${route}`, (byEndpoint.get(`${entry.method} ${route}`) ?? 0) + 1);
  }
  const kinds = [...new Set(all.map((write) => write.kind))];
  const totalWrites = all.length;
  writeResult({
    name: "intercom-calls",
    title: "Intercom-call efficiency",
    smoke: SMOKE,
    notes: [
      "Effective change: an ingest write whose own result says Intercom must change — identify / account upsert / link / unlink",
      "that enqueued a sync (queued > 0 in its log line) — or an accepted action. No-ops and unmapped-only changes are not.",
      `Bursts: ${bursts} bursts of ${BURST_LENGTH} score updates on one user; 'strict' counts each burst as one change.`,
      "Calls: every REST request in the simulator's journal for the workspace after setup, until quiet for 5 s with no action queued.",
      "Search-then-write: 2 calls per ingest write, whatever it changed.",
      `Onboarding (${ACCOUNTS} accounts, ${USERS} users) unpaced, then drained; the stream paced at ${STREAM_RATE} writes/s over ${LANES} lanes.`,
      "Simulator Worker and connector under wrangler dev (as `npm run dev`); simulator rate limit out of the way (1,000,000 per 10 s).",
      "Echoes: the webhooks the simulator held back during the run, delivered in order afterwards (a worst case for staleness checks).",
    ],
    params: {
      users: USERS,
      accounts: ACCOUNTS,
      target_writes: TARGET_WRITES,
      lanes: LANES,
      stream_rate: STREAM_RATE,
      burst_length: BURST_LENGTH,
      seed: SEED,
      vars: vars.label,
    },
    rows: [
      { metric: "users at the end", value: users.size },
      { metric: "ingest writes (HTTP 2xx)", value: totalWrites },
      { metric: "effective changes (the writes' own results)", value: effective },
      { metric: "effective changes predicted by the script's model", value: modelEffective },
      { metric: "effective changes, a burst counted once (strict)", value: effectiveStrict },
      { metric: "Intercom calls (journal, after draining)", value: calls },
      {
        metric: "calls per effective change",
        value: round(calls / effective),
        goal: "≤ 1.05",
        pass: calls / effective <= 1.05,
      },
      { metric: "calls per effective change (strict)", value: round(calls / effectiveStrict) },
      { metric: "calls per ingest write", value: round(calls / totalWrites) },
      { metric: "search-then-write: calls (2 per write)", value: 2 * totalWrites },
      { metric: "search-then-write: calls per effective change", value: round((2 * totalWrites) / effective) },
      { metric: "calls saved vs search-then-write", value: `${round(100 * (1 - calls / (2 * totalWrites)), 1)} %` },
      {
        metric: "onboarding: writes / effective (model) / calls",
        value: `${onboarding.length} / ${onboardingEffective} / ${onboardingCalls}`,
      },
      {
        metric: "stream: writes / effective (model) / calls",
        value: `${stream.length} / ${modelEffective - onboardingEffective} / ${calls - onboardingCalls}`,
      },
      {
        metric: "stream: calls per effective change (model)",
        value: round((calls - onboardingCalls) / (modelEffective - onboardingEffective)),
      },
      { metric: "stream rate achieved", value: round(stream.length / streamSeconds, 1), unit: "writes/s" },
      { metric: "drain after the last write (quiet 5 s not counted)", value: round(drainSeconds, 1), unit: "s" },
      { metric: "429 answers", value: limited },
      { metric: "end-state mismatches vs the script's model", value: mismatches, goal: "0", pass: mismatches === 0 },
      { metric: "actions failed", value: failedActions },
      {
        metric: "echo webhooks delivered / refused / processed",
        value: `${pending.length} / ${echoErrors} / ${processed}`,
      },
      { metric: "Intercom calls caused by the echoes", value: echoCalls, goal: "0", pass: echoCalls === 0 },
      { metric: "CDP users written by the echoes", value: echoWrites, goal: "0", pass: echoWrites === 0 },
      {
        metric: "CDP users differing from their last CDP write, after the echoes",
        value: cdpDiffering,
        goal: "0",
        pass: cdpDiffering === 0,
      },
    ],
    tables: {
      "Writes by kind": kinds.map((kind) => {
        const of = all.filter((write) => write.kind === kind);
        return { kind, writes: of.length, "effective (model)": of.filter((write) => write.effective).length };
      }),
      "The writes' own results (connector log lines)": [
        { write: "identify (PUT /v1/users)", logged: results.identify, "queued > 0": results.identifyQueued },
        { write: "account upsert", logged: results.account, "queued > 0": results.accountQueued },
        { write: "link / unlink", logged: results.membership, "queued > 0": results.membershipQueued },
        { write: "action accepted", logged: results.actions, "queued > 0": results.actions },
      ],
      "Intercom calls by endpoint": [...byEndpoint]
        .sort((a, b) => b[1] - a[1])
        .map(([endpoint, n]) => ({ endpoint, calls: n })),
    },
  });
}

await session.run(main);
