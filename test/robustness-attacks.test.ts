/**
 * Attacks (issue 8, point 5), one test each, on every authenticated route of `/openapi.json` (admin and ingest), with
 * D1 compared before and after. What test/auth.test.ts and test/oauth.test.ts already prove on one route (the
 * problem details of each refused token, JWKS rotation, a tampered, reused or expired OAuth state) is not repeated;
 * this file carries the attacks to every route, to every resource of another workspace, and to OAuth state across
 * workspaces, concurrently replayed, or expired only in D1.
 */
import { env, exports } from "cloudflare:workers";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { HttpResponse, http } from "msw";
import { beforeAll, describe, expect, it } from "vitest";
import { database } from "../src/db/client";
import { actions } from "../src/db/schema";
import type { Env } from "../src/env";
import { writeSyncLog } from "../src/lib/sync-log";
import { recordDeadLetter } from "../src/ops/dead-letters";
import { insertQueuedImport } from "../src/source/import/jobs";
import { importOptions } from "../src/source/import/plan";
import { authHeaders, mintToken } from "./helpers/auth";
import { fullClaims, signToken, unsecuredToken } from "./helpers/bad-tokens";
import { seedConnection } from "./helpers/connections";
import { useIntercomSim } from "./helpers/intercom-sim";
import { type Answer, answerOf, callApp, d1Snapshot, inBatches, problemDefect } from "./helpers/robustness";

const JWKS_URL = "https://idp.attacks.test/.well-known/jwks.json";
let published: JWK[] = [];
const sim = useIntercomSim({}, [http.get(JWKS_URL, () => HttpResponse.json({ keys: published }))]);
const BASE = "https://connector.test";

interface Operation {
  method: string;
  path: string;
}

let operations: Operation[] = [];
let rsa: { privateKey: CryptoKey; jwk: JWK };

beforeAll(async () => {
  const doc = (await (await exports.default.fetch(`${BASE}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { security?: unknown[] }>>;
  };
  operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods)
      .filter(([, op]) => (op.security ?? []).length > 0)
      .map(([method]) => ({ method: method.toUpperCase(), path })),
  );
  const pair = await generateKeyPair("RS256");
  rsa = {
    privateKey: pair.privateKey,
    jwk: { ...(await exportJWK(pair.publicKey)), kid: "attack-rsa", alg: "RS256", use: "sig" },
  };
  published = [rsa.jwk];
});

const scopeOf = (path: string, method = "GET") =>
  path.startsWith("/v1/connections") ||
  path.startsWith("/v1/erasures") ||
  (method === "DELETE" && path.startsWith("/v1/users?"))
    ? "admin"
    : "ingest";

// ---------------------------------------------------------------------------------------------------------------
// A victim workspace with one of everything, written without Intercom (destination off: nothing in the background).

interface Victim {
  workspaceId: string;
  connectionId: string;
  appId: string;
  userId: string;
  email: string;
  accountId: string;
  actionId: string;
  importId: string;
}

async function victim(workspaceId = `ws_victim_${crypto.randomUUID().slice(0, 6)}`): Promise<Victim> {
  const workspace = sim.createWorkspace();
  const connection = await seedConnection({
    workspaceId,
    appId: workspace.app_id,
    token: workspace.token,
  });
  const headers = await authHeaders({ workspaceId, scope: "ingest" });
  const userId = `victim-user-${crypto.randomUUID().slice(0, 6)}`;
  const email = `${userId}@victim.example`;
  const accountId = `victim-acct-${crypto.randomUUID().slice(0, 6)}`;
  for (const [method, path, body] of [
    ["PUT", "/v1/users", { user_id: userId, email, properties: { secret_plan: "enterprise" } }],
    ["PUT", `/v1/accounts/${accountId}`, { name: "Victim Corp" }],
    ["PUT", `/v1/accounts/${accountId}/users/${userId}`, undefined],
  ] as const) {
    const res = await callApp(
      new Request(`${BASE}${path}`, { method, headers, ...(body ? { body: JSON.stringify(body) } : {}) }),
    );
    expect(res.status, `${method} ${path}`).toBe(200);
  }
  const user = await env.DB.prepare("SELECT pk FROM users WHERE workspace_id = ? AND user_id = ?")
    .bind(workspaceId, userId)
    .first<{ pk: number }>();
  const actionId = crypto.randomUUID();
  const db = database(env.DB);
  await db.insert(actions).values({
    id: actionId,
    workspaceId,
    connectionId: connection.id,
    userPk: user!.pk,
    type: "add_tag",
    payload: { tag: "vip" },
    status: "failed",
    detail: "seeded",
    acceptedAt: Date.now(),
    updatedAt: Date.now(),
  });
  await recordDeadLetter(db, {
    queue: "intercom-outbound",
    connectionId: connection.id,
    workspaceId,
    body: { kind: "user", connection_id: connection.id, local_pk: user!.pk, action_id: actionId },
    detail: "seeded",
  });
  await writeSyncLog(db, {
    connectionId: connection.id,
    workspaceId,
    direction: "out",
    outcome: "synced",
    objectType: "contact",
    objectId: userId,
    email,
    detail: "seeded",
  });
  const imported = await insertQueuedImport(db, {
    connectionId: connection.id,
    workspaceId,
    options: importOptions({}),
  });
  return {
    workspaceId,
    connectionId: connection.id,
    appId: workspace.app_id,
    userId,
    email,
    accountId,
    actionId,
    importId: imported!.id,
  };
}

/** Every authenticated route with the victim's ids in its path (and query), with a body that would write if let in. */
function victimRequests(v: Victim): Array<{ method: string; path: string; body?: unknown }> {
  const values: Record<string, string> = { account_id: v.accountId, user_id: v.userId, import_id: v.importId };
  return operations.map(({ method, path }) => {
    const id = path.startsWith("/v1/actions") ? v.actionId : v.connectionId;
    let url = path.replace(/\{(\w+)\}/g, (_, name: string) => (name === "id" ? id : values[name]!));
    if (
      path.endsWith("/preview") ||
      path.startsWith("/v1/users/lookup") ||
      path.startsWith("/v1/users/events") ||
      (method === "DELETE" && path === "/v1/users")
    )
      url += `?user_id=${v.userId}`;
    const bodies: Record<string, unknown> = {
      "POST /v1/connections": { name: "x", access_token: "dG9rOmF0dGFja2Vy" },
      "POST /v1/connections/oauth": {},
      "POST /v1/connections/{id}/imports": {},
      "PATCH /v1/connections/{id}": { name: "Taken over", destination: { enabled: true, allow_create: true } },
      "PUT /v1/users": { user_id: v.userId, properties: { secret_plan: "free" } },
      "PUT /v1/accounts/{account_id}": { name: "Taken over" },
      "POST /v1/actions": { user_id: v.userId, type: "add_tag", tag: "pwned" },
    };
    const body = bodies[`${method} ${path}`];
    return { method, path: url, ...(body === undefined ? {} : { body }) };
  });
}

function request(method: string, path: string, authorization: string, body?: unknown): Request {
  return new Request(`${BASE}${path}`, {
    method,
    headers: { authorization, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** Sends `token` to every authenticated route (with the victim's ids) and expects 401 problems and no D1 change. */
async function expectRefusedEverywhere(token: (scope: string) => Promise<string>, bindings: Env = env): Promise<void> {
  const v = await victim();
  const before = await d1Snapshot();
  const requests = victimRequests(v);
  const answers = await inBatches(requests, 10, async (r) => ({
    r,
    answer: await answerOf(
      await callApp(request(r.method, r.path, `Bearer ${await token(scopeOf(r.path, r.method))}`, r.body), bindings),
    ),
  }));
  for (const { r, answer } of answers) {
    expect(answer.status, `${r.method} ${r.path}: ${answer.body}`).toBe(401);
    expect(problemDefect(answer), `${r.method} ${r.path}`).toBeNull();
    expect(answer.wwwAuthenticate).toMatch(/^Bearer realm="intercom-connector", error="invalid_token"/);
  }
  expect(answers.length).toBe(operations.length);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  expect(await d1Snapshot()).toEqual(before);
}

const now = () => Math.floor(Date.now() / 1000);

describe("forged admin/ingest JWTs are refused on every authenticated route, and change nothing", () => {
  it("alg: none (and its case variants)", async () => {
    await expectRefusedEverywhere(async (scope) => unsecuredToken(fullClaims("ws_attacker", scope)));
    await expectRefusedEverywhere(async (scope) => unsecuredToken(fullClaims("ws_attacker", scope), "NONE"));
  });

  it("HS256 signed with the JWKS public key (algorithm confusion), with only the JWKS configured and with both key sources", async () => {
    const confused = (scope: string) =>
      signToken(
        { workspace_id: "ws_attacker", scope },
        { alg: "HS256", kid: "attack-rsa", key: new TextEncoder().encode(JSON.stringify(rsa.jwk)) },
      );
    await expectRefusedEverywhere(confused, { ...env, ADMIN_JWKS_URL: JWKS_URL, ADMIN_JWT_SECRET: undefined });
    await expectRefusedEverywhere(confused, { ...env, ADMIN_JWKS_URL: JWKS_URL });
    // The same claims signed with the private key pass: the refusals above are about the key, not the claims.
    const genuine = await signToken(
      { workspace_id: "ws_attacker", scope: "admin" },
      { alg: "RS256", kid: "attack-rsa", key: rsa.privateKey },
    );
    const res = await callApp(request("GET", "/v1/connections", `Bearer ${genuine}`), {
      ...env,
      ADMIN_JWKS_URL: JWKS_URL,
      ADMIN_JWT_SECRET: undefined,
    });
    expect(res.status).toBe(200);
  });

  it("expired (beyond the 30 s clock tolerance)", async () => {
    await expectRefusedEverywhere((scope) => signToken({ workspace_id: "ws_attacker", scope }, { exp: now() - 31 }));
  });

  it("not yet valid (nbf beyond the clock tolerance)", async () => {
    await expectRefusedEverywhere((scope) => signToken({ workspace_id: "ws_attacker", scope, nbf: now() + 60 }));
  });

  it("another issuer", async () => {
    await expectRefusedEverywhere((scope) =>
      signToken({ workspace_id: "ws_attacker", scope }, { iss: "https://attacker.example" }),
    );
  });

  it("another audience", async () => {
    await expectRefusedEverywhere((scope) =>
      signToken({ workspace_id: "ws_attacker", scope }, { aud: "some-other-service" }),
    );
  });

  it("no workspace_id (or one that is not a non-empty string)", async () => {
    await expectRefusedEverywhere((scope) => signToken({ scope }));
    await expectRefusedEverywhere((scope) => signToken({ workspace_id: ["ws_a", "ws_b"], scope }));
    await expectRefusedEverywhere((scope) => signToken({ workspace_id: " ", scope }));
  });
});

describe("another workspace's ids answer 404 on every resource route, leak nothing and change nothing", () => {
  /** Calls every route with the victim's ids as `attacker`, returns the answers by route. */
  async function asAttacker(v: Victim, attacker: string, filter: (r: { method: string; path: string }) => boolean) {
    const requests = victimRequests(v).filter(filter);
    const tokens = {
      admin: `Bearer ${await mintToken({ workspaceId: attacker, scope: "admin" })}`,
      ingest: `Bearer ${await mintToken({ workspaceId: attacker, scope: "ingest" })}`,
    };
    return inBatches(requests, 10, async (r) => {
      const scope = scopeOf(r.path, r.method);
      return { r, answer: await answerOf(await callApp(request(r.method, r.path, tokens[scope], r.body))) };
    });
  }

  function expectNotFoundAndNoLeak(answers: Array<{ r: { method: string; path: string }; answer: Answer }>, v: Victim) {
    for (const { r, answer } of answers) {
      expect(answer.status, `${r.method} ${r.path}: ${answer.body}`).toBe(404);
      expect(problemDefect(answer)).toBeNull();
      for (const secret of [v.email, "enterprise", "Victim Corp", v.appId])
        expect(answer.body, `${r.method} ${r.path}`).not.toContain(secret);
    }
  }

  it("connections: read, patch, delete, test, logs, preview, resync, imports, dead letters and their replay", async () => {
    const v = await victim();
    const attacker = `ws_attacker_${crypto.randomUUID().slice(0, 6)}`;
    await seedConnection({ workspaceId: attacker });
    const before = await d1Snapshot();
    const answers = await asAttacker(v, attacker, (r) => r.path.startsWith(`/v1/connections/${v.connectionId}`));
    expect(
      answers
        .map(
          ({ r }) =>
            `${r.method} ${r.path.split("?")[0]!.replace(v.connectionId, "{id}").replace(v.importId, "{import_id}")}`,
        )
        .sort(),
    ).toEqual([
      "DELETE /v1/connections/{id}",
      "DELETE /v1/connections/{id}/imports/{import_id}",
      "DELETE /v1/connections/{id}/resync",
      "GET /v1/connections/{id}",
      "GET /v1/connections/{id}/dead-letters",
      "GET /v1/connections/{id}/imports",
      "GET /v1/connections/{id}/imports/{import_id}",
      "GET /v1/connections/{id}/logs",
      "GET /v1/connections/{id}/preview",
      "GET /v1/connections/{id}/resync",
      "GET /v1/connections/{id}/summary",
      "PATCH /v1/connections/{id}",
      "POST /v1/connections/{id}/dead-letters/replay",
      "POST /v1/connections/{id}/imports",
      "POST /v1/connections/{id}/resync",
      "POST /v1/connections/{id}/test",
    ]);
    expectNotFoundAndNoLeak(answers, v);
    const list = (await (
      await callApp(
        request("GET", "/v1/connections", `Bearer ${await mintToken({ workspaceId: attacker, scope: "admin" })}`),
      )
    ).json()) as { items: Array<{ id: string }> };
    expect(list.items.map((item) => item.id)).not.toContain(v.connectionId);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await d1Snapshot()).toEqual(before);
    expect(sim.journal().filter((entry) => entry.app_id === v.appId)).toEqual([]);
  });

  it("actions: another workspace's action id, user, or connection", async () => {
    const v = await victim();
    const attacker = `ws_attacker_${crypto.randomUUID().slice(0, 6)}`;
    // The attacker's own user (no connection of its own: nothing runs in the background).
    await callApp(
      new Request(`${BASE}/v1/users`, {
        method: "PUT",
        headers: await authHeaders({ workspaceId: attacker, scope: "ingest" }),
        body: JSON.stringify({ user_id: "attacker-user" }),
      }),
    );
    const before = await d1Snapshot();
    const ingest = `Bearer ${await mintToken({ workspaceId: attacker, scope: "ingest" })}`;
    const answers = [
      ...(await asAttacker(v, attacker, (r) => r.path.startsWith("/v1/actions"))),
      // The attacker's own user, aimed at the victim's connection.
      {
        r: { method: "POST", path: "/v1/actions (victim's connection_id)" },
        answer: await answerOf(
          await callApp(
            request("POST", "/v1/actions", ingest, {
              user_id: "attacker-user",
              type: "add_tag",
              tag: "x",
              connection_id: v.connectionId,
            }),
          ),
        ),
      },
    ];
    expect(answers.map(({ r }) => r.method).sort()).toEqual(["GET", "POST", "POST"]);
    expectNotFoundAndNoLeak(answers, v);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await d1Snapshot()).toEqual(before);
  });

  it("users: lookup and events of another workspace's user", async () => {
    const v = await victim();
    const before = await d1Snapshot();
    const answers = await asAttacker(v, "ws_attacker_users", (r) => r.path.startsWith("/v1/users/"));
    expect(answers).toHaveLength(2);
    expectNotFoundAndNoLeak(answers, v);
    // By email too.
    const byEmail = await answerOf(
      await callApp(
        request(
          "GET",
          `/v1/users/lookup?email=${encodeURIComponent(v.email)}`,
          `Bearer ${await mintToken({ workspaceId: "ws_attacker_users", scope: "ingest" })}`,
        ),
      ),
    );
    expect(byEmail.status).toBe(404);
    expect(await d1Snapshot()).toEqual(before);
  });

  it("accounts: read, link and unlink another workspace's account and user; an upsert with its id writes only the caller's own account", async () => {
    const v = await victim();
    const attacker = "ws_attacker_accounts";
    const before = await d1Snapshot();
    const answers = await asAttacker(
      v,
      attacker,
      (r) => r.path.startsWith("/v1/accounts/") && !(r.method === "PUT" && !r.path.includes("/users/")),
    );
    expect(answers.map(({ r }) => r.method).sort()).toEqual(["DELETE", "GET", "PUT"]);
    expectNotFoundAndNoLeak(answers, v);
    expect(await d1Snapshot()).toEqual(before);

    // PUT /v1/accounts/{id} is an upsert in the caller's workspace: the same id names the attacker's own account.
    const victimAccount = () =>
      env.DB.prepare("SELECT * FROM accounts WHERE workspace_id = ? AND account_id = ?")
        .bind(v.workspaceId, v.accountId)
        .first();
    const victimBefore = await victimAccount();
    const upsert = await callApp(
      request(
        "PUT",
        `/v1/accounts/${v.accountId}`,
        `Bearer ${await mintToken({ workspaceId: attacker, scope: "ingest" })}`,
        { name: "Mine" },
      ),
    );
    expect(upsert.status).toBe(200);
    expect(await upsert.json()).toMatchObject({ account_id: v.accountId, name: "Mine", user_ids: [] });
    expect(await victimAccount()).toEqual(victimBefore);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// OAuth `state` across workspaces. (Tampered, reused and expired states on one workspace: test/oauth.test.ts.)

/** The key the connector signs states with: HKDF-SHA256 of the client secret (src/api/oauth.ts). */
async function stateKey(): Promise<Uint8Array> {
  const material = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(env.INTERCOM_CLIENT_SECRET),
    "HKDF",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new Uint8Array(0),
      info: new TextEncoder().encode("intercom-connector:oauth-state"),
    },
    material,
    256,
  );
  return new Uint8Array(bits);
}

async function startOAuth(workspaceId: string): Promise<{ authorizeUrl: string; state: string }> {
  const res = await callApp(
    new Request(`${BASE}/v1/connections/oauth`, {
      method: "POST",
      headers: await authHeaders({ workspaceId, scope: "admin" }),
    }),
  );
  expect(res.status).toBe(200);
  const { authorize_url: authorizeUrl } = (await res.json()) as { authorize_url: string };
  return { authorizeUrl, state: new URL(authorizeUrl).searchParams.get("state")! };
}

/** The admin's browser at Intercom: consent, and the callback URL it is sent back to. */
async function consent(authorizeUrl: string): Promise<URL> {
  const res = await fetch(authorizeUrl, { redirect: "manual" });
  expect(res.status).toBe(302);
  return new URL(res.headers.get("location")!);
}

async function callback(url: URL, state?: string): Promise<Answer> {
  const target = new URL(url);
  if (state !== undefined) target.searchParams.set("state", state);
  return answerOf(await callApp(new Request(`${BASE}${target.pathname}${target.search}`)));
}

async function connectionIds(workspaceId: string): Promise<string[]> {
  const { results } = await env.DB.prepare("SELECT id FROM connections WHERE workspace_id = ?")
    .bind(workspaceId)
    .all<{ id: string }>();
  return results.map((row) => row.id);
}

describe("OAuth state across workspaces", () => {
  it("a state minted for workspace A creates the connection in A only, whoever's browser finishes the flow", async () => {
    sim.createWorkspace();
    const { authorizeUrl } = await startOAuth("ws_oauth_a");
    // The callback carries no bearer token: nothing but the state can say whose connection it is.
    const res = await callback(await consent(authorizeUrl));
    expect(res.status).toBe(200);
    expect(await connectionIds("ws_oauth_a")).toEqual([JSON.parse(res.body).id]);
    expect(await connectionIds("ws_oauth_b")).toEqual([]);
  });

  it("a state of A re-signed for B (even with the real key) is refused, and A can still use its own", async () => {
    sim.createWorkspace();
    const { authorizeUrl, state } = await startOAuth("ws_oauth_a2");
    await startOAuth("ws_oauth_b2"); // B has states of its own
    const claims = JSON.parse(atob(state.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")));
    // What an attacker could only do with the client secret: the nonce of A's state, claimed for B.
    const forged = await new SignJWT({ ...claims, workspace_id: "ws_oauth_b2" })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .sign(await stateKey());
    const url = await consent(authorizeUrl);
    const mark = sim.journal().at(-1)?.seq ?? 0;
    const res = await callback(url, forged);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).detail).toMatch(/^invalid_state: /);
    expect(sim.journal({ since: mark }).filter((entry) => entry.path === "/auth/eagle/token")).toEqual([]);
    expect(await connectionIds("ws_oauth_b2")).toEqual([]);
    // Not burned by the attempt: A finishes its own flow.
    expect((await callback(url)).status).toBe(200);
    expect(await connectionIds("ws_oauth_a2")).toHaveLength(1);
  });

  it("states not made by the connector are refused: alg none, signed with the client secret itself, or with the admin JWT secret", async () => {
    sim.createWorkspace();
    const { authorizeUrl, state } = await startOAuth("ws_oauth_c");
    const claims = JSON.parse(atob(state.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")));
    const url = await consent(authorizeUrl);
    for (const forged of [
      unsecuredToken(claims),
      await new SignJWT(claims)
        .setProtectedHeader({ alg: "HS256" })
        .sign(new TextEncoder().encode(env.INTERCOM_CLIENT_SECRET)),
      await new SignJWT(claims)
        .setProtectedHeader({ alg: "HS256" })
        .sign(new TextEncoder().encode(env.ADMIN_JWT_SECRET)),
      await new SignJWT({ ...claims, workspace_id: "ws_oauth_evil" })
        .setProtectedHeader({ alg: "HS512" })
        .sign(await stateKey()),
    ]) {
      const res = await callback(url, forged);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body).detail).toMatch(/^invalid_state: /);
    }
    expect(await connectionIds("ws_oauth_evil")).toEqual([]);
    expect((await callback(url)).status).toBe(200);
  });

  it("replayed concurrently: ten callbacks with one state make exactly one connection", async () => {
    sim.createWorkspace();
    const { authorizeUrl } = await startOAuth("ws_oauth_race");
    const url = await consent(authorizeUrl);
    const answers = await Promise.all(Array.from({ length: 10 }, () => callback(url)));
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([200, 400, 400, 400, 400, 400, 400, 400, 400, 400]);
    for (const answer of answers.filter((a) => a.status === 400))
      expect(JSON.parse(answer.body).detail).toMatch(/^state_reused: /);
    expect(await connectionIds("ws_oauth_race")).toHaveLength(1);
    expect(sim.journal().filter((entry) => entry.path === "/auth/eagle/token")).toHaveLength(1);
  });

  it("expired in D1 although its JWT is still valid: refused (the stored expiry is the one that counts)", async () => {
    sim.createWorkspace();
    const { authorizeUrl, state } = await startOAuth("ws_oauth_stale");
    const nonce = JSON.parse(atob(state.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))).jti as string;
    await env.DB.prepare("UPDATE oauth_states SET expires_at = ? WHERE nonce = ?")
      .bind(Date.now() - 1_000, nonce)
      .run();
    const res = await callback(await consent(authorizeUrl));
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).detail).toMatch(/^expired_state: /);
    expect(await connectionIds("ws_oauth_stale")).toEqual([]);
  });
});
