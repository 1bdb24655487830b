import { describe, expect, it } from "vitest";
import { setup } from "./support";

describe("tags", () => {
  it("creates a tag or returns the existing one, ignoring case", async () => {
    const { api } = setup();
    const created = await api.post("/tags", { name: "VIP" });
    expect(created.body).toEqual({ type: "tag", id: expect.stringMatching(/^\d+$/), name: "VIP" });
    expect((await api.post("/tags", { name: "vip" })).body).toEqual(created.body);
    await api.post("/tags", { name: "Churn risk" });
    expect((await api.get("/tags")).body).toEqual({
      type: "list",
      data: [created.body, expect.objectContaining({ name: "Churn risk" })],
    });
    expect((await api.post("/tags", {})).status).toBe(400);
  });

  it("tags and untags a contact", async () => {
    const { api, clock, sim, ws } = setup();
    const contact = (await api.post("/contacts", { external_id: "u-1" })).body;
    const tag = (await api.post("/tags", { name: "VIP" })).body;
    const applied = await api.post(`/contacts/${contact.id}/tags`, { id: tag.id });
    const adminId = (await api.get("/me")).body.id;
    expect(applied.body).toEqual({
      type: "tag",
      id: tag.id,
      name: "VIP",
      applied_at: Math.floor(clock.now() / 1000),
      applied_by: { type: "admin", id: adminId },
    });
    expect((await api.get(`/contacts/${contact.id}`)).body.tags).toMatchObject({
      total_count: 1,
      data: [{ type: "tag", id: tag.id, url: `/tags/${tag.id}` }],
    });
    expect((await api.get(`/contacts/${contact.id}/tags`)).body).toEqual({ type: "list", data: [tag] });
    expect(sim.state(ws.app_id).taggings).toEqual([
      { contact_id: contact.id, tag_id: tag.id, applied_at: applied.body.applied_at },
    ]);

    const removed = await api.delete(`/contacts/${contact.id}/tags/${tag.id}`);
    expect(removed.body).toEqual(tag);
    expect((await api.get(`/contacts/${contact.id}`)).body.tags.total_count).toBe(0);
  });

  it("answers 404 Resource Not Found for an unknown tag or a tag not applied to the contact", async () => {
    const { api } = setup();
    const contact = (await api.post("/contacts", { external_id: "u-1" })).body;
    const tag = (await api.post("/tags", { name: "VIP" })).body;
    for (const res of [
      await api.post(`/contacts/${contact.id}/tags`, { id: "999" }),
      await api.delete(`/contacts/${contact.id}/tags/${tag.id}`),
      await api.delete(`/contacts/${contact.id}/tags/999`),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.errors).toEqual([{ code: "not_found", message: "Resource Not Found" }]);
    }
    expect((await api.post("/contacts/nope/tags", { id: tag.id })).body.errors[0].message).toBe("User Not Found");
  });
});

describe("data events", () => {
  it("answers 202 with an empty body and stores the event", async () => {
    const { api, sim, ws } = setup();
    const contact = (await api.post("/contacts", { external_id: "u-1", email: "a@example.com" })).body;
    const res = await api.post("/events", {
      event_name: "invited-friend",
      created_at: 1_768_000_000,
      user_id: "u-1",
      metadata: { plan: "pro" },
    });
    expect(res.status).toBe(202);
    expect(res.text).toBe("");
    expect(sim.state(ws.app_id).events).toEqual([
      {
        id: expect.any(String),
        contact_id: contact.id,
        event_name: "invited-friend",
        created_at: 1_768_000_000,
        metadata: { plan: "pro" },
      },
    ]);
  });

  it("identifies the contact by id, user_id or email", async () => {
    const { api, sim, ws } = setup();
    const contact = (await api.post("/contacts", { external_id: "u-1", email: "a@example.com" })).body;
    await api.post("/events", { event_name: "a", created_at: 1, id: contact.id });
    await api.post("/events", { event_name: "b", created_at: 1, user_id: "u-1" });
    await api.post("/events", { event_name: "c", created_at: 1, email: "A@example.com" });
    expect(sim.state(ws.app_id).events.map((e) => [e.event_name, e.contact_id])).toEqual([
      ["a", contact.id],
      ["b", contact.id],
      ["c", contact.id],
    ]);
  });

  it("keeps only the first 10 metadata keys, silently", async () => {
    const { api, sim, ws } = setup();
    await api.post("/contacts", { external_id: "u-1" });
    const metadata = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, i]));
    expect((await api.post("/events", { event_name: "e", created_at: 1, user_id: "u-1", metadata })).status).toBe(202);
    expect(Object.keys(sim.state(ws.app_id).events[0]!.metadata)).toEqual([
      "k0",
      "k1",
      "k2",
      "k3",
      "k4",
      "k5",
      "k6",
      "k7",
      "k8",
      "k9",
    ]);
  });

  it("de-duplicates on (contact, event_name, created_at): still 202, nothing new stored", async () => {
    const { api, sim, ws } = setup();
    await api.post("/contacts", { external_id: "u-1" });
    const event = { event_name: "e", created_at: 100, user_id: "u-1" };
    expect((await api.post("/events", event)).status).toBe(202);
    expect((await api.post("/events", { ...event, metadata: { different: true } })).status).toBe(202);
    expect(sim.state(ws.app_id).events).toHaveLength(1);
    await api.post("/events", { ...event, created_at: 101 });
    expect(sim.state(ws.app_id).events).toHaveLength(2);
  });

  it("answers 404 User Not Found for an unknown contact (leads are not found by user_id) and 400 without name or time", async () => {
    const { api } = setup();
    const lead = (await api.post("/contacts", { role: "lead", email: "lead@example.com" })).body;
    for (const body of [
      { event_name: "e", created_at: 1, user_id: "nobody" },
      { event_name: "e", created_at: 1, email: "nobody@example.com" },
      { event_name: "e", created_at: 1, id: "000000000000000000000000" },
      { event_name: "e", created_at: 1, user_id: lead.external_id },
    ]) {
      const res = await api.post("/events", body);
      expect(res.status).toBe(404);
      expect(res.body.errors).toEqual([{ code: "not_found", message: "User Not Found" }]);
    }
    expect((await api.post("/events", { event_name: "e", created_at: 1, id: lead.id })).status).toBe(202);
    expect((await api.post("/events", { created_at: 1, id: lead.id })).status).toBe(400);
    expect((await api.post("/events", { event_name: "e", id: lead.id })).status).toBe(400);
    expect((await api.post("/events", { event_name: "e", created_at: 1_768_000_000.5, id: lead.id })).status).toBe(400);
  });
});
