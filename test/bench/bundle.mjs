#!/usr/bin/env node
// Benchmark 5, the bundle: the Worker built as `wrangler deploy` builds it (dry run, into a temporary directory, with
// esbuild's metafile), its size and gzip size (computed as scripts/build.mjs does: every .js/.mjs/.wasm output,
// gzip level 9), the share each package takes in the output, and the Worker's start-up cost: `wrangler check startup`
// profiles the evaluation of the module in workerd, and each CPU sample is attributed (through the bundle's source
// map) to the package whose code it was running, so the intercom-client SDK's part of the start-up shows.
//
//   node test/bench/bundle.mjs [--smoke] [--runs 7] [--keep]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import sourceMap from "source-map-js";
import { bundleSize } from "../../scripts/bundle-size.mjs";
import { ROOT, writeResult } from "./report.mjs";

const { values: args } = parseArgs({
  options: {
    smoke: { type: "boolean", default: process.env.BENCH_SMOKE === "1" },
    runs: { type: "string" },
    keep: { type: "boolean", default: false },
  },
});
const RUNS = Number(args.runs ?? (args.smoke ? 1 : 7));
const GOAL_GZIP_BYTES = 400 * 1024;
const wrangler = path.join(ROOT, "node_modules", ".bin", "wrangler");
const childEnv = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1" };
const tmp = mkdtempSync(path.join(os.tmpdir(), "intercom-bench-bundle-"));
const outdir = path.join(tmp, "dist");

function run(argv) {
  const result = spawnSync(wrangler, argv, {
    cwd: ROOT,
    env: childEnv,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (result.status !== 0) throw new Error(`wrangler ${argv.join(" ")} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** `node_modules/<package>` (scoped too) of a bundled path, `src` for our code, else `other`. */
function packageOf(file) {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  // drizzle-orm's own source maps point one level too high: node_modules/src/*.ts are its files.
  if (match) return match[1] === "src" ? "drizzle-orm" : match[1];
  if (/(^|\/)src\//.test(file)) return "src (the connector)";
  return `other (${path.basename(file)})`;
}

const kib = (bytes) => Math.round((bytes / 1024) * 10) / 10;
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2
    ? sorted[(sorted.length - 1) / 2]
    : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
};

try {
  // Build exactly as `npm run build` does, plus the metafile.
  // --outfile: the multipart upload body, which `wrangler check startup --worker` takes; --outdir: the same build as
  // files (index.js and its source map), as `npm run build` writes them.
  const uploadBody = path.join(tmp, "worker.bundle");
  run(["deploy", "--dry-run", "--outdir", outdir, "--outfile", uploadBody, "--metafile", path.join(tmp, "meta.json")]);
  const { raw, gzip, main } = bundleSize(outdir);
  console.log(`[bench] bundle: ${kib(raw)} KiB raw, ${kib(gzip)} KiB gzip`);

  // Bytes in the output per package (esbuild's bytesInOutput; minified, before gzip).
  const meta = JSON.parse(readFileSync(path.join(tmp, "meta.json"), "utf8"));
  const output = Object.entries(meta.outputs).find(
    ([file, out]) => /\.m?js$/.test(file) && Object.keys(out.inputs).length,
  )[1];
  const bytesByPackage = new Map();
  for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) {
    bytesByPackage.set(packageOf(file), (bytesByPackage.get(packageOf(file)) ?? 0) + bytesInOutput);
  }
  const inputBytes = [...bytesByPackage.values()].reduce((a, b) => a + b, 0);

  // Start-up: profile the module's evaluation in workerd, RUNS times; attribute each sample through the source map.
  const consumer = new sourceMap.SourceMapConsumer(JSON.parse(readFileSync(`${main}.map`, "utf8")));
  const mainName = path.basename(main);
  const startups = [];
  const cpuByPackage = new Map();
  for (let i = 0; i < RUNS; i++) {
    const profileFile = path.join(tmp, `startup-${i}.cpuprofile`);
    run(["check", "startup", "--worker", uploadBody, "--outfile", profileFile]);
    const profile = JSON.parse(readFileSync(profileFile, "utf8"));
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    const parents = new Map();
    for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
    // The package of a frame of the bundle: the source of the function's start, through the source map.
    const ownerOf = (frame) => {
      if (!frame.url.endsWith(mainName)) return null;
      if (frame.lineNumber < 0) return "(bundle top level)";
      const position = consumer.originalPositionFor({ line: frame.lineNumber + 1, column: frame.columnNumber });
      return position.source ? packageOf(position.source) : "(bundle, unmapped)";
    };
    let total = 0;
    profile.samples.forEach((id, index) => {
      const node = nodes.get(id);
      const delta = (profile.timeDeltas[index] ?? 0) / 1000;
      const name = node.callFrame.functionName;
      if (name === "(idle)" || name === "(program)") return;
      total += delta;
      // Builtins (JSON.parse, RegExp, …) count for the nearest caller in the bundle.
      let owner = name === "(garbage collector)" ? "(garbage collector)" : null;
      for (let at = node; !owner && at; at = nodes.get(parents.get(at.id))) owner = ownerOf(at.callFrame);
      owner ??= "(workerd, outside the bundle)";
      cpuByPackage.set(owner, (cpuByPackage.get(owner) ?? 0) + delta / RUNS);
    });
    startups.push(total);
  }
  const startupMs = median(startups);
  const sdkCpu = cpuByPackage.get("intercom-client") ?? 0;
  const cpuTotal = [...cpuByPackage.values()].reduce((a, b) => a + b, 0);
  console.log(`[bench] start-up CPU: median ${startupMs.toFixed(1)} ms over ${RUNS} runs`);

  const sdkBytes = bytesByPackage.get("intercom-client") ?? 0;
  const packages = [...new Set([...bytesByPackage.keys(), ...cpuByPackage.keys()])]
    .map((name) => ({
      package: name,
      "KiB in bundle": bytesByPackage.has(name) ? kib(bytesByPackage.get(name)) : "",
      "% of bundle": bytesByPackage.has(name) ? Math.round((1000 * bytesByPackage.get(name)) / inputBytes) / 10 : "",
      "start-up CPU ms (mean)": cpuByPackage.has(name) ? Math.round(cpuByPackage.get(name) * 10) / 10 : "",
      "% of start-up": cpuByPackage.has(name) ? Math.round((1000 * cpuByPackage.get(name)) / cpuTotal) / 10 : "",
    }))
    .sort((a, b) => (Number(b["KiB in bundle"]) || 0) - (Number(a["KiB in bundle"]) || 0));

  // The SDK alone, bundled and minified as the Worker bundles it: what replacing it would save, gzip included.
  const sdk = await build({
    stdin: { contents: 'export { IntercomClient } from "intercom-client";', resolveDir: ROOT, loader: "js" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    write: false,
    logLevel: "silent",
  });
  const sdkAlone = sdk.outputFiles[0].contents;
  const sdkAloneGzip = gzipSync(sdkAlone, { level: 9 }).length;

  writeResult({
    name: "bundle",
    title: "Bundle size and start-up",
    smoke: args.smoke,
    notes: [
      "Built with `wrangler deploy --dry-run --outdir <tmp> --metafile` (what `npm run build` runs); gzip level 9 of the .js/.wasm outputs, as scripts/build.mjs.",
      "Package shares: esbuild's bytesInOutput per input file (minified, before gzip). 'Bundled alone': `export { IntercomClient }`",
      "bundled and minified by itself with esbuild (an estimate of what replacing the SDK would save, gzip included).",
      `Start-up: \`wrangler check startup --worker <bundle>\` (${RUNS} runs): workerd's CPU profile of the module's evaluation, idle excluded.`,
      "Samples (about 1 ms apart) are attributed through the source map to the package of the function running; a rough split.",
      "Cloudflare's limit on start-up is 1 s of CPU (measured there on other hardware); this machine's figure is only indicative.",
    ],
    params: { runs: RUNS },
    rows: [
      { metric: "bundle (raw)", value: kib(raw), unit: "KiB" },
      { metric: "bundle (gzip -9)", value: kib(gzip), unit: "KiB", goal: "≤ 400 KiB", pass: gzip <= GOAL_GZIP_BYTES },
      {
        metric: "intercom-client share of the bundle",
        value: Math.round((1000 * sdkBytes) / inputBytes) / 10,
        unit: "%",
      },
      { metric: "intercom-client in the bundle", value: kib(sdkBytes), unit: "KiB (minified)" },
      {
        metric: "intercom-client bundled alone: raw / gzip",
        value: `${kib(sdkAlone.length)} / ${kib(sdkAloneGzip)}`,
        unit: "KiB",
      },
      { metric: "start-up CPU, median of runs", value: Math.round(startupMs * 10) / 10, unit: "ms" },
      {
        metric: "start-up CPU, min / max",
        value: `${Math.min(...startups).toFixed(1)} / ${Math.max(...startups).toFixed(1)}`,
        unit: "ms",
      },
      { metric: "start-up CPU in intercom-client code", value: Math.round(sdkCpu * 10) / 10, unit: "ms" },
      { metric: "intercom-client share of start-up", value: Math.round((1000 * sdkCpu) / cpuTotal) / 10, unit: "%" },
    ],
    tables: { "By package (bundle bytes; start-up CPU)": packages },
  });
} finally {
  if (!args.keep) rmSync(tmp, { recursive: true, force: true });
}
