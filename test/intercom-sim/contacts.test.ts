import { describe, expect, it } from "vitest";
import { setup } from "./support";

/** A workspace with a few custom contact attributes defined. */
async function withAttributes() {
  const ctx = setup();
  for (const [name, data_type] of [
    ["plan_name", "string"],
    ["seats", "integer"],
    ["health", "float"],
    ["vip", "boolean"],
    ["trial_ends_at", "date"],
    ["renewal", "datetime"],
  ]) {
    expect((await ctx.api.post("/data_attributes", { name, model: "contact", data_type })).status).toBe(200);
  }
  return ctx;
}

describe("create, read, update", () => {
  it("creates a user with Intercom's Contact shape", async () => {
    const { api, clock } = setup();
    const res = await api.post("/contacts", {
      external_id: "u-1",
      email: "Ada@Example.com",
      name: "Ada",
      phone: "+441234",
      signed_up_at: 1_700_000_000,
    });
    expect(res.status).toBe(200);
    const now = Math.floor(clock.now() / 1000);
    expect(res.body).toMatchObject({
      type: "contact",
      id: expect.stringMatching(/^[0-9a-f]{24}$/),
      workspace_id: "app_us",
      external_id: "u-1",
      role: "user",
      email: "Ada@Example.com",
      email_domain: "example.com",
      phone: "+441234",
      name: "Ada",
      created_at: now,
      updated_at: now,
      signed_up_at: 1_700_000_000,
      last_seen_at: null,
      custom_attributes: {},
      location: { type: "location" },
      tags: { type: "list", data: [], url: `/contacts/${res.body.id}/tags`, total_count: 0, has_more: false },
      companies: { type: "list", data: [], total_count: 0, has_more: false },
      notes: { type: "list", data: [], total_count: 0, has_more: false },
    });
    expect((await api.get(`/contacts/${res.body.id}`)).body).toEqual(res.body);
  });

  it("gives a lead an Intercom-generated UUID external_id", async () => {
    const { api } = setup();
    const res = await api.post("/contacts", { role: "lead", email: "lead@example.com" });
    expect(res.body.role).toBe("lead");
    expect(res.body.external_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it("updates only the fields sent and moves updated_at only when something changed", async () => {
    const { api, clock } = setup();
    const created = (await api.post("/contacts", { external_id: "u-1", email: "a@example.com", name: "A" })).body;
    clock.advance(60_000);
    const same = await api.put(`/contacts/${created.id}`, { name: "A", email: "a@example.com" });
    expect(same.body.updated_at).toBe(created.updated_at);
    clock.advance(60_000);
    const changed = await api.put(`/contacts/${created.id}`, { name: "B" });
    expect(changed.body).toMatchObject({
      name: "B",
      email: "a@example.com",
      external_id: "u-1",
      updated_at: created.updated_at + 120,
    });
  });

  it("finds users by external_id, never leads", async () => {
    const { api } = setup();
    const user = (await api.post("/contacts", { external_id: "u-1" })).body;
    const lead = (await api.post("/contacts", { role: "lead", external_id: "l-1" })).body;
    expect((await api.get("/contacts/find_by_external_id/u-1")).body.id).toBe(user.id);
    const missing = await api.get(`/contacts/find_by_external_id/${lead.external_id}`);
    expect(missing.status).toBe(404);
  });

  it("answers 404 User Not Found for an unknown id", async () => {
    const { api } = setup();
    for (const res of [
      await api.get("/contacts/000000000000000000000000"),
      await api.put("/contacts/nope", { name: "x" }),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.errors).toEqual([{ code: "not_found", message: "User Not Found" }]);
    }
  });

  it("rejects unknown top-level keys and badly typed fields with 400", async () => {
    const { api } = setup();
    const unknown = await api.post("/contacts", { email: "a@example.com", favourite_colour: "blue" });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual([{ code: "bad_request", message: "bad 'favourite_colour' parameter" }]);
    expect((await api.post("/contacts", { email: "a@example.com", signed_up_at: "yesterday" })).status).toBe(400);
    expect((await api.post("/contacts", { role: "admin", email: "a@example.com" })).status).toBe(400);
    expect((await api.post("/contacts", { name: "No identity" })).status).toBe(400);
    const badJson = await api.post("/contacts", "{not json");
    expect(badJson.status).toBe(400);
    expect(badJson.body.errors[0].code).toBe("parameter_invalid");
  });

  it("archives, unarchives and deletes", async () => {
    const { api } = setup();
    const { id } = (await api.post("/contacts", { external_id: "u-1" })).body;
    expect((await api.post(`/contacts/${id}/archive`)).body).toEqual({
      id,
      external_id: "u-1",
      type: "contact",
      archived: true,
    });
    // The simulator's choice: archived contacts are reached again only through unarchive.
    expect((await api.get(`/contacts/${id}`)).status).toBe(404);
    expect((await api.post(`/contacts/${id}/unarchive`)).body).toEqual({
      id,
      external_id: "u-1",
      type: "contact",
      archived: false,
    });
    expect((await api.get(`/contacts/${id}`)).status).toBe(200);
    expect((await api.delete(`/contacts/${id}`)).body).toEqual({
      id,
      external_id: "u-1",
      type: "contact",
      deleted: true,
    });
    expect((await api.get(`/contacts/${id}`)).status).toBe(404);
    expect((await api.post("/contacts", { external_id: "u-1" })).status).toBe(200);
  });
});

describe("409 on duplicates", () => {
  it("rejects a second contact with the same external_id, naming the existing id", async () => {
    const { api } = setup();
    const first = (await api.post("/contacts", { external_id: "u-1", email: "a@example.com" })).body;
    const res = await api.post("/contacts", { external_id: "u-1", email: "other@example.com" });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      type: "error.list",
      errors: [{ code: "conflict", message: `A contact matching those details already exists with id=${first.id}` }],
    });
    expect(/id=(\w+)/.exec(res.body.errors[0].message)?.[1]).toBe(first.id);
  });

  it("rejects a same-email contact when either side has no external_id, but lets two users with different ids share one", async () => {
    const { api } = setup();
    const withId = (await api.post("/contacts", { external_id: "u-1", email: "shared@example.com" })).body;
    expect((await api.post("/contacts", { external_id: "u-2", email: "SHARED@example.com" })).status).toBe(200);
    const noId = await api.post("/contacts", { email: "shared@example.com" });
    expect(noId.status).toBe(409);
    expect(noId.body.errors[0].message).toBe(`A contact matching those details already exists with id=${withId.id}`);

    const bare = (await api.post("/contacts", { email: "bare@example.com" })).body;
    const res = await api.post("/contacts", { external_id: "u-3", email: "bare@example.com" });
    expect(res.status).toBe(409);
    expect(res.body.errors[0].message).toContain(`id=${bare.id}`);
  });

  it("lets leads share an email with leads and users alike; users clash on email only with users", async () => {
    const { api } = setup();
    const bareUser = (await api.post("/contacts", { email: "shared@example.com" })).body;
    const lead = await api.post("/contacts", { role: "lead", email: "shared@example.com" });
    expect(lead.status).toBe(200);
    expect((await api.post("/contacts", { role: "lead", email: "SHARED@example.com" })).status).toBe(200);
    const again = await api.post("/contacts", { email: "shared@example.com" });
    expect(again.status).toBe(409);
    expect(again.body.errors[0].message).toBe(`A contact matching those details already exists with id=${bareUser.id}`);

    expect((await api.post("/contacts", { role: "lead", email: "lead-first@example.com" })).status).toBe(200);
    const userAfterLead = await api.post("/contacts", { email: "lead-first@example.com" });
    expect(userAfterLead.status).toBe(200);
    expect(userAfterLead.body.role).toBe("user");
    expect((await api.post("/contacts", { external_id: "u-7", email: "lead-first@example.com" })).status).toBe(409);
    // A lead's external_id (its generated UUID) is still unique.
    const taken = await api.post("/contacts", { role: "lead", external_id: lead.body.external_id });
    expect(taken.status).toBe(409);
    expect(taken.body.errors[0].message).toContain(`id=${lead.body.id}`);
  });

  it("uses the archived wording when the duplicate is archived", async () => {
    const { api } = setup();
    const { id } = (await api.post("/contacts", { external_id: "u-1" })).body;
    await api.post(`/contacts/${id}/archive`);
    const res = await api.post("/contacts", { external_id: "u-1" });
    expect(res.status).toBe(409);
    expect(res.body.errors).toEqual([
      { code: "conflict", message: `An archived contact matching those details already exists with id=${id}` },
    ]);
  });

  it("rejects an update that would duplicate another contact's external_id", async () => {
    const { api } = setup();
    const first = (await api.post("/contacts", { external_id: "u-1" })).body;
    const second = (await api.post("/contacts", { external_id: "u-2" })).body;
    const res = await api.put(`/contacts/${second.id}`, { external_id: "u-1" });
    expect(res.status).toBe(409);
    expect(res.body.errors[0].message).toContain(`id=${first.id}`);
    expect((await api.put(`/contacts/${first.id}`, { external_id: "u-1" })).status).toBe(200);
  });
});

describe("custom attributes", () => {
  it("writes defined attributes of every data type, and null clears", async () => {
    const { api } = await withAttributes();
    const values = {
      plan_name: "pro",
      seats: 3,
      health: 0.75,
      vip: true,
      trial_ends_at: 1_767_225_600,
      renewal: "2026-02-01T00:00:00Z",
    };
    const created = (await api.post("/contacts", { external_id: "u-1", custom_attributes: values })).body;
    expect(created.custom_attributes).toEqual({ ...values, renewal: 1_769_904_000 });
    const cleared = (await api.put(`/contacts/${created.id}`, { custom_attributes: { vip: null, seats: 4 } })).body;
    expect(cleared.custom_attributes).toEqual({
      plan_name: "pro",
      seats: 4,
      health: 0.75,
      trial_ends_at: 1_767_225_600,
      renewal: 1_769_904_000,
    });
  });

  it("answers 400 parameter_invalid for an attribute that is not defined", async () => {
    const { api } = await withAttributes();
    const res = await api.post("/contacts", { external_id: "u-1", custom_attributes: { shoe_size: 42 } });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].code).toBe("parameter_invalid");
    expect(res.body.errors[0].message).toContain("shoe_size");
  });

  it.each([
    ["plan_name", 5],
    ["seats", 2.5],
    ["seats", "3"],
    ["health", "0.5"],
    ["vip", "true"],
    ["trial_ends_at", "2026-01-01"],
    ["renewal", "not a date"],
    ["plan_name", { nested: true }],
    ["plan_name", ["a"]],
    ["plan_name", "x".repeat(256)],
  ])("answers 400 for %s = %j", async (name, value) => {
    const { api } = await withAttributes();
    const res = await api.post("/contacts", { external_id: "u-1", custom_attributes: { [name]: value } });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatchObject({ code: "parameter_invalid", message: expect.stringContaining(name) });
  });

  it("changes nothing (not even updated_at) when a write is rejected", async () => {
    const { api, clock } = await withAttributes();
    const created = (await api.post("/contacts", { external_id: "u-1", name: "A" })).body;
    clock.advance(5_000);
    expect((await api.put(`/contacts/${created.id}`, { name: "B", custom_attributes: { seats: "many" } })).status).toBe(
      400,
    );
    expect((await api.get(`/contacts/${created.id}`)).body).toEqual(created);
  });
});
