import { availableParallelism } from "node:os";
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
      // The tests mostly wait (queues, alarms, timers): two files at once even on 2 cores (vitest's default there is
      // one) took the suite from 14.4 to 9.1 minutes on the CI machine, every test passing.
      maxWorkers: Math.max(2, availableParallelism() - 1),
      setupFiles: ["./test/setup.ts"],
      testTimeout: 30_000,
      hookTimeout: 30_000,
      teardownTimeout: 30_000,
    },
  };
});
