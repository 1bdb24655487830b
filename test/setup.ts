import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Storage is isolated per test file; migrations apply once per file (applyD1Migrations skips applied ones).
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
