#!/usr/bin/env node
// `npm run build`: bundles the Worker exactly as `wrangler deploy` would (dry run, nothing uploaded) into dist/
// and prints the bundle's size and gzip size (Workers' limit applies to the compressed size).
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { bundleSize } from "./bundle-size.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const outdir = path.join(root, "dist");
// A fresh directory: text modules are named by content hash, so an older build's would be counted too.
rmSync(outdir, { recursive: true, force: true });
const result = spawnSync(
  path.join(root, "node_modules", ".bin", "wrangler"),
  ["deploy", "--dry-run", "--outdir", outdir],
  { cwd: root, stdio: "inherit", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
);
if (result.status !== 0) process.exit(result.status ?? 1);

const { raw, gzip } = bundleSize(outdir);
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`bundle: ${kib(raw)} raw, ${kib(gzip)} gzip (${outdir})`);
