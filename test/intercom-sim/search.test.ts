import { describe, expect, it } from "vitest";
import { type FieldKind, indexLookups, parseQuery } from "./search";
import { send, setup } from "./support";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const unix = (iso: string) => Date.parse(iso) / 1000;

type Api = ReturnType<typeof setup>["api"];

const search = async (api: Api, query: unknown, extra: Record<string, unknown> = {}) =>
  api.post("/contacts/search", { query, ...extra });
const ids = (res: { body: { data: { external_id: string }[] } }) => res.body.data.map((c) => c.external_id).sort();

/** Five users with varied fields, and a numeric custom attribute. */
async function people() {
  const ctx = setup();
  await ctx.api.post("/data_attributes", { name: "seats", model: "contact", data_type: "integer" });
  const rows = [
    {
      external_id: "u1",
      email: "ada@example.com",
      name: "Ada Lovelace",
      phone: "+441",
      custom_attributes: { seats: 1 },
    },
    {
      external_id: "u2",
      email: "Grace@Navy.mil",
      name: "Grace Hopper",
      phone: "+1202",
      custom_attributes: { seats: 5 },
    },
    { external_id: "u3", email: "alan@example.org", name: "Alan Turing", custom_attributes: { seats: 10 } },
    { external_id: "u4", email: "edsger@example.com", name: "Edsger Dijkstra" },
    { external_id: "u5", name: "No Email" },
  ];
  for (const row of rows) expect((await ctx.api.post("/contacts", row)).status).toBe(200);
  return ctx;
}

describe("filters", () => {
  it.each([
    [{ field: "email", operator: "=", value: "GRACE@navy.mil" }, ["u2"]],
    [{ field: "external_id", operator: "=", value: "u3" }, ["u3"]],
    [{ field: "external_id", operator: "!=", value: "u3" }, ["u1", "u2", "u4", "u5"]],
    [{ field: "external_id", operator: "IN", value: ["u1", "u4", "zz"] }, ["u1", "u4"]],
    [{ field: "external_id", operator: "NIN", value: ["u1", "u4"] }, ["u2", "u3", "u5"]],
    [{ field: "name", operator: "~", value: "ing" }, ["u3"]],
    [{ field: "name", operator: "!~", value: "E" }, ["u3"]],
    [{ field: "email", operator: "^", value: "a" }, ["u1", "u3"]],
    [{ field: "email", operator: "$", value: ".com" }, ["u1", "u4"]],
    [{ field: "email_domain", operator: "=", value: "example.com" }, ["u1", "u4"]],
    [{ field: "email", operator: "=", value: null }, ["u5"]],
    [{ field: "email", operator: "!=", value: null }, ["u1", "u2", "u3", "u4"]],
    [{ field: "phone", operator: "^", value: "+1" }, ["u2"]],
    [{ field: "role", operator: "=", value: "user" }, ["u1", "u2", "u3", "u4", "u5"]],
    [{ field: "custom_attributes.seats", operator: ">", value: 1 }, ["u2", "u3"]],
    [{ field: "custom_attributes.seats", operator: "<", value: 10 }, ["u1", "u2"]],
    [{ field: "custom_attributes.seats", operator: ">=", value: 5 }, ["u2", "u3"]],
    [{ field: "custom_attributes.seats", operator: "<=", value: 5 }, ["u1", "u2"]],
    [{ field: "custom_attributes.seats", operator: "=", value: 10 }, ["u3"]],
  ])("%j", async (query, expected) => {
    const { api } = await people();
    const res = await search(api, query);
    expect(res.status).toBe(200);
    expect(ids(res)).toEqual(expected);
    expect(res.body.total_count).toBe(expected.length);
  });

  it("finds a contact by id", async () => {
    const { api } = await people();
    const { id } = (await api.get("/contacts/find_by_external_id/u2")).body;
    expect(ids(await search(api, { field: "id", operator: "=", value: id }))).toEqual(["u2"]);
  });

  it("combines filters with AND and OR, nested two levels deep", async () => {
    const { api } = await people();
    const and = {
      operator: "AND",
      value: [
        { field: "email", operator: "$", value: ".com" },
        { field: "name", operator: "^", value: "ed" },
      ],
    };
    expect(ids(await search(api, and))).toEqual(["u4"]);
    const or = {
      operator: "OR",
      value: [
        { field: "external_id", operator: "=", value: "u1" },
        { field: "email", operator: "~", value: "navy" },
      ],
    };
    expect(ids(await search(api, or))).toEqual(["u1", "u2"]);
    const nested = { operator: "AND", value: [or, { field: "custom_attributes.seats", operator: ">", value: 2 }] };
    expect(ids(await search(api, nested))).toEqual(["u2"]);
  });

  it("answers 400 for deeper nesting, more than 15 filters, unknown fields and bad operators", async () => {
    const { api } = await people();
    const leaf = { field: "role", operator: "=", value: "user" };
    const tooDeep = { operator: "AND", value: [{ operator: "OR", value: [{ operator: "AND", value: [leaf] }] }] };
    expect((await search(api, tooDeep)).status).toBe(400);
    expect((await search(api, { operator: "OR", value: Array(16).fill(leaf) })).status).toBe(400);
    expect((await search(api, { operator: "OR", value: Array(15).fill(leaf) })).status).toBe(200);
    expect((await search(api, { field: "shoe_size", operator: "=", value: 1 })).status).toBe(400);
    expect((await search(api, { field: "custom_attributes.undefined_one", operator: "=", value: 1 })).status).toBe(400);
    expect((await search(api, { field: "email", operator: "LIKE", value: "a" })).status).toBe(400);
    expect((await search(api, { field: "email", operator: ">", value: "a" })).status).toBe(400);
    expect((await search(api, { field: "external_id", operator: "IN", value: "u1" })).status).toBe(400);
    expect((await api.post("/contacts/search", {})).status).toBe(400);
  });

  it("leaves archived contacts out", async () => {
    const { api } = await people();
    const { id } = (await api.get("/contacts/find_by_external_id/u1")).body;
    await api.post(`/contacts/${id}/archive`);
    expect(ids(await search(api, { field: "email", operator: "=", value: "ada@example.com" }))).toEqual([]);
  });
});

describe("dates match by UTC calendar day", () => {
  /** Contacts created at 01:00 and 23:00 on 2026-01-10, and 10:00 on 2026-01-11. */
  async function spreadOverDays() {
    const ctx = setup();
    const startOfDay = Date.parse("2026-01-10T00:00:00Z");
    for (const [externalId, at] of [
      ["early", startOfDay + HOUR],
      ["late", startOfDay + 23 * HOUR],
      ["next", startOfDay + DAY + 10 * HOUR],
    ] as const) {
      ctx.clock.advance(at - ctx.clock.now());
      await ctx.api.post("/contacts", { external_id: externalId, signed_up_at: unix("2025-12-31T18:00:00Z") });
    }
    return ctx;
  }

  it("= matches the whole day, > starts the next day, < ends the day before", async () => {
    const { api } = await spreadOverDays();
    const noon10 = unix("2026-01-10T12:00:00Z");
    expect(ids(await search(api, { field: "created_at", operator: "=", value: noon10 }))).toEqual(["early", "late"]);
    expect(ids(await search(api, { field: "created_at", operator: ">", value: unix("2026-01-10T00:00:00Z") }))).toEqual(
      ["next"],
    );
    expect(ids(await search(api, { field: "created_at", operator: ">", value: unix("2026-01-09T23:59:59Z") }))).toEqual(
      ["early", "late", "next"],
    );
    expect(ids(await search(api, { field: "created_at", operator: "<", value: unix("2026-01-11T23:00:00Z") }))).toEqual(
      ["early", "late"],
    );
    expect(ids(await search(api, { field: "created_at", operator: "<", value: unix("2026-01-10T23:30:00Z") }))).toEqual(
      [],
    );
    expect(
      ids(await search(api, { field: "signed_up_at", operator: "=", value: unix("2025-12-31T00:00:00Z") })),
    ).toHaveLength(3);
  });

  it.each(["!=", ">=", "<=", "IN", "NIN", "~"])("answers 400 for %s on a date field", async (operator) => {
    const { api } = await spreadOverDays();
    const value = operator === "IN" || operator === "NIN" ? [1] : operator === "~" ? "2026" : 1;
    const res = await search(api, { field: "updated_at", operator, value });
    expect(res.status).toBe(400);
  });
});

describe("pagination and sort", () => {
  async function seven() {
    const ctx = setup();
    for (let i = 1; i <= 7; i++) {
      ctx.clock.advance(1000);
      await ctx.api.post("/contacts", { external_id: `u${i}`, name: `Name ${8 - i}` });
    }
    return ctx;
  }

  it("pages with starting_after cursors and omits next on the last page", async () => {
    const { api } = await seven();
    const query = { field: "role", operator: "=", value: "user" };
    const first = await search(api, query, { pagination: { per_page: 3 } });
    expect(first.body).toMatchObject({ type: "list", total_count: 7 });
    expect(first.body.pages).toEqual({
      type: "pages",
      page: 1,
      per_page: 3,
      total_pages: 3,
      next: { per_page: 3, starting_after: expect.any(String) },
    });
    const seen = first.body.data.map((c: { external_id: string }) => c.external_id);
    let next = first.body.pages.next;
    while (next) {
      const page = await search(api, query, { pagination: next });
      seen.push(...page.body.data.map((c: { external_id: string }) => c.external_id));
      next = page.body.pages.next;
      if (!next) expect(page.body.pages).toEqual({ type: "pages", page: 3, per_page: 3, total_pages: 3 });
    }
    // Without a sort, the most recently updated come first.
    expect(seen).toEqual(["u7", "u6", "u5", "u4", "u3", "u2", "u1"]);
  });

  it("defaults to 50 per page and answers 400 beyond 150 or for a forged cursor", async () => {
    const { api } = await seven();
    const query = { field: "role", operator: "=", value: "user" };
    expect((await search(api, query)).body.pages.per_page).toBe(50);
    expect((await search(api, query, { pagination: { per_page: 151 } })).status).toBe(400);
    expect((await search(api, query, { pagination: { per_page: 150 } })).status).toBe(200);
    const forged = await search(api, query, { pagination: { starting_after: "WW91IHNoYWxsIG5vdCBwYXNz" } });
    expect(forged.status).toBe(400);
  });

  it("sorts ascending and descending, and rejects another order with invalid_sort_order", async () => {
    const { api } = await seven();
    const query = { field: "role", operator: "=", value: "user" };
    const byName = await search(api, query, { sort: { field: "name", order: "ascending" } });
    expect(byName.body.data.map((c: { name: string }) => c.name)).toEqual([
      "Name 1",
      "Name 2",
      "Name 3",
      "Name 4",
      "Name 5",
      "Name 6",
      "Name 7",
    ]);
    const newest = await search(api, query, { sort: { field: "created_at", order: "descending" } });
    expect(newest.body.data[0].external_id).toBe("u7");
    const bad = await search(api, query, { sort: { field: "name", order: "sideways" } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([
      { code: "invalid_sort_order", message: "Invalid sort order 'sideways'. Must be one of: ascending, descending" },
    ]);
  });

  it("sorts descending when sort has no order, and by updated_at (newest first) without a sort", async () => {
    const { api, clock } = await seven();
    const query = { field: "role", operator: "=", value: "user" };
    const byName = await search(api, query, { sort: { field: "name" } });
    expect(byName.body.data.map((c: { name: string }) => c.name)[0]).toBe("Name 7");
    clock.advance(1000);
    const u3 = (await search(api, { field: "external_id", operator: "=", value: "u3" })).body.data[0];
    await api.put(`/contacts/${u3.id}`, { name: "Renamed" });
    const recent = await search(api, query);
    expect(recent.body.data.map((c: { external_id: string }) => c.external_id)).toEqual([
      "u3",
      "u7",
      "u6",
      "u5",
      "u4",
      "u2",
      "u1",
    ]);
  });
});

describe("search lag", () => {
  it("hides contacts younger than search_lag_ms, while GET finds them at once", async () => {
    const { sim, api, clock } = setup();
    sim.configure({ search_lag_ms: 60_000 });
    const created = (await api.post("/contacts", { external_id: "fresh", email: "fresh@example.com" })).body;
    const query = { field: "email", operator: "=", value: "fresh@example.com" };
    expect((await search(api, query)).body.total_count).toBe(0);
    expect((await api.get(`/contacts/${created.id}`)).status).toBe(200);
    clock.advance(59_999);
    expect((await search(api, query)).body.total_count).toBe(0);
    clock.advance(1);
    expect(ids(await search(api, query))).toEqual(["fresh"]);
  });

  it("hides an updated contact again for the lag, and settleSearch lets the index catch up", async () => {
    const { sim, api, clock } = setup({ config: { search_lag_ms: 1_000 } });
    const created = (await api.post("/contacts", { external_id: "u1", email: "u1@example.com" })).body;
    clock.advance(1_000);
    const query = { field: "external_id", operator: "=", value: "u1" };
    expect(ids(await search(api, query))).toEqual(["u1"]);
    await api.put(`/contacts/${created.id}`, { name: "Changed" });
    expect((await search(api, query)).body.total_count).toBe(0);
    // An update that changes nothing does not touch the index.
    clock.advance(1_000);
    await api.put(`/contacts/${created.id}`, { name: "Changed" });
    expect(ids(await search(api, query))).toEqual(["u1"]);
    await api.put(`/contacts/${created.id}`, { name: "Again" });
    expect((await search(api, query)).body.total_count).toBe(0);
    sim.settleSearch();
    expect((await search(api, query)).body.data[0].name).toBe("Again");
    await api.put(`/contacts/${created.id}`, { name: "Over HTTP" });
    expect((await send(sim, "POST", "/_sim/search/settle")).body).toEqual({ ok: true });
    expect((await search(api, query)).body.total_count).toBe(1);
  });

  it("draws each write's lag from {min, max}, reproducibly for a seed", async () => {
    const visibleAfter = async (seed: number) => {
      const { api, clock } = setup({ config: { search_lag_ms: { min: 0, max: 2_000 }, seed } });
      for (let i = 0; i < 20; i++) await api.post("/contacts", { external_id: `u${i}` });
      const query = { field: "role", operator: "=", value: "user" };
      const counts: number[] = [];
      for (let t = 0; t <= 2_000; t += 250) {
        counts.push((await search(api, query, { pagination: { per_page: 150 } })).body.total_count);
        clock.advance(250);
      }
      return counts;
    };
    const counts = await visibleAfter(1);
    expect(counts.at(-1)).toBe(20);
    expect(counts[0]).toBeLessThan(20);
    expect(new Set(counts).size).toBeGreaterThan(3);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(await visibleAfter(1)).toEqual(counts);
    expect(await visibleAfter(2)).not.toEqual(counts);
  });

  it("draws lags from a stream of their own, so turning lag on keeps a seed's faults", async () => {
    const faulted = async (lag: number | { min: number; max: number }) => {
      const { api } = setup({ config: { search_lag_ms: lag, faults: { error_rate: 0.3 } } });
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) statuses.push((await api.post("/contacts", { external_id: `u${i}` })).status);
      return statuses;
    };
    expect(await faulted({ min: 0, max: 2_000 })).toEqual(await faulted(0));
  });

  it("validates the lag: a number or {min, max} with 0 ≤ min ≤ max", async () => {
    const { sim } = setup();
    for (const bad of [-1, { min: 5, max: 1 }, { min: 0 }, { min: 0, max: 1, mean: 1 }, "1s"]) {
      expect((await send(sim, "POST", "/_sim/config", { body: { search_lag_ms: bad } })).status).toBe(400);
    }
    expect(sim.configure({ search_lag_ms: { min: 100, max: 100 } }).search_lag_ms).toEqual({ min: 100, max: 100 });
  });
});

describe("index use", () => {
  const kinds: Record<string, FieldKind> = { id: "text", email: "text-ci", external_id: "text", name: "text" };
  const parse = (q: unknown) => parseQuery(q, (f) => kinds[f]);
  const indexed = new Set(["id", "email", "external_id"]);

  it("answers equality on id, email and external_id from indexes, and scans otherwise", () => {
    expect(indexLookups(parse({ field: "email", operator: "=", value: "a@b.c" }), indexed)).toEqual([
      { field: "email", value: "a@b.c" },
    ]);
    const and = parse({
      operator: "AND",
      value: [
        { field: "name", operator: "~", value: "x" },
        { field: "external_id", operator: "=", value: "u1" },
      ],
    });
    expect(indexLookups(and, indexed)).toEqual([{ field: "external_id", value: "u1" }]);
    const or = parse({
      operator: "OR",
      value: [
        { field: "external_id", operator: "=", value: "u1" },
        { field: "email", operator: "IN", value: ["a", "b"] },
      ],
    });
    expect(indexLookups(or, indexed)).toHaveLength(3);
    expect(
      indexLookups(
        parse({
          operator: "OR",
          value: [
            { field: "external_id", operator: "=", value: "u1" },
            { field: "name", operator: "=", value: "x" },
          ],
        }),
        indexed,
      ),
    ).toBeNull();
    expect(indexLookups(parse({ field: "email", operator: "~", value: "a" }), indexed)).toBeNull();
  });

  it("keeps thousands of equality searches fast among thousands of contacts", async () => {
    const { api } = setup({ config: { rate_limit: { limit: 100_000 } } });
    const count = 3000;
    for (let i = 0; i < count; i++)
      await api.post("/contacts", { external_id: `u${i}`, email: `user${i}@example.com` });
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      const res = await search(api, { field: "email", operator: "=", value: `user${i}@example.com` });
      expect(res.body.total_count).toBe(1);
    }
    // A scan per search (3000 × 3000 filter evaluations plus shaping) would take far longer than this generous bound.
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});
