import { defineConfig } from "vitest/config";
import { connectorPool } from "./vitest.pool";

// Tests run inside workerd against real local D1, queues and Durable Objects (the pool in vitest.pool.ts). Intercom
// is the simulator in test/intercom-sim, reached through msw.
export default defineConfig(async () => {
  return {
    // Short retry schedules so exhaustion is testable in seconds.
    plugins: [await connectorPool({ SYNC_MAX_ATTEMPTS: "4", SYNC_BACKOFF_BASE_MS: "200" })],
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
