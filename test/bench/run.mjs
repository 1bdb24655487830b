#!/usr/bin/env node
// `npm run bench`: every benchmark in turn, then one summary of their goals. See test/bench/README.md.
//
//   npm run bench                      full sizes (about 12 minutes on 2 cores)
//   npm run bench -- --smoke           tiny sizes (BENCH_SMOKE=1 does the same): checks that they still run (2 min)
//   npm run bench -- calls cost        only some: ack, calls, rate, cost, capacity, import, bundle, cpu, contention,
//                                      lanes, import-100k (not in the default set: ~15 minutes alone)
//
// d1-cost, capacity and import run inside workerd with vitest.bench.config.ts; the others are Node scripts driving
// `wrangler dev` (ack-path, intercom-calls, rate-budget, cpu-heap, contention, lanes) or wrangler's build (bundle).
// Each writes test/bench/results/<name>.json.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { formatTable, RESULTS_DIR, ROOT } from "./report.mjs";

const BENCHES = {
  bundle: { result: "bundle", command: ["node", "test/bench/bundle.mjs"] },
  ack: { result: "ack-path", command: ["node", "test/bench/ack-path.mjs"] },
  calls: { result: "intercom-calls", command: ["node", "test/bench/intercom-calls.mjs"] },
  rate: { result: "rate-budget", command: ["node", "test/bench/rate-budget.mjs"] },
  cost: { result: "d1-cost", vitest: "test/bench/d1-cost.bench.ts" },
  capacity: { result: "capacity", vitest: "test/bench/capacity.bench.ts" },
  import: { result: "import", vitest: "test/bench/import.bench.ts" },
  cpu: { result: "cpu-heap", command: ["node", "--experimental-websocket", "test/bench/cpu-heap.mjs"] },
  contention: { result: "contention", command: ["node", "test/bench/contention.mjs"] },
  lanes: { result: "lanes", command: ["node", "test/bench/lanes.mjs"] },
  // The import at the issue's bench size (100,000 contacts, 5,000 companies): import.bench.ts in its own vitest run.
  "import-100k": {
    result: "import-100k",
    command: ["npx", "vitest", "run", "--config", "vitest.bench.config.ts", "test/bench/import.bench.ts"],
    env: { BENCH_IMPORT_100K: "1" },
    optional: true,
  },
  // The same with every contact and company captured, not a sample (~20 minutes on a quiet 2-core machine).
  "import-100k-full": {
    result: "import-100k",
    command: ["npx", "vitest", "run", "--config", "vitest.bench.config.ts", "test/bench/import.bench.ts"],
    env: { BENCH_IMPORT_100K: "full" },
    optional: true,
  },
};

const { values, positionals } = parseArgs({
  options: {
    smoke: { type: "boolean", default: process.env.BENCH_SMOKE === "1" },
    help: { type: "boolean", short: "h" },
  },
  allowPositionals: true,
});
if (values.help) {
  console.log(`usage: npm run bench -- [--smoke] [${Object.keys(BENCHES).join("|")} …]`);
  process.exit(0);
}
const unknown = positionals.filter((name) => !(name in BENCHES));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(", ")}; pick from ${Object.keys(BENCHES).join(", ")}`);
  process.exit(2);
}
const selected = positionals.length ? positionals : Object.keys(BENCHES).filter((name) => !BENCHES[name].optional);
const env = { ...process.env, BENCH_SMOKE: values.smoke ? "1" : "", WRANGLER_SEND_METRICS: "false" };
const started = Date.now();
const failures = [];

const vitestFiles = selected.filter((name) => BENCHES[name].vitest).map((name) => BENCHES[name].vitest);
for (const name of selected) {
  const bench = BENCHES[name];
  if (bench.vitest) {
    if (bench.vitest !== vitestFiles[0]) continue; // the workerd ones run in one vitest invocation, below
    const args = ["vitest", "run", "--config", "vitest.bench.config.ts", ...vitestFiles];
    console.log(`\n▶ npx ${args.join(" ")}${values.smoke ? " (smoke)" : ""}`);
    const result = spawnSync("npx", args, { cwd: ROOT, env, stdio: "inherit" });
    if (result.status !== 0) failures.push(`vitest benchmarks (exit ${result.status})`);
    continue;
  }
  const command = [...bench.command, ...(values.smoke && !bench.env ? ["--smoke"] : [])];
  console.log(`\n▶ ${command.join(" ")}`);
  const result = spawnSync(command[0], command.slice(1), {
    cwd: ROOT,
    env: { ...env, ...bench.env },
    stdio: "inherit",
  });
  if (result.status !== 0) failures.push(`${name} (exit ${result.status})`);
}

// One summary of every goal, from the JSON files this run wrote.
const rows = [];
for (const name of selected) {
  const file = path.join(RESULTS_DIR, `${BENCHES[name].result}.json`);
  if (!existsSync(file) || statSync(file).mtimeMs < started) {
    rows.push({
      benchmark: BENCHES[name].result,
      metric: "(no result written by this run)",
      value: "",
      goal: "",
      verdict: "",
    });
    continue;
  }
  const result = JSON.parse(readFileSync(file, "utf8"));
  for (const row of result.rows.filter((row) => row.goal !== undefined)) {
    rows.push({
      benchmark: result.name,
      metric: row.metric,
      value: `${row.value}${row.unit ? ` ${row.unit}` : ""}`,
      goal: row.goal,
      verdict: row.pass ? "PASS" : "MISS",
    });
  }
}
console.log(`\n=== Summary${values.smoke ? " (smoke: sizes too small for the goals to mean much)" : ""} ===`);
console.log(formatTable(rows));
console.log(`results: ${path.relative(ROOT, RESULTS_DIR)}/*.json; ${((Date.now() - started) / 60_000).toFixed(1)} min`);
if (failures.length) {
  console.error(`failed to run: ${failures.join(", ")}`);
  process.exit(1);
}
