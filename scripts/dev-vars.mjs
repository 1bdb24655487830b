// Local configuration for the dev scripts: .dev.vars (secrets) over wrangler.toml [vars] over the process
// environment, and minting of dev admin/ingest tokens. Used by `npm run dev` and `npm run token`.
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { SignJWT } from "jose";

export const ROOT = resolve(import.meta.dirname, "..");

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

/** The `key = "string"` entries of the [vars] table of wrangler.toml (enough for these scripts). */
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

/** wrangler.toml [vars], overridden by `devVarsFile` (relative to the project root), then the environment. */
export function loadDevConfig(devVarsFile = ".dev.vars") {
  const wranglerPath = resolve(ROOT, "wrangler.toml");
  const devVarsPath = resolve(ROOT, devVarsFile);
  const config = {
    ...(existsSync(wranglerPath) ? parseWranglerVars(readFileSync(wranglerPath, "utf8")) : {}),
    ...(existsSync(devVarsPath) ? parseDotVars(readFileSync(devVarsPath, "utf8")) : {}),
  };
  return { path: devVarsPath, found: existsSync(devVarsPath), get: (name) => config[name] ?? process.env[name] };
}

/** Why `config` cannot mint tokens, or null when it can. */
export function tokenConfigProblem(config) {
  const secret = config.get("ADMIN_JWT_SECRET");
  if (!secret) return "ADMIN_JWT_SECRET is not set";
  if (Buffer.byteLength(secret) < 32)
    return "ADMIN_JWT_SECRET must be at least 32 bytes (the connector refuses shorter ones)";
  if (!config.get("ADMIN_JWT_ISSUER") || !config.get("ADMIN_JWT_AUDIENCE")) {
    return "ADMIN_JWT_ISSUER and ADMIN_JWT_AUDIENCE must be set (wrangler.toml [vars] or .dev.vars)";
  }
  return null;
}

/** An HS256 admin/ingest token signed with ADMIN_JWT_SECRET. */
export async function mintDevToken(config, { workspace, scope = "admin ingest", expires = "1h", sub }) {
  const jwt = new SignJWT({ workspace_id: workspace, scope })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(config.get("ADMIN_JWT_ISSUER"))
    .setAudience(config.get("ADMIN_JWT_AUDIENCE"))
    .setIssuedAt()
    .setExpirationTime(expires);
  if (sub) jwt.setSubject(sub);
  return jwt.sign(new TextEncoder().encode(config.get("ADMIN_JWT_SECRET")));
}
