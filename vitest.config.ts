import { readFileSync } from "node:fs";
import path from "node:path";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { testBindings } from "./vitest.bindings";

// Tests run inside workerd against real local D1, queues and Durable Objects. Intercom is the simulator in
// test/intercom-sim, reached through msw; bindings (dummy secrets) in vitest.bindings.ts.
// vitest-pool-workers 0.15.1 wraps a worker's prototype in one more Proxy at every construction (workers-sdk
// #15092, fixed upstream in #15106; later releases need wrangler >= 4.87, which refuses Node 20): property reads grow
// slower with every request and the soak run ends in "Maximum call stack size exceeded". `npm ci` applies patches/
// (patch-package); refuse to run without it.
function assertPoolPatched(): void {
  const internal = path.join(import.meta.dirname, "node_modules/@cloudflare/vitest-pool-workers/dist/worker/lib/cloudflare/test-internal.mjs");
  if (!readFileSync(internal, "utf8").includes("proxyInstalled")) {
    throw new Error(`${internal} lacks patches/@cloudflare+vitest-pool-workers+0.15.1.patch: run \`npm ci\` (or \`npx patch-package\`).`);
  }
}

export default defineConfig(async () => {
  assertPoolPatched();
  return {
    plugins: [
      cloudflareTest({
        main: "./src/index.ts",
        wrangler: { configPath: "./wrangler.toml" },
        remoteBindings: false,
        miniflare: {
          compatibilityFlags: ["service_binding_extra_handlers"],
          bindings: {
            ...(await testBindings(import.meta.dirname)),
            // Short retry schedules so exhaustion is testable in seconds.
            SYNC_MAX_ATTEMPTS: "4",
            SYNC_BACKOFF_BASE_MS: "200",
          },
        },
      }),
    ],
    // `npm run test:soak` runs the long versions of the fault tests (test/fault-drain.test.ts).
    define: { __SOAK__: JSON.stringify(process.env.SOAK === "1") },
    test: {
      include: ["test/**/*.test.ts"],
      setupFiles: ["./test/setup.ts"],
      testTimeout: 30_000,
      hookTimeout: 30_000,
      teardownTimeout: 30_000,
    },
  };
});
