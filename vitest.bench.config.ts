import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// The benchmarks that run inside workerd (`npm run bench` runs them, see test/bench/README.md): the same pool and
// bindings as the tests, but only test/bench/*.bench.ts, one file at a time (timings must not share the CPU with
// another file), long timeouts, and the production retry schedule. BENCH_SMOKE=1 shrinks the workloads; the reporter
// prints each result as a table and writes it as JSON under test/bench/results/.
export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
  return {
    plugins: [
      cloudflareTest({
        main: "./src/index.ts",
        wrangler: { configPath: "./wrangler.toml" },
        remoteBindings: false,
        miniflare: {
          compatibilityFlags: ["service_binding_extra_handlers"],
          bindings: {
            TEST_MIGRATIONS: migrations,
            BENCH_SMOKE: process.env.BENCH_SMOKE === "1" ? "1" : "",
            INTERCOM_CLIENT_ID: "test-client-id",
            INTERCOM_CLIENT_SECRET: "test-client-secret-0123456789",
            INTERCOM_API_BASE: "https://intercom.sim.test",
            INTERCOM_OAUTH_URL: "https://intercom.sim.test/oauth",
            ADMIN_JWT_SECRET: "test-admin-jwt-secret-0123456789abcdef",
            ADMIN_JWT_ISSUER: "https://cdp.test",
            ADMIN_JWT_AUDIENCE: "intercom-connector",
            TOKEN_ENCRYPTION_KEY: "k1:wqSqnH7gNQ6bVNMTeqJTVHY2ztfR4ozZg0xDCDPtaXc",
            PUBLIC_URL: "https://connector.test",
            OAUTH_RETURN_URL: "",
            LOG_RETENTION_DAYS: "30",
          },
        },
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
