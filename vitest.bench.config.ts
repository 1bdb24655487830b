import { defineConfig } from "vitest/config";
import { connectorPool } from "./vitest.pool";

// The benchmarks that run inside workerd (`npm run bench` runs them, see test/bench/README.md): the same pool and
// bindings as the tests, but only test/bench/*.bench.ts, one file at a time (timings must not share the CPU with
// another file), long timeouts, and the production retry schedule. BENCH_SMOKE=1 shrinks the workloads; the reporter
// prints each result as a table and writes it as JSON under test/bench/results/.
export default defineConfig(async () => {
  return {
    plugins: [
      await connectorPool({
        BENCH_SMOKE: process.env.BENCH_SMOKE === "1" ? "1" : "",
        BENCH_IMPORT_100K: ["1", "full"].includes(process.env.BENCH_IMPORT_100K ?? "")
          ? (process.env.BENCH_IMPORT_100K ?? "")
          : "",
      }),
    ],
    test: {
      include: ["test/bench/**/*.bench.ts"],
      setupFiles: ["./test/setup.ts"],
      fileParallelism: false,
      testTimeout: 30 * 60_000,
      hookTimeout: 120_000,
      teardownTimeout: 120_000,
      reporters: ["default", "./test/bench/results-reporter.mjs"],
      // The Worker logs one line per outcome: thousands per benchmark. Only the benchmarks' own progress lines are
      // shown, unless BENCH_LOGS=1.
      onConsoleLog: (log: string) => (process.env.BENCH_LOGS === "1" || log.startsWith("[bench]") ? undefined : false),
    },
  };
});
