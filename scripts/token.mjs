#!/usr/bin/env node
// Mints a development admin/ingest JWT for the local connector.
//
//   npm run token -- --workspace ws_demo --scope "admin ingest" [--expires 1h] [--sub alice] [--env .dev.vars]
//
// Signs HS256 with ADMIN_JWT_SECRET; issuer and audience are ADMIN_JWT_ISSUER / ADMIN_JWT_AUDIENCE. Values come
// from `.dev.vars`, falling back to the [vars] of wrangler.toml, then to the process environment. Prints the token
// alone on stdout, so `TOKEN=$(npm run -s token -- --workspace ws_demo)` works.
import { readFileSync, existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { SignJWT } from "jose";

const USAGE = `usage: npm run token -- --workspace <id> [--scope "admin ingest"] [--expires 1h] [--sub <subject>] [--env .dev.vars]`;

function fail(message) {
  process.stderr.write(`token: ${message}\n${USAGE}\n`);
  process.exit(2);
}

/** KEY=value lines; `#` comments; optional single or double quotes (double quotes honour \n, \" and \\). */
export function parseDotVars(text) {
  const vars = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const match = line.match(/^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/);
    if (!match) continue;
    const value = match[2].trim();
    const doubleQuoted = value.match(/^"((?:[^"\\]|\\.)*)"\s*(?:#.*)?$/);
    const singleQuoted = value.match(/^'([^']*)'\s*(?:#.*)?$/);
    if (doubleQuoted) vars[match[1]] = doubleQuoted[1].replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
    else if (singleQuoted) vars[match[1]] = singleQuoted[1];
    else vars[match[1]] = value.replace(/\s+#.*$/, "");
  }
  return vars;
}

/** The `key = "string"` entries of the [vars] table of wrangler.toml (enough for this script). */
export function parseWranglerVars(text) {
  const vars = {};
  let inVars = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith("[")) {
      inVars = line === "[vars]";
      continue;
    }
    if (!inVars) continue;
    const match = line.match(/^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"/);
    if (match) vars[match[1]] = match[2].replace(/\\(.)/g, "$1");
  }
  return vars;
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

const root = resolve(import.meta.dirname, "..");
const wranglerPath = resolve(root, "wrangler.toml");
const devVarsPath = resolve(root, values.env);
const config = {
  ...(existsSync(wranglerPath) ? parseWranglerVars(readFileSync(wranglerPath, "utf8")) : {}),
  ...(existsSync(devVarsPath) ? parseDotVars(readFileSync(devVarsPath, "utf8")) : {}),
};
const setting = (name) => config[name] ?? process.env[name];

const secret = setting("ADMIN_JWT_SECRET");
if (!secret) {
  fail(
    `ADMIN_JWT_SECRET is not set in ${values.env}${existsSync(devVarsPath) ? "" : " (file not found)"}; ` +
      "this script signs HS256 tokens only (a JWKS setup mints its tokens with its own private key)",
  );
}
if (Buffer.byteLength(secret) < 32) fail("ADMIN_JWT_SECRET must be at least 32 bytes (the connector refuses shorter ones)");
const issuer = setting("ADMIN_JWT_ISSUER");
const audience = setting("ADMIN_JWT_AUDIENCE");
if (!issuer || !audience) fail("ADMIN_JWT_ISSUER and ADMIN_JWT_AUDIENCE must be set (wrangler.toml [vars] or .dev.vars)");

const jwt = new SignJWT({ workspace_id: values.workspace, scope: scopes.join(" ") })
  .setProtectedHeader({ alg: "HS256", typ: "JWT" })
  .setIssuer(issuer)
  .setAudience(audience)
  .setIssuedAt()
  .setExpirationTime(values.expires);
if (values.sub) jwt.setSubject(values.sub);
process.stdout.write(`${await jwt.sign(new TextEncoder().encode(secret))}\n`);
