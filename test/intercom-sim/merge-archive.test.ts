import { describe, expect, it } from "vitest";
import { setup } from "./support";

const USER_NOT_FOUND = [{ code: "not_found", message: "User Not Found" }];

/** A lead and a user sharing an email, a tag, a company and an event on the lead. */
async function leadAndUser() {
  const ctx = setup({ config: { search_lag_ms: 0 } });
  const { api } = ctx;
  await api.post("/data_attributes", { name: "source", model: "contact", data_type: "string" });
  await api.post("/data_attributes", { name: "plan", model: "contact", data_type: "string" });
  const lead = (
    await api.post("/contacts", {
      role: "lead",
      email: "Ada@example.com",
      name: "Ada (lead)",
      phone: "+44 20 7946 0001",
      custom_attributes: { source: "chat", plan: "lead-plan" },
    })
  ).body;
  const user = (
    await api.post("/contacts", { external_id: "u-1", email: "ada@example.com", custom_attributes: { plan: "pro" } })
  ).body;
  const tag = (await api.post("/tags", { name: "Chatted" })).body;
  await api.post(`/contacts/${lead.id}/tags`, { id: tag.id });
  const company = (await api.post("/companies", { company_id: "acme" })).body;
  await api.post(`/contacts/${lead.id}/companies`, { id: company.id });
  await api.post("/events", { id: lead.id, event_name: "asked", created_at: 1_768_000_000 });
  ctx.sim.takeWebhooks();
  return { ...ctx, lead, user, tag, company };
}

describe("POST /contacts/merge", () => {
  it("merges a lead into a user: the survivor keeps its values, gains what it lacked, and takes tags, companies and events", async () => {
    const { api, sim, ws, clock, lead, user, tag, company } = await leadAndUser();
    clock.advance(5_000);
    const res = await api.post("/contacts/merge", { from: lead.id, into: user.id });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      type: "contact",
      id: user.id,
      role: "user",
      external_id: "u-1",
      email: "ada@example.com",
      name: "Ada (lead)",
      phone: "+44 20 7946 0001",
      custom_attributes: { source: "chat", plan: "pro" },
      updated_at: user.updated_at + 5,
      tags: { total_count: 1, data: [{ id: tag.id }] },
      companies: { total_count: 1, data: [{ id: company.id }] },
    });
    expect(sim.state(ws.app_id).events.map((e) => e.contact_id)).toEqual([user.id]);
    expect(sim.state(ws.app_id).merged).toEqual([{ from: lead.id, into: user.id }]);
    const search = await api.post("/contacts/search", {
      query: { field: "email", operator: "=", value: "ada@example.com" },
    });
    expect(search.body.data.map((c: { id: string }) => c.id)).toEqual([user.id]);
  });

  it("sends contact.merged with the survivor and no merged_from", async () => {
    const { api, sim, lead, user } = await leadAndUser();
    await api.post("/contacts/merge", { from: lead.id, into: user.id });
    const notifications = sim.pendingWebhooks();
    expect(notifications.map((n) => n.topic)).toEqual(["contact.merged"]);
    expect(notifications[0]!.data.item).toMatchObject({ type: "contact", id: user.id, role: "user" });
    expect(notifications[0]!.data.item).not.toHaveProperty("merged_from");
  });

  it("merges only a lead into a user, and since 2.16 only duplicates unless skip_duplicate_validation", async () => {
    const { api, lead, user } = await leadAndUser();
    const other = (await api.post("/contacts", { external_id: "u-2", email: "grace@example.com" })).body;
    const stranger = (await api.post("/contacts", { role: "lead", email: "alan@example.com" })).body;
    for (const body of [
      { from: user.id, into: other.id },
      { from: lead.id, into: stranger.id },
      { from: user.id, into: lead.id },
      { from: lead.id, into: lead.id },
    ]) {
      const res = await api.post("/contacts/merge", body);
      expect(res.status).toBe(400);
      expect(res.body.errors[0].code).toBe("invalid_merge");
    }
    const notDuplicates = await api.post("/contacts/merge", { from: stranger.id, into: user.id });
    expect(notDuplicates.status).toBe(400);
    expect(notDuplicates.body.errors).toEqual([
      {
        code: "invalid_merge",
        message:
          "Contacts can only be merged when they are duplicates (matching email or phone). Pass skip_duplicate_validation=true to override this check.",
      },
    ]);
    const phoneTwin = (await api.post("/contacts", { role: "lead", phone: "+442079460001" })).body;
    const withPhone = (await api.post("/contacts", { external_id: "u-3", phone: "+44 20 7946 0001" })).body;
    expect((await api.post("/contacts/merge", { from: phoneTwin.id, into: withPhone.id })).status).toBe(200);
    const skipped = await api.post("/contacts/merge", {
      from: stranger.id,
      into: user.id,
      skip_duplicate_validation: true,
    });
    expect(skipped.status).toBe(200);
  });

  it("answers 404 User Not Found for an unknown contact and 400 without from or into", async () => {
    const { api, lead } = await leadAndUser();
    const unknown = await api.post("/contacts/merge", { from: lead.id, into: "000000000000000000000000" });
    expect(unknown.status).toBe(404);
    expect(unknown.body.errors).toEqual(USER_NOT_FOUND);
    expect((await api.post("/contacts/merge", { from: lead.id })).status).toBe(400);
    expect((await api.post("/contacts/merge", { from: lead.id, into: "x", extra: 1 })).status).toBe(400);
  });
});

describe("a merged-away contact", () => {
  it("answers 410 with a Link on GET, resolving chains up to 3 hops", async () => {
    const { api, sim, ws } = setup();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await api.post("/contacts", { external_id: `c${i}` })).body.id);
    // Merges made in Intercom (sim.emit does not check roles), each survivor later merged again: c0 → c1 → … → c4.
    for (let i = 0; i < 4; i++)
      sim.emit({ app_id: ws.app_id, topic: "contact.merged", contact_id: ids[i + 1], from_contact_id: ids[i] });
    const link = async (id: string) => {
      const res = await api.get(`/contacts/${id}`);
      expect(res.status).toBe(410);
      expect(res.body.errors).toEqual([
        {
          code: "contact_merged",
          message: "This contact has been merged. See the 'Link' header for the canonical contact.",
        },
      ]);
      return res.headers.get("Link");
    };
    expect(await link(ids[3]!)).toBe(`</contacts/${ids[4]}>; rel="canonical"`);
    expect(await link(ids[2]!)).toBe(`</contacts/${ids[4]}>; rel="canonical"`);
    expect(await link(ids[1]!)).toBe(`</contacts/${ids[4]}>; rel="canonical"`);
    expect(await link(ids[0]!)).toBe(`</contacts/${ids[3]}>; rel="canonical"`);
  });

  it("answers 404 User Not Found on every other contact route", async () => {
    const { api, lead, user, tag, company } = await leadAndUser();
    await api.post("/contacts/merge", { from: lead.id, into: user.id });
    const calls = [
      api.put(`/contacts/${lead.id}`, { name: "x" }),
      api.post(`/contacts/${lead.id}/companies`, { id: company.id }),
      api.delete(`/contacts/${lead.id}/companies/${company.id}`),
      api.get(`/contacts/${lead.id}/companies`),
      api.post(`/contacts/${lead.id}/tags`, { id: tag.id }),
      api.delete(`/contacts/${lead.id}/tags/${tag.id}`),
      api.get(`/contacts/${lead.id}/tags`),
      api.post("/events", { id: lead.id, event_name: "late", created_at: 1_768_000_001 }),
      api.post(`/contacts/${lead.id}/archive`),
      api.post(`/contacts/${lead.id}/unarchive`),
      api.post("/contacts/merge", { from: lead.id, into: user.id }),
      api.delete(`/contacts/${lead.id}`),
    ];
    for (const res of await Promise.all(calls)) {
      expect(res.status).toBe(404);
      expect(res.body.errors).toEqual(USER_NOT_FOUND);
    }
    expect((await api.get(`/contacts/${lead.id}`)).status).toBe(410);
  });
});

describe("archive and unarchive", () => {
  it("an archived contact blocks creates with its external_id or email (archived wording), until unarchived", async () => {
    const { api, sim } = setup({ config: { search_lag_ms: 0 } });
    const user = (await api.post("/contacts", { external_id: "u-1", email: "a@example.com" })).body;
    const bare = (await api.post("/contacts", { email: "bare@example.com" })).body;
    sim.takeWebhooks();
    expect((await api.post(`/contacts/${user.id}/archive`)).body).toEqual({
      id: user.id,
      external_id: "u-1",
      type: "contact",
      archived: true,
    });
    await api.post(`/contacts/${bare.id}/archive`);
    for (const [body, id] of [
      [{ external_id: "u-1" }, user.id],
      [{ email: "bare@example.com" }, bare.id],
      [{ email: "BARE@example.com", external_id: "u-9" }, bare.id],
    ] as const) {
      const res = await api.post("/contacts", body);
      expect(res.status).toBe(409);
      expect(res.body.errors).toEqual([
        { code: "conflict", message: `An archived contact matching those details already exists with id=${id}` },
      ]);
    }
    const query = { field: "external_id", operator: "=", value: "u-1" };
    expect((await api.post("/contacts/search", { query })).body.total_count).toBe(0);
    expect((await api.post(`/contacts/${user.id}/unarchive`)).body.archived).toBe(false);
    expect((await api.get(`/contacts/${user.id}`)).status).toBe(200);
    expect((await api.post("/contacts/search", { query })).body.total_count).toBe(1);
    expect((await api.post("/contacts", { external_id: "u-1" })).body.errors[0].message).toBe(
      `A contact matching those details already exists with id=${user.id}`,
    );
    expect(sim.pendingWebhooks().map((n) => n.topic)).toEqual([
      "contact.archived",
      "contact.archived",
      "contact.unarchive",
    ]);
  });

  it("deletes with a minimal contact.deleted", async () => {
    const { api, sim } = setup();
    const { id } = (await api.post("/contacts", { external_id: "u-1" })).body;
    sim.takeWebhooks();
    expect((await api.delete(`/contacts/${id}`)).body).toEqual({
      id,
      external_id: "u-1",
      type: "contact",
      deleted: true,
    });
    expect(sim.pendingWebhooks().map((n) => [n.topic, n.data.item])).toEqual([
      ["contact.deleted", { id, external_id: "u-1", type: "contact", deleted: true }],
    ]);
  });
});
