import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { database } from "../src/db/client";
import { writeAccount } from "../src/graph/accounts";
import { insertEvent } from "../src/graph/events";
import { upsertLink } from "../src/graph/links";
import { addMembership } from "../src/graph/memberships";
import { writeUser } from "../src/graph/users";
import { authHeaders } from "./helpers/auth";
import { seedConnection } from "./helpers/connections";

const db = database(env.DB);
const WS = "ws_read";
const BASE = "https://connector.test";

async function get(path: string, options: { workspaceId?: string; scope?: string; auth?: boolean } = {}) {
  const headers =
    options.auth === false
      ? {}
      : await authHeaders({ workspaceId: options.workspaceId ?? WS, scope: options.scope ?? "ingest" });
  const res = await exports.default.fetch(`${BASE}${path}`, { headers });
  return { status: res.status, type: res.headers.get("content-type"), body: (await res.json()) as any };
}

beforeAll(async () => {
  const ada = await writeUser(
    db,
    WS,
    { userId: "ada" },
    { userId: "ada", email: "Ada@Example.com", properties: { plan: "pro" }, segments: ["vip"] },
    { create: true },
  );
  await writeUser(db, WS, { email: "solo@example.com" }, { email: "solo@example.com" }, { create: true });
  const acme = await writeAccount(db, WS, "acme", { name: "Acme", properties: { mrr: 10 } }, { create: true });
  const solo = await writeUser(db, WS, { email: "solo@example.com" }, {}, { create: false });
  await addMembership(db, WS, ada!.user.pk, acme!.account.pk);
  await addMembership(db, WS, solo!.user.pk, acme!.account.pk);
  // Two connections of the workspace link Ada; the most recently updated link wins.
  const first = await seedConnection({ workspaceId: WS });
  const second = await seedConnection({ workspaceId: WS });
  await upsertLink(
    db,
    { connectionId: first.id, objectType: "contact", localPk: ada!.user.pk, intercomId: "ic_old" },
    1_000,
  );
  await upsertLink(
    db,
    { connectionId: second.id, objectType: "contact", localPk: ada!.user.pk, intercomId: "ic_new" },
    2_000,
  );
  await upsertLink(
    db,
    { connectionId: first.id, objectType: "company", localPk: acme!.account.pk, intercomId: "co_1" },
    1_000,
  );
  // Five events; two share a time so the cursor must break the tie.
  const times = [1_000, 2_000, 2_000, 3_000, 4_000];
  for (const [i, occurredAt] of times.entries()) {
    await insertEvent(db, {
      workspaceId: WS,
      userPk: ada!.user.pk,
      connectionId: first.id,
      name: `e${i}`,
      properties: { i },
      occurredAt: occurredAt * 1_000_000,
      source: "intercom",
      dedupeKey: `read-api:${i}`,
    });
  }
});

describe("GET /v1/users/lookup", () => {
  it("answers the user by user_id or by email (any case)", async () => {
    const byId = await get("/v1/users/lookup?user_id=ada");
    expect(byId.status).toBe(200);
    expect(byId.body).toEqual({
      user_id: "ada",
      email: "ada@example.com",
      properties: { plan: "pro" },
      segments: ["vip"],
      account_ids: ["acme"],
      intercom_contact_id: "ic_new",
      created_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T.*Z$/),
      updated_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T.*Z$/),
    });
    expect((await get("/v1/users/lookup?email=ADA%40example.com")).body.user_id).toBe("ada");
    expect((await get("/v1/users/lookup?email=solo%40example.com")).body).toMatchObject({
      user_id: null,
      intercom_contact_id: null,
    });
  });

  it("404 for an unknown user and for another workspace's user; 422 without user_id or email", async () => {
    expect(await get("/v1/users/lookup?user_id=nobody")).toMatchObject({
      status: 404,
      type: "application/problem+json",
    });
    expect((await get("/v1/users/lookup?user_id=ada", { workspaceId: "ws_other" })).status).toBe(404);
    const invalid = await get("/v1/users/lookup");
    expect(invalid).toMatchObject({ status: 422, body: { errors: [{ path: "query.user_id" }] } });
  });

  it("requires a token with the ingest scope", async () => {
    expect((await get("/v1/users/lookup?user_id=ada", { auth: false })).status).toBe(401);
    expect((await get("/v1/users/lookup?user_id=ada", { scope: "admin" })).status).toBe(403);
  });
});

describe("GET /v1/users/events", () => {
  it("pages events newest first with an opaque cursor, ties broken stably (also across a page boundary)", async () => {
    const pageThrough = async (limit: number) => {
      const names: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: { body: { items: Array<{ name: string }>; next_cursor: string | null } } = await get(
          `/v1/users/events?user_id=ada&limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`,
        );
        names.push(...page.body.items.map((item) => item.name));
        cursor = page.body.next_cursor;
        pages++;
      } while (cursor && pages < 10);
      return { names, pages };
    };
    expect(await pageThrough(2)).toEqual({ names: ["e4", "e3", "e2", "e1", "e0"], pages: 3 });
    // With 3 per page, e2 and e1 (same time) fall on either side of the cursor.
    expect(await pageThrough(3)).toEqual({ names: ["e4", "e3", "e2", "e1", "e0"], pages: 2 });
    const first = await get("/v1/users/events?email=ada%40example.com&limit=1");
    expect(first.body.items).toEqual([
      { name: "e4", properties: { i: 4 }, occurred_at: new Date(4_000_000_000).toISOString(), source: "intercom" },
    ]);
  });

  it("validates limit and cursor; 404 for an unknown user", async () => {
    expect((await get("/v1/users/events?user_id=ada&limit=0")).status).toBe(422);
    expect((await get("/v1/users/events?user_id=ada&limit=500")).status).toBe(422);
    expect(await get("/v1/users/events?user_id=ada&cursor=not-ours")).toMatchObject({
      status: 422,
      body: { errors: [{ path: "query.cursor" }] },
    });
    expect((await get("/v1/users/events?user_id=nobody")).status).toBe(404);
    expect((await get("/v1/users/events?user_id=ada", { workspaceId: "ws_other" })).status).toBe(404);
  });
});

describe("GET /v1/accounts/{account_id}", () => {
  it("answers the account with member user_ids, every member (leads included) and its Intercom company id", async () => {
    const res = await get("/v1/accounts/acme");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      account_id: "acme",
      name: "Acme",
      properties: { mrr: 10 },
      user_ids: ["ada"],
      // Solo is a lead (email only): invisible in user_ids, listed in members.
      members: [
        { user_id: "ada", email: "ada@example.com" },
        { user_id: null, email: "solo@example.com" },
      ],
      intercom_company_id: "co_1",
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
  });

  it("404 for an unknown account and for another workspace's", async () => {
    expect((await get("/v1/accounts/nope")).status).toBe(404);
    expect((await get("/v1/accounts/acme", { workspaceId: "ws_other" })).status).toBe(404);
    expect((await get("/v1/accounts/acme", { scope: "admin" })).status).toBe(403);
  });

  it("the read routes are in the OpenAPI document", async () => {
    const doc = (await (await exports.default.fetch(`${BASE}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.paths["/v1/users/lookup"]).toHaveProperty("get");
    expect(doc.paths["/v1/users/events"]).toHaveProperty("get");
    expect(doc.paths["/v1/accounts/{account_id}"]).toHaveProperty("get");
  });
});
