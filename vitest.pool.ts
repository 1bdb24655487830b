// The workerd test pool shared by the tests (vitest.config.ts) and the workerd benchmarks (vitest.bench.config.ts):
// the connector Worker as wrangler.toml declares it, its own dummy secrets (so CI, with no .dev.vars, behaves like a
// laptop), and Intercom at the simulator's host, which msw intercepts.
import { readFileSync } from "node:fs";
import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";

const ROOT = import.meta.dirname;

// vitest-pool-workers 0.15.1 wraps a worker's prototype in one more Proxy at every construction (workers-sdk
// #15092, fixed upstream in #15106; later releases need wrangler >= 4.87, which refuses Node 20): property reads grow
// slower with every request and the soak run ends in "Maximum call stack size exceeded". `npm ci` applies patches/
// (patch-package); refuse to run without it.
function assertPoolPatched(): void {
  const internal = path.join(
    ROOT,
    "node_modules/@cloudflare/vitest-pool-workers/dist/worker/lib/cloudflare/test-internal.mjs",
  );
  if (!readFileSync(internal, "utf8").includes("proxyInstalled")) {
    throw new Error(
      `${internal} lacks patches/@cloudflare+vitest-pool-workers+0.15.1.patch: run \`npm ci\` (or \`npx patch-package\`).`,
    );
  }
}

/** The pool plugin with the test bindings, plus `extraBindings` (a suite's own settings). */
export async function connectorPool(extraBindings: Record<string, string>) {
  assertPoolPatched();
  return cloudflareTest({
    main: "./src/index.ts",
    wrangler: { configPath: "./wrangler.toml" },
    remoteBindings: false,
    miniflare: {
      compatibilityFlags: ["service_binding_extra_handlers"],
      // A second data database: tests place a workspace there to prove the data plane's seam (README, "Scaling past
      // one database"); every other workspace stays on DB, which is also the control database.
      d1Databases: { DATA_2: "intercom-connector-data-2" },
      bindings: {
        TEST_MIGRATIONS: await readD1Migrations(path.join(ROOT, "migrations")),
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
        DATA_DATABASES: "DB,DATA_2",
        DATA_DATABASES_OPEN: "DB",
        // Production's D1, Queues and Workers limits, checked in every test (src/platform/).
        PLATFORM_LIMITS: "enforce",
        ...extraBindings,
      },
    },
  });
}
