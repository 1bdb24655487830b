/**
 * Shared plumbing of the workerd benchmarks: smoke sizes, a seeded PRNG, and the result record that
 * test/bench/results-reporter.mjs prints as a table and writes as JSON.
 */
import { env } from "cloudflare:workers";

/** Smoke mode (`npm run bench -- --smoke`): tiny workloads that only check that the benchmarks still run. */
export const SMOKE = env.BENCH_SMOKE === "1";

/** `full` in a full run, `smoke` in smoke mode. */
export function size(full: number, smoke: number): number {
  return SMOKE ? smoke : full;
}

/** One line of a benchmark's table. `goal` is text such as "≤ 1.05"; `pass` is its verdict (undefined: no goal). */
export interface BenchRow {
  metric: string;
  value: number | string;
  unit?: string;
  goal?: string;
  pass?: boolean;
}

export interface BenchResult {
  /** File name of the JSON (`test/bench/results/<name>.json`). */
  name: string;
  title: string;
  /** What was measured and how, in a few lines (printed under the table and kept in the JSON). */
  notes: string[];
  params: Record<string, unknown>;
  rows: BenchRow[];
  /** Further tables: title → rows of plain objects. */
  tables?: Record<string, Array<Record<string, unknown>>>;
}

/** Hands a result to the reporter (through the test's meta, which vitest carries from workerd to Node). */
export function record(task: { meta: object }, result: BenchResult): void {
  (task.meta as { bench?: BenchResult & { smoke: boolean } }).bench = { ...result, smoke: SMOKE };
}

/** A row with a goal: `pass` is computed from `ok`. */
export function goalRow(
  metric: string,
  value: number,
  goal: string,
  ok: (value: number) => boolean,
  unit?: string,
): BenchRow {
  return { metric, value: round(value), goal, pass: ok(value), ...(unit ? { unit } : {}) };
}

/** Rounds to `digits` decimals (3 by default) for tables. */
export function round(value: number, digits = 3): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** mulberry32, the simulator's seeded PRNG: every run replays the same workload. */
export { seededRandom as prng } from "../intercom-sim/random";

/** Progress lines that the bench config lets through (every other console line of the Worker is dropped). */
export function progress(message: string): void {
  console.log(`[bench] ${message}`);
}
