/** Mints admin/ingest JWTs with the test bindings' HS256 secret, issuer and audience. */
import { env } from "cloudflare:workers";
import { SignJWT } from "jose";

export interface TokenOptions {
  workspaceId?: string;
  scope?: string;
  expiresIn?: string;
}

/** A valid token for `workspaceId` (default `ws_test`) with `scope` (default "admin ingest"). */
export async function mintToken(options: TokenOptions = {}): Promise<string> {
  return new SignJWT({ workspace_id: options.workspaceId ?? "ws_test", scope: options.scope ?? "admin ingest" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(env.ADMIN_JWT_ISSUER)
    .setAudience(env.ADMIN_JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? "10m")
    .sign(new TextEncoder().encode(env.ADMIN_JWT_SECRET));
}

/** Authorization + JSON headers for a request with a freshly minted token. */
export async function authHeaders(options: TokenOptions = {}): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await mintToken(options)}`, "content-type": "application/json" };
}
