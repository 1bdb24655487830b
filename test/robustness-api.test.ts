/**
 * Generated bad input against every route of `GET /openapi.json` (issue 8, point 4), through the Worker's HTTP app
 * with its real bindings, against real D1 (Intercom is the simulator):
 *
 * - every authenticated route, called without a token, with a malformed Authorization header, with each kind of
 *   refused JWT, or with the other scope: 401 (or 403), a problem+json body, and not one D1 row changed;
 * - every route, called by its rightful caller with bad bodies (truncated, not JSON, wrong content type, wrong
 *   types, unknown keys, too long, too deep, over 1 MiB), bad path parameters and bad query strings: the 4xx of
 *   the case with a problem+json body, no 5xx, and not one D1 row changed either;
 * - odd but acceptable input (unknown query keys, non-UTF-8 bytes, 32-level values): no 5xx.
 */
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { database } from "../src/db/client";
import { actions } from "../src/db/schema";
import { mintToken } from "./helpers/auth";
import { malformedAuthorizations, refusedTokens } from "./helpers/bad-tokens";
import { seedConnection } from "./helpers/connections";
import { useIntercomSim } from "./helpers/intercom-sim";
import { type Answer, answerOf, callApp, d1Snapshot, inBatches, problemDefect, Rng, tally } from "./helpers/robustness";

const sim = useIntercomSim();
const BASE = "https://connector.test";
const SEED = 88_2026;
const rng = new Rng(SEED);
const WS = "ws_rb_api";

interface Operation {
  method: string;
  /** OpenAPI path, e.g. `/v1/connections/{id}`. */
  path: string;
  authenticated: boolean;
  hasBody: boolean;
}

interface World {
  connectionId: string;
  appId: string;
  actionId: string;
  userId: string;
  accountId: string;
}

/** The scope a route needs (README, API): `admin` for connections and erasures, `ingest` for data and actions. */
function scopeOf(op: { method: string; path: string }): "admin" | "ingest" {
  if (op.method === "DELETE" && op.path === "/v1/users") return "admin";
  return op.path.startsWith("/v1/connections") || op.path.startsWith("/v1/erasures") ? "admin" : "ingest";
}

/** A valid request body for each route that takes one: what a forger would want to get through. */
function validBody(op: Operation, world: World, token: string): unknown {
  switch (`${op.method} ${op.path}`) {
    case "POST /v1/connections":
      return { name: "Forged", access_token: token };
    case "POST /v1/connections/oauth":
      return { name: "Forged" };
    case "PATCH /v1/connections/{id}":
      return { name: "Forged", destination: { enabled: true, allow_create: true } };
    case "PUT /v1/users":
      return { user_id: "rb-forged", email: "forged@example.com", properties: { plan: "free" }, segments: ["all"] };
    case "PUT /v1/accounts/{account_id}":
      return { name: "Forged", properties: { mrr: 1 } };
    case "POST /v1/actions":
      return { user_id: world.userId, type: "add_tag", tag: "forged" };
    case "POST /webhooks/intercom/uninstall":
      return { app_id: world.appId };
    case "POST /v1/connections/{id}/imports":
      return { objects: ["contacts"] };
    default:
      return undefined;
  }
}

/** The route's path with real ids of the world (so only the flaw of a case is refused). */
function realPath(op: Operation, world: World, overrides: Record<string, string> = {}): string {
  const values: Record<string, string> = {
    id: op.path.startsWith("/v1/actions") ? world.actionId : world.connectionId,
    account_id: world.accountId,
    user_id: world.userId,
    ...overrides,
  };
  return op.path.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? name);
}

/** Query strings that make a GET valid where it needs one. */
function validQuery(op: Operation, world: World): string {
  if (op.path === "/v1/connections/{id}/preview") return `?user_id=${world.userId}`;
  if (op.path === "/v1/users/lookup" || op.path === "/v1/users/events") return `?user_id=${world.userId}`;
  // What a forger would want: erasing a real person.
  if (op.method === "DELETE" && op.path === "/v1/users") return `?user_id=${world.userId}`;
  return "";
}

/** The path parameter a bad value goes into: the last one of the route. */
function paramOverride(op: Operation, value: string): Record<string, string> {
  const name = [...op.path.matchAll(/\{(\w+)\}/g)].at(-1)![1]!;
  return { [name]: value };
}

interface Case {
  group: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | Uint8Array | (() => ReadableStream<Uint8Array>);
  /** The status(es) that are right for this case. */
  expect: number[];
}

async function send(item: Case): Promise<Answer> {
  const body = typeof item.body === "function" ? item.body() : item.body;
  return answerOf(
    await callApp(
      new Request(item.url, { method: item.method, headers: item.headers, ...(body === undefined ? {} : { body }) }),
    ),
  );
}

interface Result {
  case: Case;
  answer: Answer;
}

function defects(results: readonly Result[]): string[] {
  return results.flatMap(({ case: item, answer }) => {
    const label = `${item.group} — ${item.method} ${item.url.slice(BASE.length, BASE.length + 120)}`;
    if (!item.expect.includes(answer.status))
      return [`${label}: expected ${item.expect.join("|")}, got ${answer.status} ${answer.body.slice(0, 300)}`];
    if (answer.status >= 400) {
      const defect = problemDefect(answer);
      if (defect) return [`${label}: ${answer.status} with ${defect}`];
      if (answer.status === 401 && !answer.wwwAuthenticate?.startsWith("Bearer"))
        return [`${label}: 401 without WWW-Authenticate`];
    }
    return [];
  });
}

const json = { "content-type": "application/json" };
const figures: Record<string, unknown> = {};

describe("every route of /openapi.json under generated bad input", () => {
  let operations: Operation[] = [];

  beforeAll(async () => {
    const doc = (await (await exports.default.fetch(`${BASE}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { security?: unknown[]; requestBody?: unknown }>>;
    };
    operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        authenticated: Array.isArray(op.security) && op.security.length > 0,
        hasBody: op.requestBody !== undefined,
      })),
    );
  });

  /** A CDP workspace with a connection (to a live simulator workspace), a user, an account, a membership, an action. */
  async function world(): Promise<World> {
    const workspace = sim.createWorkspace();
    const connection = await seedConnection({
      workspaceId: WS,
      appId: workspace.app_id,
      token: workspace.token,
    });
    const ingest = { authorization: `Bearer ${await mintToken({ workspaceId: WS, scope: "ingest" })}`, ...json };
    const userId = `rb-user-${rng.hex(6)}`;
    const accountId = `rb-acct-${rng.hex(6)}`;
    for (const [method, path, body] of [
      ["PUT", "/v1/users", { user_id: userId, email: `${userId}@example.com`, properties: { plan: "pro" } }],
      ["PUT", `/v1/accounts/${accountId}`, { name: "Account" }],
      ["PUT", `/v1/accounts/${accountId}/users/${userId}`, undefined],
    ] as const) {
      const res = await exports.default.fetch(`${BASE}${path}`, {
        method,
        headers: ingest,
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      expect(res.status, `${method} ${path}`).toBe(200);
    }
    const [user] = await env.DB.prepare("SELECT pk FROM users WHERE workspace_id = ? AND user_id = ?")
      .bind(WS, userId)
      .all<{ pk: number }>()
      .then((r) => r.results);
    const actionId = crypto.randomUUID();
    await database(env.DB)
      .insert(actions)
      .values({
        id: actionId,
        workspaceId: WS,
        connectionId: connection.id,
        userPk: user!.pk,
        type: "add_tag",
        payload: { tag: "seeded" },
        status: "done",
        detail: "seeded",
        acceptedAt: Date.now(),
        updatedAt: Date.now(),
      });
    return { connectionId: connection.id, appId: workspace.app_id, actionId, userId, accountId };
  }

  it("lists the routes it covers", () => {
    expect(operations.filter((op) => op.authenticated).length).toBeGreaterThanOrEqual(20);
    expect(operations.map((op) => `${op.method} ${op.path}`)).toEqual(
      expect.arrayContaining(["PUT /v1/users", "GET /v1/connections/{id}/logs", "POST /v1/actions"]),
    );
  });

  it("refuses every token-less, malformed, forged or wrongly scoped request on every authenticated route: 401/403, problem+json, no D1 change", async () => {
    const w = await world();
    const simToken = sim.createWorkspace().token;
    const cases: Case[] = [];
    for (const op of operations.filter((o) => o.authenticated)) {
      const scope = scopeOf(op);
      const otherScope = scope === "admin" ? "ingest" : "admin";
      const url = `${BASE}${realPath(op, w)}${validQuery(op, w)}`;
      const body = op.hasBody ? JSON.stringify(validBody(op, w, simToken)) : undefined;
      const authorizations: Array<[string, string | undefined, number]> = [
        ...malformedAuthorizations(await mintToken({ workspaceId: WS, scope })).map(
          ([name, value]): [string, string | undefined, number] => [name, value, 401],
        ),
        ...(await refusedTokens(WS, scope)).map(([name, token]): [string, string, number] => [
          `JWT ${name}`,
          `Bearer ${token}`,
          401,
        ]),
        [
          `a token with only the ${otherScope} scope`,
          `Bearer ${await mintToken({ workspaceId: WS, scope: otherScope })}`,
          403,
        ],
        ["a token with an empty scope", `Bearer ${await mintToken({ workspaceId: WS, scope: "" })}`, 403],
      ];
      for (const [name, authorization, status] of authorizations) {
        cases.push({
          group: `auth: ${name}`,
          method: op.method,
          url,
          headers: { ...json, ...(authorization === undefined ? {} : { authorization }) },
          ...(body === undefined ? {} : { body }),
          expect: [status],
        });
      }
    }
    const before = await d1Snapshot();
    const started = Date.now();
    const results = await inBatches(cases, 25, async (item) => ({ case: item, answer: await send(item) }));
    figures.unauthenticated = {
      requests: results.length,
      ms: Date.now() - started,
      statuses: tally(results, (r) => String(r.answer.status)),
    };
    expect(
      results.filter((r) => r.answer.status >= 500).map((r) => `${r.case.group}: ${r.answer.status} ${r.answer.body}`),
    ).toEqual([]);
    expect(defects(results)).toEqual([]);
    // Any work a forged request queued would land within a second or two.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await d1Snapshot()).toEqual(before);
    expect(results.length).toBeGreaterThanOrEqual(500);
  });

  it("answers bad bodies, path parameters and query strings of the rightful caller with the right 4xx and a problem: no 5xx, no D1 change", async () => {
    const w = await world();
    const tokens = {
      admin: `Bearer ${await mintToken({ workspaceId: WS, scope: "admin" })}`,
      ingest: `Bearer ${await mintToken({ workspaceId: WS, scope: "ingest" })}`,
    };
    const cases: Case[] = [];
    const add = (
      group: string,
      op: Operation,
      init: { path?: string; query?: string; headers?: Record<string, string>; body?: Case["body"] },
      expectStatus: number | number[],
    ) => {
      const authorization: Record<string, string> = op.authenticated ? { authorization: tokens[scopeOf(op)] } : {};
      cases.push({
        group,
        method: op.method,
        url: `${BASE}${init.path ?? realPath(op, w)}${init.query ?? validQuery(op, w)}`,
        headers: { ...json, ...authorization, ...init.headers },
        ...(init.body === undefined ? {} : { body: init.body }),
        expect: Array.isArray(expectStatus) ? expectStatus : [expectStatus],
      });
    };
    const find = (method: string, path: string) => operations.find((op) => op.method === method && op.path === path)!;

    // Bodies, on every route that takes one.
    const bodyOps = operations.filter(
      (op) => op.hasBody && op.path !== "/webhooks/intercom" && op.path !== "/v1/connections/oauth",
    );
    for (const op of bodyOps) {
      const valid = JSON.stringify(validBody(op, w, "dG9rOnVua25vd24="));
      for (let i = 0; i < 3; i++)
        add("body: truncated JSON", op, { body: valid.slice(0, rng.int(1, valid.length - 1)) }, 400);
      add("body: not JSON", op, { body: "name=x&token=y" }, 400);
      add("body: empty", op, { body: "" }, 400);
      add("body: JSON with trailing garbage", op, { body: `${valid}}` }, 400);
      for (const type of [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/xml",
      ]) {
        add("body: wrong content type", op, { headers: { "content-type": type }, body: valid }, 415);
      }
      add("body: no content type", op, { headers: { "content-type": "" }, body: valid }, 415);
      for (const root of ["[]", "null", "42", '"x"', "true"])
        add("body: JSON that is not an object", op, { body: root }, 422);
      add(
        "body: unknown key",
        op,
        { body: JSON.stringify({ ...(JSON.parse(valid) as object), [`x_${rng.hex(4)}`]: 1 }) },
        op.path === "/webhooks/intercom/uninstall" ? 200 : 422,
      );
      add(
        "body: over 1 MiB (Content-Length)",
        op,
        { body: JSON.stringify({ ...(JSON.parse(valid) as object), padding: "p".repeat(1_100_000) }) },
        413,
      );
      add(
        "body: over 1 MiB (chunked)",
        op,
        {
          body: () => {
            let sent = 0;
            return new ReadableStream<Uint8Array>({
              pull(controller) {
                controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
                sent += 64 * 1024;
                if (sent > 3 * 1024 * 1024) controller.close();
              },
            });
          },
        },
        413,
      );
    }
    // Wrong types, missing fields, too long, too deep: field by field.
    const bodies: Array<[string, string, unknown, number]> = [
      ["POST", "/v1/connections", {}, 422],
      ["POST", "/v1/connections", { name: "x" }, 422],
      ["POST", "/v1/connections", { name: 1, access_token: "t" }, 422],
      ["POST", "/v1/connections", { name: "x", access_token: ["t"] }, 422],
      ["POST", "/v1/connections", { name: "", access_token: "t" }, 422],
      ["POST", "/v1/connections", { name: "x".repeat(101), access_token: "t" }, 422],
      ["POST", "/v1/connections", { name: "x", access_token: "t".repeat(1001) }, 422],
      ["POST", "/v1/connections", { name: "x", access_token: "t", region: "MARS" }, 422],
      ["POST", "/v1/connections", { name: "x", access_token: "not-a-token-intercom-knows" }, 422],
      ["POST", "/v1/connections/oauth", { name: 42 }, 422],
      ["POST", "/v1/connections/oauth", { name: "" }, 422],
      ["POST", "/v1/connections/oauth", { region: "EU" }, 422],
      ["POST", "/v1/connections/oauth", "{", 400],
      ["PATCH", "/v1/connections/{id}", { name: null }, 422],
      ["PATCH", "/v1/connections/{id}", { source: { enabled: "yes" } }, 422],
      ["PATCH", "/v1/connections/{id}", { source: { bogus: true } }, 422],
      ["PATCH", "/v1/connections/{id}", { source: [] }, 422],
      ["PATCH", "/v1/connections/{id}", { destination: { segments: "vip" } }, 422],
      ["PATCH", "/v1/connections/{id}", { destination: { segments: [1, 2] } }, 422],
      [
        "PATCH",
        "/v1/connections/{id}",
        { destination: { segments: Array.from({ length: 201 }, (_, i) => `s${i}`) } },
        422,
      ],
      ["PATCH", "/v1/connections/{id}", { destination: { mappings: { contact: [{ from: "a" }] } } }, 422],
      [
        "PATCH",
        "/v1/connections/{id}",
        { destination: { mappings: { contact: [{ from: "a", to: "nonsense", type: "string" }] } } },
        422,
      ],
      [
        "PATCH",
        "/v1/connections/{id}",
        { destination: { mappings: { contact: [{ from: "a", to: "name", type: "uuid" }] } } },
        422,
      ],
      ["PATCH", "/v1/connections/{id}", { destination: { mappings: { lead: [] } } }, 422],
      ["PATCH", "/v1/connections/{id}", { destination: { allow_create: 1 } }, 422],
      ["PATCH", "/v1/connections/{id}", { id: "another", status: "connected" }, 422],
      ["PUT", "/v1/users", {}, 422],
      ["PUT", "/v1/users", { properties: { a: 1 } }, 422],
      ["PUT", "/v1/users", { user_id: 5 }, 422],
      ["PUT", "/v1/users", { user_id: "" }, 422],
      ["PUT", "/v1/users", { user_id: "u".repeat(256) }, 422],
      ["PUT", "/v1/users", { email: "not-an-email" }, 422],
      ["PUT", "/v1/users", { email: `${"e".repeat(320)}@example.com` }, 422],
      ["PUT", "/v1/users", { user_id: "u", properties: [] }, 422],
      ["PUT", "/v1/users", { user_id: "u", properties: "plan=pro" }, 422],
      ["PUT", "/v1/users", { user_id: "u", properties: { "": 1 } }, 422],
      ["PUT", "/v1/users", { user_id: "u", properties: { ["k".repeat(256)]: 1 } }, 422],
      [
        "PUT",
        "/v1/users",
        { user_id: "u", properties: Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`p${i}`, i])) },
        422,
      ],
      [
        "PUT",
        "/v1/users",
        { user_id: "u", properties: { deep: JSON.parse(`${"[".repeat(40)}${"]".repeat(40)}`) } },
        422,
      ],
      ["PUT", "/v1/users", { user_id: "u", segments: "vip" }, 422],
      ["PUT", "/v1/users", { user_id: "u", segments: [""] }, 422],
      ["PUT", "/v1/users", { user_id: "u", segments: Array.from({ length: 1001 }, (_, i) => `s${i}`) }, 422],
      ["PUT", "/v1/accounts/{account_id}", { name: "" }, 422],
      ["PUT", "/v1/accounts/{account_id}", { name: 5 }, 422],
      ["PUT", "/v1/accounts/{account_id}", { name: "n".repeat(256) }, 422],
      ["PUT", "/v1/accounts/{account_id}", { properties: null }, 422],
      [
        "PUT",
        "/v1/accounts/{account_id}",
        { properties: { deep: JSON.parse(`${'{"a":'.repeat(60)}1${"}".repeat(60)}`) } },
        422,
      ],
      ["PUT", "/v1/accounts/{account_id}", { account_id: "other" }, 422],
      ["POST", "/v1/actions", {}, 422],
      ["POST", "/v1/actions", { user_id: "u", type: "delete_contact" }, 422],
      ["POST", "/v1/actions", { user_id: "u", type: "add_tag" }, 422],
      ["POST", "/v1/actions", { user_id: "u", type: "add_tag", tag: "" }, 422],
      ["POST", "/v1/actions", { user_id: "u", type: "add_tag", tag: "t".repeat(256) }, 422],
      ["POST", "/v1/actions", { user_id: "u", type: "trigger_event" }, 422],
      [
        "POST",
        "/v1/actions",
        { user_id: "u", type: "trigger_event", event: { name: "e", metadata: { a: { b: 1 } } } },
        422,
      ],
      [
        "POST",
        "/v1/actions",
        { user_id: "u", type: "trigger_event", event: { name: "e", occurred_at: "yesterday" } },
        422,
      ],
      [
        "POST",
        "/v1/actions",
        {
          user_id: "u",
          type: "trigger_event",
          event: { name: "e", metadata: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, i])) },
        },
        422,
      ],
      ["POST", "/v1/actions", { type: "add_tag", tag: "t" }, 422],
      ["POST", "/v1/actions", { user_id: "u", type: "add_tag", tag: "t", idempotency_key: "" }, 422],
      ["POST", "/webhooks/intercom/uninstall", {}, 422],
      ["POST", "/webhooks/intercom/uninstall", { app_id: 5 }, 422],
      ["POST", "/webhooks/intercom/uninstall", { app_id: "" }, 422],
      ["POST", "/webhooks/intercom/uninstall", { app_id: "a".repeat(101) }, 422],
    ];
    for (const [method, path, body, status] of bodies) {
      add(
        `body: ${method} ${path} field types`,
        find(method, path),
        { body: typeof body === "string" ? body : JSON.stringify(body) },
        status,
      );
    }
    // Path parameters: unknown, too long, odd encodings.
    const paramOps = operations.filter((op) => op.authenticated && op.path.includes("{"));
    const oddIds = [
      "does-not-exist",
      "%00",
      "%ZZ",
      "%F0%9F%99%82",
      "..%2F..%2Fhealthz",
      "a%20b",
      "%27%20OR%201%3D1--",
      "null",
      "0",
    ];
    for (const op of paramOps) {
      const body = op.hasBody ? JSON.stringify(validBody(op, w, "x")) : undefined;
      for (const id of oddIds) {
        const overrides = paramOverride(op, id);
        // An account upsert creates whatever account id it is given: a valid write, so not in this no-change list.
        if (op.method === "PUT" && op.path === "/v1/accounts/{account_id}") continue;
        add(
          "path: unknown or oddly encoded id",
          op,
          { path: realPath(op, w, overrides), ...(body ? { body } : {}) },
          404,
        );
      }
      // Account ids may be 255 characters long: "too long" starts after that there.
      const length = rng.pick([65, 256, 2_000]);
      const long = "x".repeat(op.path === "/v1/accounts/{account_id}" ? Math.max(length, 256) : length);
      const overrides = paramOverride(op, long);
      add("path: id too long", op, { path: realPath(op, w, overrides), ...(body ? { body } : {}) }, [404, 422]);
    }
    // Query strings.
    const queries: Array<[string, string, string, number]> = [
      ["GET", "/v1/connections/{id}/logs", "?limit=abc", 422],
      ["GET", "/v1/connections/{id}/logs", "?limit=0", 422],
      ["GET", "/v1/connections/{id}/logs", "?limit=-1", 422],
      ["GET", "/v1/connections/{id}/logs", "?limit=201", 422],
      ["GET", "/v1/connections/{id}/logs", "?limit=1.5", 422],
      ["GET", "/v1/connections/{id}/logs", "?limit=1e9", 422],
      ["GET", "/v1/connections/{id}/logs", "?limit=1&limit=2", 422],
      ["GET", "/v1/connections/{id}/logs", "?direction=sideways", 422],
      ["GET", "/v1/connections/{id}/logs", "?outcome=exploded", 422],
      ["GET", "/v1/connections/{id}/logs", "?object_type=Users!", 422],
      ["GET", "/v1/connections/{id}/logs", "?cursor=abc", 422],
      ["GET", "/v1/connections/{id}/logs", "?cursor=0", 422],
      ["GET", "/v1/connections/{id}/logs", "?cursor=99999999999999999999", 422],
      ["GET", "/v1/connections/{id}/logs", "?q=", 422],
      ["GET", "/v1/connections/{id}/logs", `?q=${"q".repeat(321)}`, 422],
      ["GET", "/v1/connections/{id}/preview", "", 422],
      ["GET", "/v1/connections/{id}/preview", "?user_id=", 422],
      ["GET", "/v1/connections/{id}/preview", "?user_id=nobody", 404],
      ["GET", "/v1/connections/{id}/dead-letters", "?limit=x", 422],
      ["GET", "/v1/connections/{id}/dead-letters", "?limit=500", 422],
      ["GET", "/v1/connections/{id}/dead-letters", "?cursor=-1", 422],
      ["GET", "/v1/users/lookup", "", 422],
      ["GET", "/v1/users/lookup", "?user_id=", 422],
      ["GET", "/v1/users/lookup", `?user_id=${"u".repeat(256)}`, 422],
      ["GET", "/v1/users/lookup", `?email=${"e".repeat(321)}`, 422],
      ["GET", "/v1/users/lookup", "?user_id=a&user_id=b", 422],
      ["GET", "/v1/users/lookup", "?user_id=nobody", 404],
      ["GET", "/v1/users/lookup", "?email=nobody%40example.com", 404],
      ["DELETE", "/v1/users", "", 422],
      ["DELETE", "/v1/users", "?user_id=", 422],
      ["DELETE", "/v1/users", `?user_id=${"u".repeat(256)}`, 422],
      ["DELETE", "/v1/users", "?user_id=a&user_id=b", 422],
      ["GET", "/v1/users/events", "", 422],
      ["GET", "/v1/users/events", "?user_id=u&limit=0", 422],
      ["GET", "/v1/users/events", "?user_id=u&limit=many", 422],
      ["GET", "/v1/users/events", "?user_id=u&cursor=%FF%FE", 422],
      ["GET", "/v1/users/events", "?user_id=u&cursor=bm90OmFjdXJzb3I", 422],
      ["GET", "/v1/users/events", `?user_id=u&cursor=${"c".repeat(201)}`, 422],
      ["GET", "/v1/users/events", "?user_id=nobody", 404],
      ["GET", "/oauth/intercom/callback", "", 400],
      ["GET", "/oauth/intercom/callback", "?code=abc", 400],
      ["GET", "/oauth/intercom/callback", "?code=abc&state=not-a-jwt", 400],
      ["GET", "/oauth/intercom/callback", "?code=abc&state=a.b.c", 400],
      ["GET", "/oauth/intercom/callback", "?error=access_denied", 400],
      ["GET", "/oauth/intercom/callback", `?code=abc&state=${"s".repeat(4097)}`, 422],
      ["GET", "/oauth/intercom/callback", `?code=${"c".repeat(2049)}&state=x`, 422],
      ["GET", "/oauth/intercom/callback", "?code=a&code=b&state=x", 422],
    ];
    for (const [method, path, query, status] of queries) {
      for (let i = 0; i < 2; i++) add(`query: ${path}`, find(method, path), { query }, status);
    }
    // Methods a route does not answer, and paths that do not exist.
    for (const path of new Set(operations.map((op) => op.path))) {
      const answered = operations.filter((op) => op.path === path).map((op) => op.method);
      const method = ["PUT", "PATCH", "DELETE", "POST", "GET"].find((m) => !answered.includes(m));
      const op = operations.find((o) => o.path === path)!;
      if (method)
        add("method: not answered by the route", { ...op, method }, { path: realPath(op, w), query: "" }, 405);
    }
    for (const path of [
      "/v1",
      "/v1/connection",
      "/v1/users/lookup/extra",
      "/v2/users",
      "/admin",
      "/.env",
      "/v1/connections/x/logs/y",
    ]) {
      cases.push({
        group: "path: no such route",
        method: "GET",
        url: `${BASE}${path}`,
        headers: { authorization: tokens.admin },
        expect: [404],
      });
    }

    const before = await d1Snapshot();
    const started = Date.now();
    const results = await inBatches(cases, 25, async (item) => ({ case: item, answer: await send(item) }));
    figures.badInput = {
      requests: results.length,
      ms: Date.now() - started,
      statuses: tally(results, (r) => String(r.answer.status)),
    };
    expect(
      results.filter((r) => r.answer.status >= 500).map((r) => `${r.case.group}: ${r.answer.status} ${r.answer.body}`),
    ).toEqual([]);
    expect(defects(results)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await d1Snapshot()).toEqual(before);
    expect(results.length).toBeGreaterThanOrEqual(300);
  });

  it("takes odd but acceptable input without a 5xx (unknown query keys, non-UTF-8 bytes, values 32 levels deep)", async () => {
    const w = await world();
    const ingest = { authorization: `Bearer ${await mintToken({ workspaceId: WS, scope: "ingest" })}`, ...json };
    const admin = { authorization: `Bearer ${await mintToken({ workspaceId: WS, scope: "admin" })}`, ...json };
    const deep32 = JSON.parse(`${"[".repeat(31)}1${"]".repeat(31)}`);
    const odd = (
      group: string,
      method: string,
      path: string,
      headers: Record<string, string>,
      body: Case["body"],
      expect: number[],
    ): Case => ({
      group,
      method,
      url: `${BASE}${path}`,
      headers,
      ...(body === undefined ? {} : { body }),
      expect,
    });
    const latin1 = new Uint8Array([
      ...new TextEncoder().encode('{"user_id":"rb-latin1-'),
      0xe9,
      ...new TextEncoder().encode('"}'),
    ]);
    const lowerCase = { ...admin, authorization: admin.authorization.replace("Bearer", "bearer") };
    const cases: Case[] = [
      odd("unknown query key", "GET", `/v1/users/lookup?user_id=${w.userId}&utm_source=x`, ingest, undefined, [200]),
      odd("unknown query key", "GET", `/v1/connections/${w.connectionId}/logs?foo=bar`, admin, undefined, [200]),
      odd("lower-case bearer scheme", "GET", "/v1/connections", lowerCase, undefined, [200]),
      odd("non-UTF-8 bytes in a JSON string", "PUT", "/v1/users", ingest, latin1, [200, 400]),
      odd(
        "a value 32 levels deep",
        "PUT",
        "/v1/users",
        ingest,
        JSON.stringify({ user_id: "rb-deep", properties: { deep: deep32 } }),
        [200],
      ),
      odd(
        "the same value again (compared, no overflow)",
        "PUT",
        "/v1/users",
        ingest,
        JSON.stringify({ user_id: "rb-deep", properties: { deep: deep32 } }),
        [200],
      ),
      odd(
        "a 900 KB property",
        "PUT",
        "/v1/users",
        ingest,
        JSON.stringify({ user_id: "rb-big", properties: { a: "a".repeat(900_000) } }),
        [200],
      ),
      odd(
        "another one: over the stored limit",
        "PUT",
        "/v1/users",
        ingest,
        JSON.stringify({ user_id: "rb-big", properties: { b: "b".repeat(900_000) } }),
        [422],
      ),
      odd(
        "a 900 KB account property",
        "PUT",
        "/v1/accounts/rb-big",
        ingest,
        JSON.stringify({ properties: { a: "a".repeat(900_000) } }),
        [200],
      ),
      odd(
        "another one: over the stored limit",
        "PUT",
        "/v1/accounts/rb-big",
        ingest,
        JSON.stringify({ properties: { b: "b".repeat(900_000) } }),
        [422],
      ),
      odd(
        "unicode everywhere",
        "PUT",
        `/v1/accounts/${encodeURIComponent("账户-🙂")}`,
        ingest,
        JSON.stringify({ name: "Ünïcødé 🙂", properties: { ключ: "значение" } }),
        [200],
      ),
      odd(
        "an unknown app's uninstall hint",
        "POST",
        "/webhooks/intercom/uninstall",
        json,
        JSON.stringify({ app_id: "nobody" }),
        [200],
      ),
      odd(
        "the uninstall hint of a live connection",
        "POST",
        "/webhooks/intercom/uninstall",
        json,
        JSON.stringify({ app_id: w.appId }),
        [200],
      ),
    ];
    const results = await inBatches(cases, 1, async (item) => ({ case: item, answer: await send(item) }));
    figures.odd = { requests: results.length, statuses: tally(results, (r) => String(r.answer.status)) };
    expect(defects(results)).toEqual([]);
    // A live token survives its uninstall hint.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const row = await env.DB.prepare("SELECT status FROM connections WHERE id = ?")
      .bind(w.connectionId)
      .first<{ status: string }>();
    expect(row!.status).toBe("connected");
    console.info({ msg: "robustness-api figures", seed: SEED, ...figures });
  });
});
