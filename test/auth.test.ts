import { env, exports } from "cloudflare:workers";
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { HttpResponse, http } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { app } from "../src/api/app";
import { clearJwksCache } from "../src/api/auth";
import type { Env } from "../src/env";
import { authHeaders, mintToken } from "./helpers/auth";
import { seedConnection } from "./helpers/connections";

const BASE = "https://connector.test";
const secret = new TextEncoder().encode(env.ADMIN_JWT_SECRET);

/** A token with full control over its header and claims, signed with `key` (the test secret by default). */
async function sign(
  claims: Record<string, unknown>,
  options: {
    alg?: string;
    kid?: string;
    key?: CryptoKey | Uint8Array;
    exp?: number | null;
    iss?: string | null;
    aud?: string | null;
  } = {},
) {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ workspace_id: "ws_auth", scope: "admin", ...claims }).setProtectedHeader({
    alg: options.alg ?? "HS256",
    typ: "JWT",
    ...(options.kid ? { kid: options.kid } : {}),
  });
  if (options.iss !== null) jwt.setIssuer(options.iss ?? env.ADMIN_JWT_ISSUER);
  if (options.aud !== null) jwt.setAudience(options.aud ?? env.ADMIN_JWT_AUDIENCE);
  if (options.exp !== null) jwt.setExpirationTime(options.exp ?? now + 600);
  jwt.setIssuedAt(now);
  return jwt.sign(options.key ?? secret);
}

/** An unsecured JWT (`alg: none`), which jose never produces for signing. */
function unsecured(claims: Record<string, unknown>) {
  const part = (value: object) =>
    btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${part({ alg: "none", typ: "JWT" })}.${part(claims)}.`;
}

async function call(authorization: string | undefined, path = "/v1/connections", bindings?: Partial<Env>) {
  const init: RequestInit = { headers: authorization === undefined ? {} : { authorization } };
  const res = bindings
    ? await app.request(path, init, { ...env, ...bindings })
    : await exports.default.fetch(`${BASE}${path}`, init);
  const body = (await res.json()) as { status?: number; detail?: string; items?: unknown[] };
  return { status: res.status, body, headers: res.headers };
}

describe("HS256 tokens (ADMIN_JWT_SECRET)", () => {
  it("accepts a valid admin token", async () => {
    const res = await call(`Bearer ${await mintToken({ workspaceId: "ws_auth", scope: "admin" })}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ items: [] });
  });

  const cases: Array<[string, () => Promise<string | undefined>, RegExp]> = [
    ["no Authorization header", async () => undefined, /bearer token is required/],
    ["a Basic header", async () => "Basic dXNlcjpwYXNz", /must be "Bearer <JWT>"/],
    ["a bearer value that is no JWT", async () => "Bearer not-a-jwt", /not a JWT/],
    ["an empty bearer", async () => "Bearer ", /must be "Bearer <JWT>"/],
    [
      "a wrong signature",
      async () =>
        `Bearer ${await sign({}, { key: new TextEncoder().encode("another-secret-another-secret-0123456789") })}`,
      /signature/,
    ],
    [
      "an expired token",
      async () => `Bearer ${await sign({}, { exp: Math.floor(Date.now() / 1000) - 120 })}`,
      /expired/,
    ],
    ["a token without exp", async () => `Bearer ${await sign({}, { exp: null })}`, /"exp"/],
    ["another issuer", async () => `Bearer ${await sign({}, { iss: "https://evil.test" })}`, /"iss"/],
    ["no issuer", async () => `Bearer ${await sign({}, { iss: null })}`, /"iss"/],
    ["another audience", async () => `Bearer ${await sign({}, { aud: "another-service" })}`, /"aud"/],
    ["no audience", async () => `Bearer ${await sign({}, { aud: null })}`, /"aud"/],
    ["no workspace_id", async () => `Bearer ${await sign({ workspace_id: undefined })}`, /workspace_id/],
    ["an empty workspace_id", async () => `Bearer ${await sign({ workspace_id: "" })}`, /workspace_id/],
    ["a numeric workspace_id", async () => `Bearer ${await sign({ workspace_id: 42 })}`, /workspace_id/],
    ["no scope", async () => `Bearer ${await sign({ scope: undefined })}`, /"scope"/],
    ["a scope that is a list", async () => `Bearer ${await sign({ scope: ["admin"] })}`, /scope/],
    [
      "a token not valid yet (nbf)",
      async () => `Bearer ${await sign({ nbf: Math.floor(Date.now() / 1000) + 3600 })}`,
      /"nbf"/,
    ],
    [
      "alg none",
      async () =>
        `Bearer ${unsecured({ workspace_id: "ws_auth", scope: "admin", iss: env.ADMIN_JWT_ISSUER, aud: env.ADMIN_JWT_AUDIENCE, exp: Math.floor(Date.now() / 1000) + 600 })}`,
      /algorithm \(none\) is not accepted/,
    ],
    [
      "an RS256 token when only a secret is configured",
      async () => {
        const { privateKey } = await generateKeyPair("RS256");
        return `Bearer ${await sign({}, { alg: "RS256", key: privateKey })}`;
      },
      /algorithm \(RS256\) is not accepted; use HS256/,
    ],
    ["HS512 (not pinned)", async () => `Bearer ${await sign({}, { alg: "HS512" })}`, /algorithm \(HS512\)/],
  ];
  for (const [name, header, detail] of cases) {
    it(`401 for ${name}`, async () => {
      const res = await call(await header());
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="intercom-connector"/);
      expect(res.body).toMatchObject({ status: 401, title: "Unauthorized" });
      expect(res.body.detail).toMatch(detail);
    });
  }

  it("tolerates 30 s of clock skew on exp", async () => {
    const res = await call(`Bearer ${await sign({}, { exp: Math.floor(Date.now() / 1000) - 10 })}`);
    expect(res.status).toBe(200);
  });

  it("403 with insufficient_scope when the scope is missing", async () => {
    const res = await call(`Bearer ${await mintToken({ scope: "ingest" })}`);
    expect(res.status).toBe(403);
    expect(res.body.detail).toBe('This token lacks the "admin" scope.');
    expect(res.headers.get("www-authenticate")).toContain('error="insufficient_scope", scope="admin"');
  });

  it("403 for an empty scope, which grants nothing", async () => {
    expect((await call(`Bearer ${await sign({ scope: "" })}`)).status).toBe(403);
  });

  it("authentication comes before validation: a bad request without a token is a 401, not a 422", async () => {
    const res = await exports.default.fetch(`${BASE}/v1/connections`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ bogus: true }),
    });
    expect(res.status).toBe(401);
  });

  it("503 when no key source is configured, 503 for a secret shorter than 32 bytes", async () => {
    const token = `Bearer ${await mintToken()}`;
    const none = await call(token, "/v1/connections", { ADMIN_JWT_SECRET: undefined, ADMIN_JWKS_URL: undefined });
    expect(none.status).toBe(503);
    expect(none.body.detail).toMatch(/ADMIN_JWT_SECRET or ADMIN_JWKS_URL/);
    const short = await call(token, "/v1/connections", { ADMIN_JWT_SECRET: "short" });
    expect(short.status).toBe(503);
    expect(short.body.detail).toMatch(/at least 32 bytes/);
  });

  it("never logs the token", async () => {
    const spies = [vi.spyOn(console, "log"), vi.spyOn(console, "warn"), vi.spyOn(console, "error")];
    const token = await sign({}, { iss: "https://evil.test" });
    await call(`Bearer ${token}`);
    const logged = JSON.stringify(spies.flatMap((spy) => spy.mock.calls));
    spies.forEach((spy) => spy.mockRestore());
    expect(logged).toContain("request not authenticated");
    expect(logged).not.toContain(token.split(".")[2]);
  });
});

describe("cross-workspace access", () => {
  it("another workspace's connection is a 404 on every route, and absent from the list", async () => {
    const theirs = await seedConnection({ workspaceId: "ws_other" });
    const mine = await seedConnection({ workspaceId: "ws_mine" });
    const headers = await authHeaders({ workspaceId: "ws_mine", scope: "admin" });
    const requests: Array<[string, string, unknown?]> = [
      ["GET", `/v1/connections/${theirs.id}`],
      ["PATCH", `/v1/connections/${theirs.id}`, { name: "mine now" }],
      ["DELETE", `/v1/connections/${theirs.id}`],
      ["POST", `/v1/connections/${theirs.id}/test`],
      ["GET", `/v1/connections/${theirs.id}/logs`],
    ];
    for (const [method, path, body] of requests) {
      const res = await exports.default.fetch(`${BASE}${path}`, {
        method,
        headers,
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
    }
    const list = (await (await exports.default.fetch(`${BASE}/v1/connections`, { headers })).json()) as {
      items: Array<{ id: string }>;
    };
    expect(list.items.map((item) => item.id)).toEqual([mine.id]);
    const untouched = (await (
      await exports.default.fetch(`${BASE}/v1/connections/${theirs.id}`, {
        headers: await authHeaders({ workspaceId: "ws_other" }),
      })
    ).json()) as { name: string; status: string };
    expect(untouched).toMatchObject({ name: "Test connection", status: "connected" });
  });
});

describe("RS256/ES256 tokens (ADMIN_JWKS_URL)", () => {
  const JWKS_URL = "https://idp.test/.well-known/jwks.json";
  let rsa: { privateKey: CryptoKey; jwk: JWK };
  let ec: { privateKey: CryptoKey; jwk: JWK };
  let published: JWK[] = [];
  let jwksResponse: () => Response = () => HttpResponse.json({ keys: published });
  let fetches = 0;
  const server = setupServer(
    http.get(JWKS_URL, () => {
      fetches++;
      return jwksResponse();
    }),
  );
  const jwksOnly: Partial<Env> = { ADMIN_JWKS_URL: JWKS_URL, ADMIN_JWT_SECRET: undefined };

  async function keyPair(alg: "RS256" | "ES256", kid: string) {
    const { privateKey, publicKey } = await generateKeyPair(alg);
    return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
  }

  beforeAll(async () => {
    server.listen({ onUnhandledRequest: "error" });
    rsa = await keyPair("RS256", "rsa-1");
    ec = await keyPair("ES256", "ec-1");
  });
  afterAll(() => server.close());
  beforeEach(() => {
    clearJwksCache();
    published = [rsa.jwk, ec.jwk];
    jwksResponse = () => HttpResponse.json({ keys: published });
    fetches = 0;
  });
  afterEach(() => vi.useRealTimers());

  it("accepts RS256 and ES256 tokens whose kid is in the JWKS, fetching the set once", async () => {
    const rs = await call(
      `Bearer ${await sign({}, { alg: "RS256", kid: "rsa-1", key: rsa.privateKey })}`,
      "/v1/connections",
      jwksOnly,
    );
    const es = await call(
      `Bearer ${await sign({}, { alg: "ES256", kid: "ec-1", key: ec.privateKey })}`,
      "/v1/connections",
      jwksOnly,
    );
    expect([rs.status, es.status]).toEqual([200, 200]);
    expect(fetches).toBe(1);
  });

  it("401 for an HS256 token when only a JWKS is configured, and for one signed with the public key (alg confusion)", async () => {
    const hs = await call(`Bearer ${await mintToken()}`, "/v1/connections", jwksOnly);
    expect(hs.status).toBe(401);
    expect(hs.body.detail).toMatch(/HS256\) is not accepted; use RS256 or ES256/);
    // The classic attack: HMAC with the RSA public key as the secret, against a server that trusts the header's alg.
    const confused = await sign(
      {},
      { alg: "HS256", kid: "rsa-1", key: new TextEncoder().encode(JSON.stringify(rsa.jwk)) },
    );
    expect((await call(`Bearer ${confused}`, "/v1/connections", jwksOnly)).status).toBe(401);
    expect((await call(`Bearer ${confused}`, "/v1/connections", { ADMIN_JWKS_URL: JWKS_URL })).status).toBe(401);
  });

  it("401 for a key that is not in the JWKS, a signature by another key with a known kid, and a wrong-type key", async () => {
    const stranger = await keyPair("RS256", "rsa-unknown");
    const unknownKid = await call(
      `Bearer ${await sign({}, { alg: "RS256", kid: "rsa-unknown", key: stranger.privateKey })}`,
      "/v1/connections",
      jwksOnly,
    );
    expect(unknownKid.status).toBe(401);
    expect(unknownKid.body.detail).toMatch(/No key of the JWKS/);
    const forged = await call(
      `Bearer ${await sign({}, { alg: "RS256", kid: "rsa-1", key: stranger.privateKey })}`,
      "/v1/connections",
      jwksOnly,
    );
    expect(forged.status).toBe(401);
    expect(forged.body.detail).toMatch(/signature/);
    // An ES256 header pointing at the RSA key: no usable key.
    const mismatch = await call(
      `Bearer ${await sign({}, { alg: "ES256", kid: "rsa-1", key: ec.privateKey })}`,
      "/v1/connections",
      jwksOnly,
    );
    expect(mismatch.status).toBe(401);
  });

  it("the usual claim checks apply to JWKS tokens too", async () => {
    const expired = await sign(
      {},
      { alg: "RS256", kid: "rsa-1", key: rsa.privateKey, exp: Math.floor(Date.now() / 1000) - 300 },
    );
    expect((await call(`Bearer ${expired}`, "/v1/connections", jwksOnly)).body.detail).toMatch(/expired/);
    const wrongAud = await sign({}, { alg: "RS256", kid: "rsa-1", key: rsa.privateKey, aud: "x" });
    expect((await call(`Bearer ${wrongAud}`, "/v1/connections", jwksOnly)).status).toBe(401);
    const noScope = await sign({ scope: "ingest" }, { alg: "ES256", kid: "ec-1", key: ec.privateKey });
    expect((await call(`Bearer ${noScope}`, "/v1/connections", jwksOnly)).status).toBe(403);
  });

  it("both sources at once: HS256 against the secret, RS256 against the JWKS", async () => {
    const both: Partial<Env> = { ADMIN_JWKS_URL: JWKS_URL };
    expect((await call(`Bearer ${await mintToken()}`, "/v1/connections", both)).status).toBe(200);
    expect(
      (
        await call(
          `Bearer ${await sign({}, { alg: "RS256", kid: "rsa-1", key: rsa.privateKey })}`,
          "/v1/connections",
          both,
        )
      ).status,
    ).toBe(200);
  });

  it("503 (not 401) when the JWKS answers 500, fails at the network level, or is not a key set", async () => {
    const token = `Bearer ${await sign({}, { alg: "RS256", kid: "rsa-1", key: rsa.privateKey })}`;
    for (const failure of [
      () => new HttpResponse("down", { status: 500 }),
      () => HttpResponse.error(),
      () => HttpResponse.json({ not: "a key set" }),
      () => new HttpResponse("<html>", { status: 200, headers: { "content-type": "text/html" } }),
      () => new HttpResponse(null, { status: 302, headers: { location: "https://elsewhere.test/jwks" } }),
    ]) {
      clearJwksCache();
      jwksResponse = failure;
      const res = await call(token, "/v1/connections", jwksOnly);
      expect(res.status).toBe(503);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(res.body.detail).toMatch(/ADMIN_JWKS_URL is unavailable/);
      expect(res.headers.get("retry-after")).toBe("30");
    }
  });

  it("a rotated-in key is picked up by refetching on an unknown kid (after a 30 s cooldown)", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const first = await call(
      `Bearer ${await sign({}, { alg: "RS256", kid: "rsa-1", key: rsa.privateKey })}`,
      "/v1/connections",
      jwksOnly,
    );
    expect(first.status).toBe(200);
    const next = await keyPair("RS256", "rsa-2");
    published = [rsa.jwk, next.jwk];
    const tooSoon = await call(
      `Bearer ${await sign({}, { alg: "RS256", kid: "rsa-2", key: next.privateKey })}`,
      "/v1/connections",
      jwksOnly,
    );
    expect(tooSoon.status).toBe(401);
    vi.setSystemTime(Date.now() + 31_000);
    const later = await call(
      `Bearer ${await sign({}, { alg: "RS256", kid: "rsa-2", key: next.privateKey })}`,
      "/v1/connections",
      jwksOnly,
    );
    expect(later.status).toBe(200);
    expect(fetches).toBe(2);
  });

  it("a failed fetch is remembered: while the JWKS is down it is tried at most once per 30 s, whatever the traffic", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    jwksResponse = () => new HttpResponse("down", { status: 503 });
    const token = `Bearer ${await sign({}, { alg: "RS256", kid: "rsa-1", key: rsa.privateKey })}`;
    const first = await call(token, "/v1/connections", jwksOnly);
    expect(first.status).toBe(503);
    expect(first.headers.get("retry-after")).toBe("30");
    expect(fetches).toBe(1);
    // 10 s later: sequential and concurrent requests get the 503 straight away, with the time left to wait.
    vi.setSystemTime(Date.now() + 10_000);
    for (let i = 0; i < 10; i++) expect((await call(token, "/v1/connections", jwksOnly)).status).toBe(503);
    const burst = await Promise.all(Array.from({ length: 40 }, () => call(token, "/v1/connections", jwksOnly)));
    expect(burst.map((res) => res.status)).toEqual(Array(40).fill(503));
    expect(burst.map((res) => res.headers.get("retry-after"))).toEqual(Array(40).fill("20"));
    expect(burst[0]!.body.detail).toMatch(/ADMIN_JWKS_URL is unavailable/);
    expect(fetches).toBe(1);
    // Once the 30 s are over, a burst retries once between all its requests.
    vi.setSystemTime(Date.now() + 21_000);
    const retry = await Promise.all(Array.from({ length: 20 }, () => call(token, "/v1/connections", jwksOnly)));
    expect(retry.map((res) => res.status)).toEqual(Array(20).fill(503));
    expect(fetches).toBe(2);
    // The provider is back: the first request after the next 30 s fetches the keys and gets through.
    jwksResponse = () => HttpResponse.json({ keys: published });
    vi.setSystemTime(Date.now() + 10_000);
    expect((await call(token, "/v1/connections", jwksOnly)).status).toBe(503);
    vi.setSystemTime(Date.now() + 21_000);
    expect((await call(token, "/v1/connections", jwksOnly)).status).toBe(200);
    expect((await call(token, "/v1/connections", jwksOnly)).status).toBe(200);
    expect(fetches).toBe(3);
  });

  it("with cached keys, a failed refresh keeps serving them and is not retried for 30 s (unknown kids included)", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const token = async () => `Bearer ${await sign({}, { alg: "RS256", kid: "rsa-1", key: rsa.privateKey })}`;
    expect((await call(await token(), "/v1/connections", jwksOnly)).status).toBe(200);
    expect(fetches).toBe(1);
    vi.setSystemTime(Date.now() + 11 * 60_000);
    jwksResponse = () => HttpResponse.error();
    const fresh = await token();
    expect((await call(fresh, "/v1/connections", jwksOnly)).status).toBe(200);
    expect(fetches).toBe(2);
    const burst = await Promise.all(Array.from({ length: 30 }, () => call(fresh, "/v1/connections", jwksOnly)));
    expect(burst.map((res) => res.status)).toEqual(Array(30).fill(200));
    const stranger = await keyPair("RS256", "rsa-new");
    const unknownKid = `Bearer ${await sign({}, { alg: "RS256", kid: "rsa-new", key: stranger.privateKey })}`;
    vi.setSystemTime(Date.now() + 10_000);
    for (let i = 0; i < 10; i++) expect((await call(unknownKid, "/v1/connections", jwksOnly)).status).toBe(401);
    expect((await call(fresh, "/v1/connections", jwksOnly)).status).toBe(200);
    expect(fetches).toBe(2);
    vi.setSystemTime(Date.now() + 21_000);
    expect((await call(fresh, "/v1/connections", jwksOnly)).status).toBe(200);
    expect(fetches).toBe(3);
  });

  it("keeps using cached keys when a refresh fails, and refreshes again every 10 minutes", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const token = async () => `Bearer ${await sign({}, { alg: "RS256", kid: "rsa-1", key: rsa.privateKey })}`;
    expect((await call(await token(), "/v1/connections", jwksOnly)).status).toBe(200);
    vi.setSystemTime(Date.now() + 11 * 60_000);
    jwksResponse = () => new HttpResponse("down", { status: 503 });
    expect((await call(await token(), "/v1/connections", jwksOnly)).status).toBe(200);
    expect(fetches).toBe(2);
    // Stale for more than a day: no longer trusted.
    vi.setSystemTime(Date.now() + 25 * 60 * 60_000);
    expect((await call(await token(), "/v1/connections", jwksOnly)).status).toBe(503);
  });
});
