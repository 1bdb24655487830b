import { describe, expect, it } from "vitest";
import { isoTimestamp } from "./payloads";
import type { NotificationEnvelope } from "./simulator";
import { START_MS, send, setup } from "./support";

interface Received {
  url: string;
  headers: Headers;
  raw: Uint8Array;
  body: NotificationEnvelope & { data: { item: any } };
}

/** A webhook receiver standing in for the connector: records the raw bytes and answers `status`. */
function receiver(status = 200) {
  const received: Received[] = [];
  const fetch = async (request: Request) => {
    const raw = new Uint8Array(await request.arrayBuffer());
    received.push({ url: request.url, headers: request.headers, raw, body: JSON.parse(new TextDecoder().decode(raw)) });
    return new Response("ok", { status });
  };
  return { received, fetch };
}

function withReceiver(status = 200, config = {}) {
  const hooks = receiver(status);
  return { ...setup({ fetch: hooks.fetch, config }), received: hooks.received };
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/;

async function hmacSha1Hex(secret: string, raw: Uint8Array): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-1" },
    false,
    ["sign"],
  );
  return [...new Uint8Array(await crypto.subtle.sign("HMAC", key, raw))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

const topics = (sim: ReturnType<typeof setup>["sim"]) => sim.pendingWebhooks().map((n) => n.topic);

describe("envelope and delivery", () => {
  it("delivers contact.user.created in Intercom's envelope, signed over the raw body", async () => {
    const { api, sim, received } = withReceiver();
    const contact = (await api.post("/contacts", { external_id: "u-1", email: "a@example.com" })).body;
    expect(await sim.deliverWebhooks()).toEqual([200]);
    expect(received).toHaveLength(1);
    const [delivery] = received;
    expect(delivery!.url).toBe("https://connector.test/webhooks/intercom");
    expect(delivery!.body).toEqual({
      type: "notification_event",
      app_id: "app_us",
      data: {
        type: "notification_event_data",
        item: expect.objectContaining({ type: "contact", id: contact.id, role: "user" }),
      },
      links: {},
      id: expect.stringMatching(/^notif_[0-9a-f-]{36}$/),
      topic: "contact.user.created",
      delivery_status: "pending",
      delivery_attempts: 1,
      delivered_at: 0,
      first_sent_at: START_MS / 1000,
      created_at: START_MS / 1000,
      self: null,
    });
    const headers = Object.fromEntries(delivery!.headers);
    expect(headers).toMatchObject({
      "content-type": "application/json",
      accept: "application/json",
      "user-agent": "intercom-parrot-service-client/1.0",
      "x-hub-signature": `sha1=${await hmacSha1Hex("sim-client-secret", delivery!.raw)}`,
    });
    expect(headers["x-hub-signature"]).toMatch(/^sha1=[0-9a-f]{40}$/);
    expect(sim.pendingWebhooks()).toEqual([]);
  });

  it("puts ISO-8601 created_at/updated_at on contact items while REST keeps Unix seconds", async () => {
    const { api, sim } = withReceiver();
    const rest = (await api.post("/contacts", { external_id: "u-1", signed_up_at: 1_700_000_000 })).body;
    const item = sim.pendingWebhooks()[0]!.data.item as Record<string, unknown>;
    expect(item.created_at).toMatch(ISO);
    expect(item.created_at).toBe(isoTimestamp(START_MS));
    expect(item.updated_at).toBe("2026-01-10T12:00:00.000+00:00");
    expect(item.signed_up_at).toBe(1_700_000_000);
    expect(item).toMatchObject({
      sms_consent: false,
      unsubscribed_from_sms: false,
      formatted_phone: null,
      workspace_id: "app_us",
    });
    expect(rest.created_at).toBe(START_MS / 1000);
  });

  it("signs with the configured client secret", async () => {
    const { api, sim, received } = withReceiver(200, { client_secret: "rotated-secret" });
    await api.post("/contacts", { external_id: "u-1" });
    await sim.deliverWebhooks();
    expect(received[0]!.headers.get("x-hub-signature")).toBe(
      `sha1=${await hmacSha1Hex("rotated-secret", received[0]!.raw)}`,
    );
  });

  it("redelivers with the same id and delivery_attempts counting up", async () => {
    const { api, sim, received } = withReceiver(500);
    await api.post("/contacts", { external_id: "u-1" });
    const [notification] = sim.takeWebhooks();
    expect(sim.pendingWebhooks()).toEqual([]);
    expect(await sim.deliver(notification!)).toBe(500);
    expect(await sim.deliver(notification!)).toBe(500);
    expect(await sim.deliver(notification!, { attempt: 7 })).toBe(500);
    expect(received.map((r) => [r.body.id, r.body.delivery_attempts])).toEqual([
      [notification!.id, 1],
      [notification!.id, 2],
      [notification!.id, 7],
    ]);
    expect(sim.deliveries().map((d) => [d.delivery_attempts, d.status])).toEqual([
      [1, 500],
      [2, 500],
      [7, 500],
    ]);
  });

  it("delivers the outbox in creation order and records a failed POST as status 0", async () => {
    const { api, sim } = setup({ fetch: async () => Promise.reject(new TypeError("connection refused")) });
    await api.post("/contacts", { external_id: "u-1" });
    await api.post("/contacts", { external_id: "u-2" });
    expect(await sim.deliverWebhooks()).toEqual([0, 0]);
    expect(sim.deliveries()).toMatchObject([
      { status: 0, error: expect.stringContaining("connection refused") },
      { status: 0 },
    ]);
  });

  it("delivers by itself after each response in auto mode", async () => {
    const { api, received } = withReceiver(200, { webhook_delivery: "auto" });
    await api.post("/contacts", { external_id: "u-1" });
    for (let i = 0; i < 50 && received.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(received.map((r) => r.body.topic)).toEqual(["contact.user.created"]);
  });

  it("honours webhooks_enabled and the webhook_topics allow-list (ping always passes)", async () => {
    const { api, sim, ws } = withReceiver(200, { webhooks_enabled: false });
    await api.post("/contacts", { external_id: "u-1" });
    expect(sim.pendingWebhooks()).toEqual([]);
    sim.configure({ webhooks_enabled: true, webhook_topics: ["contact.user.updated"] });
    const { id } = (await api.post("/contacts", { external_id: "u-2" })).body;
    await api.put(`/contacts/${id}`, { name: "Named" });
    sim.emit({ app_id: ws.app_id, topic: "ping" });
    expect(topics(sim)).toEqual(["contact.user.updated", "ping"]);
  });
});

describe("topics and items", () => {
  it("names contact topics by role, and emits nothing for an update that changes nothing", async () => {
    const { api, sim } = withReceiver();
    const lead = (await api.post("/contacts", { role: "lead", email: "l@example.com" })).body;
    const user = (await api.post("/contacts", { external_id: "u-1" })).body;
    await api.put(`/contacts/${lead.id}`, { name: "Lead" });
    await api.put(`/contacts/${user.id}`, { name: "User" });
    await api.put(`/contacts/${user.id}`, { name: "User" });
    expect(topics(sim)).toEqual([
      "contact.lead.created",
      "contact.user.created",
      "contact.lead.updated",
      "contact.user.updated",
    ]);
  });

  it("emits company.created/updated with ISO times and tag_ids; attach/detach items have no type", async () => {
    const { api, sim } = withReceiver();
    const contact = (await api.post("/contacts", { external_id: "u-1" })).body;
    const company = (await api.post("/companies", { company_id: "acme", name: "Acme", plan: "Pro" })).body;
    await api.post("/companies", { company_id: "acme", name: "Acme Inc" });
    await api.post(`/contacts/${contact.id}/companies`, { id: company.id });
    await api.delete(`/contacts/${contact.id}/companies/${company.id}`);
    const [, created, updated, attached, detached] = sim.pendingWebhooks();
    expect([created, updated, attached, detached].map((n) => n!.topic)).toEqual([
      "company.created",
      "company.updated",
      "company.contact.attached",
      "company.contact.detached",
    ]);
    expect(created!.data.item).toMatchObject({
      type: "company",
      id: company.id,
      company_id: "acme",
      app_id: "app_us",
      plan: { type: "plan", name: "Pro" },
      created_at: expect.stringMatching(ISO),
      updated_at: expect.stringMatching(ISO),
      tag_ids: [],
    });
    const item = attached!.data.item as Record<string, any>;
    expect(Object.keys(item).sort()).toEqual(["company", "contact"]);
    expect(item.company).toMatchObject({
      id: company.id,
      plan_id: company.plan.id,
      tag_ids: [],
      user_count: 1,
      created_at: expect.stringMatching(ISO),
    });
    expect(item.contact).toMatchObject({ type: "contact", id: contact.id, created_at: expect.stringMatching(ISO) });
    expect((detached!.data.item as Record<string, any>).company.user_count).toBe(0);
  });

  it("emits contact tag topics with a contact_tag item", async () => {
    const { api, sim, clock } = withReceiver();
    const lead = (await api.post("/contacts", { role: "lead", email: "l@example.com" })).body;
    const tag = (await api.post("/tags", { name: "VIP" })).body;
    sim.takeWebhooks();
    await api.post(`/contacts/${lead.id}/tags`, { id: tag.id });
    await api.post(`/contacts/${lead.id}/tags`, { id: tag.id });
    await api.delete(`/contacts/${lead.id}/tags/${tag.id}`);
    const [applied, removed] = sim.pendingWebhooks();
    expect(topics(sim)).toEqual(["contact.lead.tag.created", "contact.lead.tag.deleted"]);
    expect(applied!.data.item).toEqual({
      type: "contact_tag",
      created_at: Math.floor(clock.now() / 1000),
      tag: { type: "tag", id: tag.id, name: "VIP" },
      contact: expect.objectContaining({ id: lead.id, tags: expect.objectContaining({ total_count: 1 }) }),
    });
    expect((removed!.data.item as { contact: { tags: { total_count: number } } }).contact.tags.total_count).toBe(0);
  });

  it("emits event.created with the recorded item shape, once per de-duplicated event", async () => {
    const { api, sim } = withReceiver();
    const contact = (await api.post("/contacts", { external_id: "u-1", email: "a@example.com" })).body;
    sim.takeWebhooks();
    const event = { event_name: "ordered", created_at: 1_768_000_000, user_id: "u-1", metadata: { total: 3 } };
    await api.post("/events", event);
    await api.post("/events", event);
    expect(sim.pendingWebhooks().map((n) => [n.topic, n.data.item])).toEqual([
      [
        "event.created",
        {
          type: "event",
          event_name: "ordered",
          id: expect.any(String),
          intercom_user_id: contact.id,
          user_id: "u-1",
          email: "a@example.com",
          metadata: { total: 3 },
          created_at: 1_768_000_000,
          ext_metadata: {},
        },
      ],
    ]);
  });

  it("emits contact.archived, contact.unarchive and a minimal contact.deleted", async () => {
    const { api, sim } = withReceiver();
    const { id } = (await api.post("/contacts", { external_id: "u-1" })).body;
    sim.takeWebhooks();
    await api.post(`/contacts/${id}/archive`);
    await api.post(`/contacts/${id}/unarchive`);
    await api.delete(`/contacts/${id}`);
    expect(topics(sim)).toEqual(["contact.archived", "contact.unarchive", "contact.deleted"]);
    expect(sim.pendingWebhooks()[2]!.data.item).toEqual({ id, external_id: "u-1", type: "contact", deleted: true });
  });
});

describe("emitted on request", () => {
  it("ping has a null id", async () => {
    const { sim, ws, received } = withReceiver();
    const ping = sim.emit({ app_id: ws.app_id, topic: "ping", message: "hello" });
    expect(ping).toMatchObject({ id: null, topic: "ping", data: { item: { type: "ping", message: "hello" } } });
    await sim.deliverWebhooks();
    expect(received[0]!.body.id).toBeNull();
  });

  it("conversation.user.created carries the Conversation model with the contact", async () => {
    const { api, sim, ws } = withReceiver();
    const contact = (await api.post("/contacts", { external_id: "u-1", email: "a@example.com", name: "Ada" })).body;
    const notification = sim.emit({
      app_id: ws.app_id,
      topic: "conversation.user.created",
      contact_id: contact.id,
      message: "Help <me>",
    })!;
    expect(notification.data.item).toMatchObject({
      type: "conversation",
      id: expect.stringMatching(/^\d+$/),
      created_at: START_MS / 1000,
      updated_at: START_MS / 1000,
      open: true,
      state: "open",
      source: {
        type: "conversation",
        delivered_as: "customer_initiated",
        body: "<p>Help &#60;me&#62;</p>",
        author: { type: "user", id: contact.id, name: "Ada", email: "a@example.com" },
      },
      contacts: { type: "contact.list", contacts: [{ type: "contact", id: contact.id, external_id: "u-1" }] },
    });
  });

  it("contact.deleted and company.deleted remove the object and send a minimal item", async () => {
    const { api, sim, ws } = withReceiver();
    const contact = (await api.post("/contacts", { external_id: "u-1" })).body;
    const company = (await api.post("/companies", { company_id: "acme" })).body;
    await api.post(`/contacts/${contact.id}/companies`, { id: company.id });
    sim.takeWebhooks();
    expect(sim.emit({ app_id: ws.app_id, topic: "company.deleted", company_id: company.id })!.data.item).toEqual({
      id: company.id,
      type: "company",
      deleted: true,
    });
    expect(sim.emit({ app_id: ws.app_id, topic: "contact.deleted", contact_id: contact.id })!.data.item).toEqual({
      id: contact.id,
      external_id: "u-1",
      type: "contact",
      deleted: true,
    });
    expect((await api.get(`/contacts/${contact.id}`)).status).toBe(404);
    expect((await api.get(`/companies/${company.id}`)).status).toBe(404);
    expect(sim.state(ws.app_id).attachments).toEqual([]);
  });

  it("contact.merged merges the lead away: the item is the survivor without merged_from, the old id answers 410 with a Link", async () => {
    const { api, sim, ws } = withReceiver();
    const lead = (await api.post("/contacts", { role: "lead", email: "a@example.com" })).body;
    const user = (await api.post("/contacts", { external_id: "u-1", email: "a@example.com" })).body;
    const merged = sim.emit({
      app_id: ws.app_id,
      topic: "contact.merged",
      contact_id: user.id,
      from_contact_id: lead.id,
    })!;
    expect(merged.data.item).toMatchObject({ type: "contact", id: user.id });
    // Intercom documents merged_from, but recorded contact.merged payloads carry none.
    expect(merged.data.item).not.toHaveProperty("merged_from");
    const gone = await api.get(`/contacts/${lead.id}`);
    expect(gone.status).toBe(410);
    expect(gone.body.errors[0].code).toBe("contact_merged");
    expect(gone.headers.get("Link")).toBe(`</contacts/${user.id}>; rel="canonical"`);
  });

  it("re-emits a contact or company topic with the current state, or sends a raw item as given", async () => {
    const { api, sim, ws } = withReceiver();
    const contact = (await api.post("/contacts", { external_id: "u-1" })).body;
    sim.takeWebhooks();
    expect(
      sim.emit({ app_id: ws.app_id, topic: "contact.user.updated", contact_id: contact.id })!.data.item,
    ).toMatchObject({ id: contact.id });
    expect(
      sim.emit({ app_id: ws.app_id, topic: "visitor.signed_up", item: { type: "visitor", id: "v1" } })!.data.item,
    ).toEqual({ type: "visitor", id: "v1" });
    expect(() => sim.emit({ app_id: ws.app_id, topic: "conversation.admin.closed" })).toThrow(/item/);
  });

  it("is available over HTTP: POST /_sim/webhooks/emit, GET /_sim/webhooks, POST /_sim/webhooks/deliver", async () => {
    const { sim, ws, received } = withReceiver();
    const emitted = await send(sim, "POST", "/_sim/webhooks/emit", { body: { app_id: ws.app_id, topic: "ping" } });
    expect(emitted.status).toBe(201);
    expect(emitted.body.notification.topic).toBe("ping");
    expect((await send(sim, "GET", "/_sim/webhooks")).body).toMatchObject({
      pending: [{ topic: "ping" }],
      delivered: [],
    });
    expect((await send(sim, "POST", "/_sim/webhooks/deliver")).body).toEqual({ statuses: [200] });
    expect((await send(sim, "GET", "/_sim/webhooks")).body).toMatchObject({
      pending: [],
      delivered: [{ topic: "ping", status: 200 }],
    });
    expect(received).toHaveLength(1);
  });
});
