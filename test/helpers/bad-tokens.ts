/**
 * Admin/ingest JWTs that must be refused, one per attack (issue 8, point 5): shared by the generated API suite and
 * the attack tests. Each is otherwise a perfect token for `workspaceId` and `scope`, so only the flaw is refused.
 */
import { env } from "cloudflare:workers";
import { base64url, type CryptoKey, SignJWT } from "jose";

const encoder = new TextEncoder();

export interface SignOptions {
  alg?: string;
  kid?: string;
  key?: CryptoKey | Uint8Array;
  /** Seconds since the epoch; null leaves the claim out. */
  exp?: number | null;
  iss?: string | null;
  aud?: string | null;
}

/** A token with full control over its header and claims, signed with `key` (the test HS256 secret by default). */
export async function signToken(claims: Record<string, unknown>, options: SignOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(claims).setProtectedHeader({
    alg: options.alg ?? "HS256",
    typ: "JWT",
    ...(options.kid ? { kid: options.kid } : {}),
  });
  if (options.iss !== null) jwt.setIssuer(options.iss ?? env.ADMIN_JWT_ISSUER);
  if (options.aud !== null) jwt.setAudience(options.aud ?? env.ADMIN_JWT_AUDIENCE);
  if (options.exp !== null) jwt.setExpirationTime(options.exp ?? now + 600);
  jwt.setIssuedAt(now);
  return jwt.sign(options.key ?? encoder.encode(env.ADMIN_JWT_SECRET));
}

/** An unsecured JWT (`alg: none`, empty signature), which jose never produces. */
export function unsecuredToken(claims: Record<string, unknown>, alg = "none"): string {
  const part = (value: object) => base64url.encode(encoder.encode(JSON.stringify(value)));
  return `${part({ alg, typ: "JWT" })}.${part(claims)}.`;
}

/** Every claim a valid token has, for `alg: none` forgeries. */
export function fullClaims(workspaceId: string, scope: string): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    workspace_id: workspaceId,
    scope,
    iss: env.ADMIN_JWT_ISSUER,
    aud: env.ADMIN_JWT_AUDIENCE,
    iat: now,
    exp: now + 600,
  };
}

/** The payload of `token` replaced by `claims`, its header and signature kept (a tampered token). */
export function withPayload(token: string, claims: Record<string, unknown>): string {
  const [header, , signature] = token.split(".");
  return `${header}.${base64url.encode(encoder.encode(JSON.stringify(claims)))}.${signature}`;
}

/**
 * Tokens for `workspaceId`/`scope` that must get a 401 wherever a token is needed, by attack. With `jwksPublicKey`
 * (a JWK published at ADMIN_JWKS_URL), also the HS256 token keyed with that public key (algorithm confusion).
 */
export async function refusedTokens(
  workspaceId: string,
  scope: string,
  jwksPublicKey?: object,
): Promise<Array<[string, string]>> {
  const now = Math.floor(Date.now() / 1000);
  const claims = { workspace_id: workspaceId, scope };
  const valid = await signToken(claims);
  const [noneHeader, nonePayload] = unsecuredToken(fullClaims(workspaceId, scope)).split(".");
  const tokens: Array<[string, string]> = [
    ["alg none", unsecuredToken(fullClaims(workspaceId, scope))],
    ["alg None (case variant)", unsecuredToken(fullClaims(workspaceId, scope), "None")],
    ["alg none with a valid token's signature", `${noneHeader}.${nonePayload}.${valid.split(".")[2]}`],
    ["expired", await signToken(claims, { exp: now - 120 })],
    ["not yet valid (nbf in an hour)", await signToken({ ...claims, nbf: now + 3600 })],
    ["issued by another issuer", await signToken(claims, { iss: "https://evil.example" })],
    ["without issuer", await signToken(claims, { iss: null })],
    ["for another audience", await signToken(claims, { aud: "another-service" })],
    ["without audience", await signToken(claims, { aud: null })],
    ["without exp", await signToken(claims, { exp: null })],
    ["without workspace_id", await signToken({ scope })],
    ["with an empty workspace_id", await signToken({ workspace_id: "", scope })],
    ["with a numeric workspace_id", await signToken({ workspace_id: 7, scope })],
    ["without scope", await signToken({ workspace_id: workspaceId })],
    [
      "signed with another secret",
      await signToken(claims, { key: encoder.encode("not-the-admin-secret-not-the-admin-secret") }),
    ],
    ["HS512 with the right secret", await signToken(claims, { alg: "HS512" })],
    ["payload swapped for another workspace", withPayload(valid, { ...fullClaims("ws_someone_else", scope) })],
    ["signature stripped", `${valid.split(".").slice(0, 2).join(".")}.`],
    [
      "signature of another token",
      `${valid.split(".").slice(0, 2).join(".")}.${(await signToken({ ...claims, workspace_id: "x" })).split(".")[2]}`,
    ],
  ];
  if (jwksPublicKey) {
    tokens.push([
      "HS256 keyed with the JWKS public key",
      await signToken(claims, { key: encoder.encode(JSON.stringify(jwksPublicKey)) }),
    ]);
  }
  return tokens;
}

/** Authorization header values that are not a bearer JWT at all. */
export function malformedAuthorizations(validToken: string): Array<[string, string | undefined]> {
  return [
    ["no Authorization header", undefined],
    ["an empty Authorization header", ""],
    ["Basic credentials", "Basic dXNlcjpwYXNz"],
    ["Bearer without a token", "Bearer"],
    ["a bearer value that is no JWT", "Bearer not-a-jwt"],
    ["three empty segments", "Bearer .."],
    ["JSON instead of a token", 'Bearer {"alg":"none"}'],
    ["two tokens", `Bearer ${validToken} ${validToken}`],
    ["a token without the Bearer scheme", validToken],
    ["a 16 KB token", `Bearer ${"A".repeat(16_384)}`],
  ];
}
