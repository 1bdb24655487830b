// Reading .dev.vars and minting dev admin tokens, shared by `npm run dev` and `npm run token`.
import { readFileSync } from "node:fs";
import { SignJWT } from "jose";

/** Parses a dotenv-style file (KEY=value, # comments, optional quotes). */
export function readDevVars(file) {
  const vars = {};
  for (const line of readFileSync(file, "utf8").split(/\r?\n/)) {
    const match = line.match(/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)\s*$/);
    if (!match) continue;
    vars[match[1]] = match[2].replace(/^(['"])(.*)\1$/, "$2");
  }
  return vars;
}

/** The issuer and audience from wrangler.toml's [vars] (overridden by .dev.vars when set there). */
export function jwtClaimsConfig(vars, wranglerToml) {
  const fromToml = (key) => wranglerToml.match(new RegExp(`^${key}\\s*=\\s*"([^"]*)"`, "m"))?.[1];
  return {
    issuer: vars.ADMIN_JWT_ISSUER ?? fromToml("ADMIN_JWT_ISSUER"),
    audience: vars.ADMIN_JWT_AUDIENCE ?? fromToml("ADMIN_JWT_AUDIENCE"),
  };
}

/** An HS256 admin/ingest token signed with ADMIN_JWT_SECRET from .dev.vars. */
export async function mintDevToken(vars, { workspace, scope, expiresIn = "12h" }) {
  if (!vars.ADMIN_JWT_SECRET) throw new Error("ADMIN_JWT_SECRET is not set in .dev.vars");
  const { issuer, audience } = jwtClaimsConfig(vars, readFileSync(new URL("../wrangler.toml", import.meta.url), "utf8"));
  return new SignJWT({ workspace_id: workspace, scope })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(vars.ADMIN_JWT_SECRET));
}
