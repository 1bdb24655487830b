#!/usr/bin/env node
// `npm run dev`: the whole product on one machine, no Intercom account needed.
// 1. creates .dev.vars from .dev.vars.example when missing; 2. applies the D1 migrations locally;
// 3. starts the Intercom simulator (test/intercom-sim) on SIM_PORT and the connector (wrangler dev: local D1,
// queues and Durable Objects) on PORT, each pointed at the other; 4. seeds a simulator workspace;
// 5. prints a dev admin token and commands to try. Ctrl-C stops both.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadDevConfig, mintDevToken, tokenConfigProblem } from "./dev-vars.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PORT = Number(process.env.PORT ?? 8787);
const SIM_PORT = Number(process.env.SIM_PORT ?? 8788);
const CONNECTOR = `http://localhost:${PORT}`;
const SIM = `http://localhost:${SIM_PORT}`;
const DEV_APP_ID = "devapp";
const DEV_INTERCOM_TOKEN = "dev-intercom-token";
const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };

const devVarsPath = path.join(root, ".dev.vars");
if (!existsSync(devVarsPath)) {
  copyFileSync(path.join(root, ".dev.vars.example"), devVarsPath);
  console.log("created .dev.vars from .dev.vars.example (dummy dev secrets)");
}
const config = loadDevConfig();
const problem = tokenConfigProblem(config);
if (problem) {
  console.error(`.dev.vars: ${problem}`);
  process.exit(1);
}

// The simulator signs webhooks with the connector's client secret and posts them to the connector.
writeFileSync(
  path.join(root, "test", "intercom-sim", ".dev.vars"),
  [
    `SIM_CLIENT_ID=${config.get("INTERCOM_CLIENT_ID")}`,
    `SIM_CLIENT_SECRET=${config.get("INTERCOM_CLIENT_SECRET")}`,
    `SIM_WEBHOOK_URL=${CONNECTOR}/webhooks/intercom`,
    `SIM_SEED_APP_ID=${DEV_APP_ID}`,
    `SIM_SEED_TOKEN=${DEV_INTERCOM_TOKEN}`,
    "",
  ].join("\n"),
);

console.log("applying D1 migrations to the local database…");
const migrate = spawnSync(wrangler, ["d1", "migrations", "apply", "DB", "--local"], {
  cwd: root,
  env,
  stdio: "inherit",
});
if (migrate.status !== 0) process.exit(migrate.status ?? 1);

const children = [];
function start(name, args) {
  const child = spawn(wrangler, args, { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  const prefix = (chunk) =>
    chunk
      .toString()
      .split("\n")
      .filter((line) => line.trim())
      .map((line) => `[${name}] ${line}`)
      .join("\n");
  child.stdout.on("data", (chunk) => console.log(prefix(chunk)));
  child.stderr.on("data", (chunk) => console.error(prefix(chunk)));
  child.on("exit", (code) => {
    console.error(`[${name}] exited with ${code}; stopping`);
    stopAll(code ?? 1);
  });
  children.push(child);
}

function stopAll(code) {
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
  process.exit(code);
}
process.on("SIGINT", () => stopAll(0));
process.on("SIGTERM", () => stopAll(0));

start("sim", [
  "dev",
  "--config",
  "test/intercom-sim/wrangler.toml",
  "--port",
  String(SIM_PORT),
  "--inspector-port",
  String(SIM_PORT + 1000),
  "--show-interactive-dev-session=false",
]);
// Production's D1, Queues and Workers limits fail loudly in dev as in the tests (README, "Platform limits");
// PLATFORM_LIMITS=off in .dev.vars turns the layer off.
const platformLimits = config.get("PLATFORM_LIMITS") ?? "enforce";
start("connector", [
  "dev",
  "--port",
  String(PORT),
  "--inspector-port",
  String(PORT + 1000),
  "--var",
  `INTERCOM_API_BASE:${SIM}`,
  "--var",
  `INTERCOM_OAUTH_URL:${SIM}/oauth`,
  "--var",
  `PUBLIC_URL:${CONNECTOR}`,
  "--var",
  `OAUTH_RETURN_URL:${CONNECTOR}/console`,
  `PLATFORM_LIMITS:${platformLimits}`,
  "--show-interactive-dev-session=false",
]);

await waitFor(`${CONNECTOR}/healthz`, {});
await waitFor(`${SIM}/me`, { authorization: `Bearer ${DEV_INTERCOM_TOKEN}` });

const token = await mintDevToken(config, { workspace: "ws_dev", scope: "admin ingest", expires: "12h" });
console.log(`
Intercom Connector is running on ${CONNECTOR} (simulated Intercom on ${SIM}).

  Console: ${CONNECTOR}/console (sign in with the token below)   API reference: ${CONNECTOR}/docs

  export TOKEN=${token}

  # connect the simulated Intercom workspace "${DEV_APP_ID}" with its access token
  curl -s -X POST ${CONNECTOR}/v1/connections -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
    -d '{"name":"Dev Intercom","access_token":"${DEV_INTERCOM_TOKEN}"}'

  # a contact created in Intercom flows into the CDP through a signed webhook
  curl -s -X POST ${SIM}/contacts -H 'authorization: Bearer ${DEV_INTERCOM_TOKEN}' -H 'content-type: application/json' \\
    -d '{"external_id":"u-1","email":"ada@example.com","name":"Ada Lovelace"}'
  curl -s "${CONNECTOR}/v1/users/lookup?user_id=u-1" -H "authorization: Bearer $TOKEN"

  More: README.md (API, settings, logs); ${CONNECTOR}/openapi.json; simulator control API in test/intercom-sim/README.md.
  Another token: npm run token -- --workspace ws_dev --scope "admin ingest". Ctrl-C stops both workers.
`);

async function waitFor(url, headers) {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { headers });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  console.error(`${url} did not answer within 90 s`);
  stopAll(1);
}
