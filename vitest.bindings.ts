// The Worker's bindings in the workerd test pool, shared by the tests (vitest.config.ts) and the workerd benchmarks
// (vitest.bench.config.ts): their own dummy secrets, so CI (no .dev.vars) behaves like a laptop, and Intercom at
// the simulator's host, which msw intercepts.
import path from "node:path";
import { readD1Migrations } from "@cloudflare/vitest-pool-workers";

/** Bindings of the test pool, with the migrations the tests apply to their local D1. */
export async function testBindings(root: string): Promise<Record<string, unknown>> {
  return {
    TEST_MIGRATIONS: await readD1Migrations(path.join(root, "migrations")),
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
  };
}
