#!/usr/bin/env node
// Mints a development admin/ingest JWT for the local connector.
//
//   npm run token -- --workspace ws_demo --scope "admin ingest" [--expires 1h] [--sub alice] [--env .dev.vars]
//
// Signs HS256 with ADMIN_JWT_SECRET; issuer and audience are ADMIN_JWT_ISSUER / ADMIN_JWT_AUDIENCE. Values come
// from `.dev.vars`, falling back to the [vars] of wrangler.toml, then to the process environment. Prints the token
// alone on stdout, so `TOKEN=$(npm run -s token -- --workspace ws_demo)` works.
import { parseArgs } from "node:util";
import { loadDevConfig, mintDevToken, tokenConfigProblem } from "./dev-vars.mjs";

const USAGE = `usage: npm run token -- --workspace <id> [--scope "admin ingest"] [--expires 1h] [--sub <subject>] [--env .dev.vars]`;

function fail(message) {
  process.stderr.write(`token: ${message}\n${USAGE}\n`);
  process.exit(2);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        workspace: { type: "string", short: "w" },
        scope: { type: "string", short: "s", default: "admin ingest" },
        expires: { type: "string", short: "e", default: "1h" },
        sub: { type: "string" },
        env: { type: "string", default: ".dev.vars" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
  } catch (error) {
    fail(error.message);
  }
})();

if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (!values.workspace) fail("--workspace is required");
const scopes = values.scope.split(/\s+/).filter(Boolean);
const unknown = scopes.filter((scope) => scope !== "admin" && scope !== "ingest");
if (scopes.length === 0) fail("--scope must name admin and/or ingest");
if (unknown.length > 0) fail(`unknown scope ${unknown.join(", ")} (known: admin, ingest)`);
if (!/^\d+[smhd]$/.test(values.expires)) fail("--expires must look like 30m, 1h, 7d");

const config = loadDevConfig(values.env);
const problem = tokenConfigProblem(config);
if (problem) {
  fail(
    `${problem} (${values.env}${config.found ? "" : ", file not found"}); ` +
      "this script signs HS256 tokens only (a JWKS setup mints its tokens with its own private key)",
  );
}
const token = await mintDevToken(config, {
  workspace: values.workspace,
  scope: scopes.join(" "),
  expires: values.expires,
  sub: values.sub,
});
process.stdout.write(`${token}\n`);
