// Node side of the benchmarks: the machine, a plain-text table, and the JSON file of each result
// (test/bench/results/<name>.json). Used by the workerd benchmarks' reporter and by the Node benchmarks.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const RESULTS_DIR = path.join(ROOT, "test", "bench", "results");

/** Cores, CPU model, memory, Node version and the checkout's commit, recorded with every result. */
export function machine() {
  let cpu = os.cpus()[0]?.model ?? "unknown";
  try {
    cpu = /model name\s*:\s*(.*)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? cpu;
  } catch {
    // not Linux
  }
  let commit = null;
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
  } catch {
    // not a checkout
  }
  return {
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpu,
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    load_average: os.loadavg().map((value) => Math.round(value * 100) / 100),
    commit,
  };
}

const cell = (value) =>
  value === undefined || value === null ? "" : typeof value === "number" ? formatNumber(value) : String(value);

function formatNumber(value) {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  return value.toLocaleString("en-US", { maximumFractionDigits: 3 });
}

/** A table of plain objects as aligned text (columns from every row's keys, in first-seen order). */
export function formatTable(rows) {
  if (!rows.length) return "(no rows)";
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cells = rows.map((row) => columns.map((column) => cell(row[column])));
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((line) => line[i].length)));
  const line = (values) =>
    values
      .map((value, i) => value.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [line(columns), line(widths.map((width) => "-".repeat(width))), ...cells.map(line)].join("\n");
}

/** The main table of a result: metric, value, unit, goal, verdict. */
export function resultTable(result) {
  return formatTable(
    result.rows.map((row) => ({
      metric: row.metric,
      value: row.value,
      unit: row.unit ?? "",
      goal: row.goal ?? "",
      verdict: row.pass === undefined ? "" : row.pass ? "PASS" : "MISS",
    })),
  );
}

/** Prints a result and writes it as JSON (with the date and the machine); returns the file written. */
export function writeResult(result) {
  const full = { ...result, date: new Date().toISOString(), machine: machine() };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${result.name}.json`);
  writeFileSync(file, `${JSON.stringify(full, null, 2)}\n`);
  const out = [`\n=== ${result.title}${result.smoke ? " (smoke)" : ""} ===`, resultTable(result)];
  for (const [title, rows] of Object.entries(result.tables ?? {})) out.push(`\n${title}`, formatTable(rows));
  if (result.notes?.length) out.push("", ...result.notes.map((note) => `  ${note}`));
  out.push(`→ ${path.relative(ROOT, file)}`);
  console.log(out.join("\n"));
  return file;
}
