import { describe, expect, it } from "vitest";
import { setup } from "./support";

describe("companies", () => {
  it("creates a company with Intercom's shape, then updates it through the same POST (by company_id)", async () => {
    const { api, clock } = setup();
    const created = await api.post("/companies", {
      company_id: "acme",
      name: "Acme",
      plan: "Pro",
      monthly_spend: 99.9,
      remote_created_at: 1_700_000_000,
      size: 12,
    });
    expect(created.status).toBe(200);
    const now = Math.floor(clock.now() / 1000);
    expect(created.body).toMatchObject({
      type: "company",
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      company_id: "acme",
      app_id: "app_us",
      name: "Acme",
      created_at: now,
      updated_at: now,
      remote_created_at: 1_700_000_000,
      monthly_spend: 99,
      session_count: 0,
      user_count: 0,
      size: 12,
      plan: { type: "plan", id: expect.stringMatching(/^\d+$/), name: "Pro" },
      tags: { type: "tag.list", tags: [] },
      segments: { type: "segment.list", segments: [] },
      custom_attributes: {},
    });
    clock.advance(10_000);
    const updated = await api.post("/companies", { company_id: "acme", monthly_spend: 150 });
    expect(updated.body).toMatchObject({ id: created.body.id, name: "Acme", monthly_spend: 150, updated_at: now + 10 });
    clock.advance(10_000);
    const unchanged = await api.post("/companies", { company_id: "acme", name: "Acme" });
    expect(unchanged.body.updated_at).toBe(now + 10);
  });

  it("reads plan back as {} when unset, and keeps a plan's id across companies", async () => {
    const { api } = setup();
    expect((await api.post("/companies", { company_id: "a" })).body.plan).toEqual({});
    const first = (await api.post("/companies", { company_id: "b", plan: "Gold" })).body.plan;
    const second = (await api.post("/companies", { company_id: "c", plan: "Gold" })).body.plan;
    expect(second).toEqual(first);
  });

  it("truncates monthly_spend and rejects values beyond a 32-bit integer", async () => {
    const { api } = setup();
    expect((await api.post("/companies", { company_id: "a", monthly_spend: 12.99 })).body.monthly_spend).toBe(12);
    expect((await api.post("/companies", { company_id: "a", monthly_spend: 2_147_483_648 })).status).toBe(400);
    expect((await api.post("/companies", { company_id: "a", monthly_spend: "12" })).status).toBe(400);
  });

  it("answers 400 bad 'x' parameter for unknown keys, and validates custom attributes", async () => {
    const { api } = setup();
    const res = await api.post("/companies", { company_id: "a", test: 1 });
    expect(res.body.errors).toEqual([{ code: "bad_request", message: "bad 'test' parameter" }]);
    expect((await api.post("/companies", { company_id: "a", custom_attributes: { tier: "gold" } })).status).toBe(400);
    await api.post("/data_attributes", { name: "tier", model: "company", data_type: "string" });
    expect((await api.post("/companies", { company_id: "a", custom_attributes: { tier: 3 } })).status).toBe(400);
    expect(
      (await api.post("/companies", { company_id: "a", custom_attributes: { tier: "gold" } })).body.custom_attributes,
    ).toEqual({ tier: "gold" });
    expect((await api.post("/companies", { name: "no id" })).status).toBe(400);
  });

  it("finds by company_id in a list wrapper, by Intercom id, and answers 404 company_not_found", async () => {
    const { api } = setup();
    const created = (await api.post("/companies", { company_id: "acme", name: "Acme" })).body;
    const found = await api.get("/companies?company_id=acme");
    expect(found.body).toMatchObject({
      type: "list",
      data: [created],
      total_count: 1,
      pages: { type: "pages", page: 1, total_pages: 1 },
    });
    expect((await api.get(`/companies/${created.id}`)).body).toEqual(created);
    for (const res of [await api.get("/companies?company_id=nope"), await api.get("/companies/nope")]) {
      expect(res.status).toBe(404);
      expect(res.body.errors).toEqual([{ code: "company_not_found", message: "Company Not Found" }]);
    }
  });

  it("updates by Intercom id with PUT, which cannot change company_id", async () => {
    const { api } = setup();
    const { id } = (await api.post("/companies", { company_id: "acme" })).body;
    expect((await api.put(`/companies/${id}`, { name: "Acme Inc", industry: "Rockets" })).body).toMatchObject({
      name: "Acme Inc",
      industry: "Rockets",
    });
    expect((await api.put(`/companies/${id}`, { company_id: "other" })).status).toBe(400);
    expect((await api.put("/companies/nope", { name: "x" })).status).toBe(404);
  });
});

describe("scrolling over companies", () => {
  it("pages 50 at a time with a scroll_param, ends on an empty page, and expires the parameter", async () => {
    const { api, clock } = setup();
    for (let i = 0; i < 120; i++) await api.post("/companies", { company_id: `c${i}` });
    const seen: string[] = [];
    let page = await api.get("/companies/scroll");
    expect(page.body).toMatchObject({ type: "list", pages: null, total_count: 120, scroll_param: expect.any(String) });
    while (page.body.data.length > 0) {
      seen.push(...page.body.data.map((company: { company_id: string }) => company.company_id));
      page = await api.get(`/companies/scroll?scroll_param=${page.body.scroll_param}`);
    }
    expect(seen).toHaveLength(120);
    expect(new Set(seen).size).toBe(120);
    expect((await api.get(`/companies/scroll?scroll_param=${page.body.scroll_param}`)).status).toBe(404);

    const fresh = await api.get("/companies/scroll");
    clock.advance(61_000);
    expect((await api.get(`/companies/scroll?scroll_param=${fresh.body.scroll_param}`)).status).toBe(404);
  });

  it("allows one open scroll per app: another one is a 400 until the first ends or expires", async () => {
    const { api, clock } = setup();
    for (let i = 0; i < 60; i++) await api.post("/companies", { company_id: `c${i}` });
    const first = await api.get("/companies/scroll");
    expect(first.body.data).toHaveLength(50);
    const second = await api.get("/companies/scroll");
    expect(second.status).toBe(400);
    expect(second.body.errors).toEqual([{ code: "bad_request", message: "scroll already exists for this app" }]);
    clock.advance(59_000);
    expect((await api.get("/companies/scroll")).status).toBe(400);
    // Using the scroll keeps it open; reading to the end (an empty page) closes it.
    let page = await api.get(`/companies/scroll?scroll_param=${first.body.scroll_param}`);
    expect(page.body.data).toHaveLength(10);
    page = await api.get(`/companies/scroll?scroll_param=${first.body.scroll_param}`);
    expect(page.body.data).toEqual([]);
    const third = await api.get("/companies/scroll");
    expect(third.status).toBe(200);
    // An abandoned scroll expires after a minute unused, and a new one may start.
    clock.advance(60_001);
    expect((await api.get("/companies/scroll")).status).toBe(200);
  });
});

describe("attaching contacts to companies", () => {
  it("attaches, lists, counts users, and detaches", async () => {
    const { api } = setup();
    const contact = (await api.post("/contacts", { external_id: "u-1" })).body;
    const company = (await api.post("/companies", { company_id: "acme" })).body;
    const attached = await api.post(`/contacts/${contact.id}/companies`, { id: company.id });
    expect(attached.status).toBe(200);
    expect(attached.body).toMatchObject({ type: "company", id: company.id, user_count: 1 });
    // Attaching twice is harmless.
    expect((await api.post(`/contacts/${contact.id}/companies`, { id: company.id })).body.user_count).toBe(1);
    const list = await api.get(`/contacts/${contact.id}/companies`);
    expect(list.body).toMatchObject({ type: "list", total_count: 1, data: [{ id: company.id }] });
    expect((await api.get(`/contacts/${contact.id}`)).body.companies).toMatchObject({
      total_count: 1,
      data: [{ type: "company", id: company.id, url: `/companies/${company.id}` }],
    });
    const detached = await api.delete(`/contacts/${contact.id}/companies/${company.id}`);
    expect(detached.body).toMatchObject({ id: company.id, user_count: 0 });
    expect((await api.get(`/contacts/${contact.id}/companies`)).body.total_count).toBe(0);
    // Detaching what is not attached: the simulator's 404 company_not_found.
    expect((await api.delete(`/contacts/${contact.id}/companies/${company.id}`)).status).toBe(404);
  });

  it("answers Intercom's errors for a missing id, an unknown company and an unknown contact", async () => {
    const { api } = setup();
    const contact = (await api.post("/contacts", { external_id: "u-1" })).body;
    const company = (await api.post("/companies", { company_id: "acme" })).body;
    const missing = await api.post(`/contacts/${contact.id}/companies`, {});
    expect(missing.status).toBe(400);
    expect(missing.body.errors).toEqual([{ code: "parameter_not_found", message: "company not specified" }]);
    const unknownCompany = await api.post(`/contacts/${contact.id}/companies`, { id: "123" });
    expect(unknownCompany.status).toBe(404);
    expect(unknownCompany.body.errors[0].code).toBe("company_not_found");
    const unknownContact = await api.post("/contacts/nope/companies", { id: company.id });
    expect(unknownContact.status).toBe(404);
    expect(unknownContact.body.errors[0]).toEqual({ code: "not_found", message: "User Not Found" });
  });
});
