import { describe, expect, it } from "vitest";
import { setup } from "./support";

const DAY = 86_400;

describe("conversation search", () => {
  it("finds emitted conversations by created_at (by day), newest first, in pages", async () => {
    const { api, clock, sim, ws } = setup();
    const contact = (await api.post("/contacts", { external_id: "u-1", email: "u1@example.com" })).body;
    const now = Math.floor(clock.now() / 1000);
    const ids = [now - 40 * DAY, now - 10 * DAY, now - DAY, now].map(
      (createdAt) =>
        (
          sim.emit({
            app_id: ws.app_id,
            topic: "conversation.user.created",
            contact_id: contact.id,
            created_at: createdAt,
          })!.data.item as { id: string }
        ).id,
    );
    const search = (after: number, pagination?: unknown) =>
      api.post("/conversations/search", {
        query: { field: "created_at", operator: ">", value: after },
        ...(pagination ? { pagination } : {}),
      });
    const first = await search(now - 30 * DAY, { per_page: 2 });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ type: "conversation.list", total_count: 3 });
    expect(first.body.conversations.map((c: any) => c.id)).toEqual([ids[3], ids[2]]);
    expect(first.body.conversations[0]).toMatchObject({
      type: "conversation",
      created_at: now,
      source: { delivered_as: "customer_initiated", author: { type: "user", id: contact.id } },
      contacts: { type: "contact.list", contacts: [{ type: "contact", id: contact.id, external_id: "u-1" }] },
    });
    const second = await search(now - 30 * DAY, { per_page: 2, starting_after: first.body.pages.next.starting_after });
    expect(second.body.conversations.map((c: any) => c.id)).toEqual([ids[1]]);
    expect(second.body.pages.next).toBeUndefined();
    // Dates match by day: a bound later on the same day as a conversation leaves it out.
    expect((await search(now - 10 * DAY - 60)).body.total_count).toBe(2);
    expect(sim.state(ws.app_id).conversations).toHaveLength(4);
    expect(
      (await api.post("/conversations/search", { query: { field: "nope", operator: "=", value: 1 } })).status,
    ).toBe(400);
    expect(
      (await api.post("/conversations/search", { query: { field: "id", operator: "=", value: "1" }, sort: {} })).status,
    ).toBe(400);
  });
});

describe("data events list", () => {
  it("lists a contact's events of the last 90 days, newest first, with pages.next going further back", async () => {
    const { api, clock } = setup();
    const contact = (await api.post("/contacts", { external_id: "u-1" })).body;
    const now = Math.floor(clock.now() / 1000);
    for (const [name, age] of [
      ["a", 3],
      ["b", 2],
      ["c", 1],
      ["old", 100],
    ] as const) {
      expect(
        (await api.post("/events", { event_name: name, created_at: now - age * DAY, id: contact.id })).status,
      ).toBe(202);
    }
    const first = await api.get(`/events?type=user&intercom_user_id=${contact.id}&per_page=2`);
    expect(first.status).toBe(200);
    expect(first.body.type).toBe("event.list");
    expect(first.body.events.map((e: any) => e.event_name)).toEqual(["c", "b"]);
    expect(first.body.events[0]).toMatchObject({ type: "event", intercom_user_id: contact.id, user_id: "u-1" });
    const next = new URL(first.body.pages.next);
    expect(next.searchParams.get("before")).toBe(String((now - 2 * DAY) * 1000));
    const second = await api.get(`/events${next.search}`);
    expect(second.body.events.map((e: any) => e.event_name)).toEqual(["a"]);
    expect(second.body.pages).toEqual({});
    expect((await api.get("/events?type=user&user_id=u-1")).body.events).toHaveLength(3);
    expect((await api.get("/events?type=user&intercom_user_id=nope")).status).toBe(404);
    expect((await api.get(`/events?intercom_user_id=${contact.id}`)).status).toBe(400);
  });
});
