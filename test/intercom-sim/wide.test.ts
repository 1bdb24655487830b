import { describe, expect, it } from "vitest";
import { createSimulator } from "./simulator";
import { manualClock, send, setup } from "./support";
import { MAX_STRING_VALUE, wideAttributeDefinitions } from "./wide/data";
import { wideCompanyItem, wideContactItem, wideNotification } from "./wide/webhooks";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$/;

/** Every key of Intercom 2.16's Contact object (GET /contacts/{id} example of the spec). */
const CONTACT_KEYS = [
  "type",
  "id",
  "workspace_id",
  "external_id",
  "role",
  "email",
  "email_domain",
  "phone",
  "name",
  "avatar",
  "owner_id",
  "social_profiles",
  "has_hard_bounced",
  "marked_email_as_spam",
  "unsubscribed_from_emails",
  "created_at",
  "updated_at",
  "signed_up_at",
  "last_seen_at",
  "last_replied_at",
  "last_contacted_at",
  "last_email_opened_at",
  "last_email_clicked_at",
  "language_override",
  "browser",
  "browser_version",
  "browser_language",
  "os",
  "location",
  "android_app_name",
  "android_app_version",
  "android_device",
  "android_os_version",
  "android_sdk_version",
  "android_last_seen_at",
  "ios_app_name",
  "ios_app_version",
  "ios_device",
  "ios_os_version",
  "ios_sdk_version",
  "ios_last_seen_at",
  "custom_attributes",
  "tags",
  "notes",
  "companies",
  "opted_out_subscription_types",
  "opted_in_subscription_types",
  "utm_campaign",
  "utm_content",
  "utm_medium",
  "utm_source",
  "utm_term",
  "referrer",
  "enabled_push_messaging",
];

/** A simulator whose workspace holds the default wide data. */
function seeded() {
  const ctx = setup();
  const summary = ctx.sim.seedWideWorkspace(ctx.ws.app_id);
  return { ...ctx, summary };
}

/** A workspace's content without Intercom ids (which are random), to compare two seedings. */
function valuesOf(state: ReturnType<ReturnType<typeof createSimulator>["state"]>) {
  return {
    contacts: state.contacts.map(
      ({
        id,
        tags,
        companies,
        notes,
        owner_id,
        opted_in_subscription_types,
        opted_out_subscription_types,
        ...rest
      }) => ({
        ...rest,
        owner_id: owner_id !== null,
        tags: tags.total_count,
        companies: companies.total_count,
        notes: notes.total_count,
      }),
    ),
    companies: state.companies.map(({ id, plan, tags, segments, ...rest }) => ({
      ...rest,
      plan: (plan as { name?: string }).name ?? null,
      tags: tags.tags.map((t) => t.name),
      segments: segments.segments.map((s) => s.name),
    })),
    attributes: state.data_attributes.map(({ name, data_type, model }) => ({ name, data_type, model })),
  };
}

describe("a wide workspace", () => {
  it("registers 100 custom attributes per model, of mixed types, as data attributes", async () => {
    const { api, summary } = seeded();
    for (const model of ["contact", "company"] as const) {
      const list = (await api.get(`/data_attributes?model=${model}`)).body.data.filter(
        (a: { custom: boolean }) => a.custom,
      );
      expect(list).toHaveLength(100);
      expect(new Set(list.map((a: { data_type: string }) => a.data_type))).toEqual(
        new Set(["string", "integer", "float", "boolean", "date"]),
      );
      expect(list.map((a: { name: string }) => a.name)).toEqual(summary.attributes[model].map((a) => a.name));
      expect(Math.max(...list.map((a: { name: string }) => a.name.length))).toBe(190);
    }
  });

  it("holds users and leads in 40 companies, with unicode and 200-character names and 255-character values", () => {
    const { sim, ws, summary } = seeded();
    expect(summary.users).toHaveLength(150);
    expect(summary.leads).toHaveLength(50);
    expect(summary.companies).toHaveLength(40);
    const state = sim.state(ws.app_id);
    expect(state.contacts.filter((c) => c.role === "lead")).toHaveLength(50);
    const names = [...state.contacts, ...state.companies].map((c) => c.name ?? "");
    expect(Math.max(...names.map((n) => n.length))).toBe(200);
    expect(names.some((n) => /[^\x20-\x7e]/.test(n))).toBe(true);
    const strings = state.contacts.flatMap((c) =>
      Object.values(c.custom_attributes).filter((v): v is string => typeof v === "string"),
    );
    expect(Math.max(...strings.map((s) => s.length))).toBe(MAX_STRING_VALUE);
    expect(strings.some((s) => /\p{Extended_Pictographic}/u.test(s))).toBe(true);
    const types = new Set(state.contacts.flatMap((c) => Object.values(c.custom_attributes).map((v) => typeof v)));
    expect(types).toEqual(new Set(["string", "number", "boolean"]));
    expect(new Set(state.attachments.map((a) => a.company_id)).size).toBe(40);
    expect(state.contacts.some((c) => c.companies.has_more && c.companies.data.length === 10)).toBe(true);
    expect(state.contacts.some((c) => c.tags.has_more)).toBe(true);
    expect(state.contacts.some((c) => c.notes.has_more)).toBe(true);
  });

  it("fills every Contact field Intercom fills, in REST, search and webhook answers", async () => {
    const { sim, api, ws, summary } = seeded();
    const contacts = sim.state(ws.app_id).contacts;
    const withDevice = contacts.find((c) => c.browser !== null && c.location.city !== null && c.utm_source !== null)!;
    const got = await api.get(`/contacts/${withDevice.id}`);
    expect(Object.keys(got.body)).toEqual(CONTACT_KEYS);
    expect(got.body).toMatchObject({
      browser: expect.any(String),
      browser_version: expect.any(String),
      browser_language: expect.any(String),
      os: expect.any(String),
      location: { type: "location", country: expect.any(String), city: expect.any(String) },
      social_profiles: { type: "list", data: expect.any(Array) },
      utm_source: expect.any(String),
    });
    for (const c of contacts) {
      expect(Object.keys(c.custom_attributes).length).toBeGreaterThan(70);
      for (const list of [c.tags, c.notes, c.companies]) {
        expect(list).toMatchObject({ type: "list", url: expect.stringMatching(/^\/contacts\//) });
        expect(list.data.length).toBe(Math.min(10, list.total_count));
        expect(list.has_more).toBe(list.total_count > 10);
      }
    }
    expect(contacts.some((c) => c.social_profiles.data.length > 0 && c.avatar !== null && c.owner_id !== null)).toBe(
      true,
    );
    expect(contacts.some((c) => c.ios_device !== null) && contacts.some((c) => c.android_device !== null)).toBe(true);

    const found = await api.post("/contacts/search", {
      query: { field: "email", operator: "=", value: withDevice.email },
    });
    expect(found.body.data).toEqual([got.body]);
    const user = sim.state(ws.app_id).contacts.find((c) => c.id === summary.users[0])!;
    const item = sim.emit({ app_id: ws.app_id, topic: "contact.user.updated", contact_id: user.id })!.data.item as any;
    expect(item).toMatchObject({
      ...Object.fromEntries(
        Object.entries(user).filter(([k]) => !["created_at", "updated_at", "archived"].includes(k)),
      ),
      created_at: expect.stringMatching(ISO),
      updated_at: expect.stringMatching(ISO),
      sms_consent: false,
    });
    expect(item.formatted_phone === null || /^\+\d+$/.test(item.formatted_phone)).toBe(true);
    expect(JSON.stringify(item).length).toBeGreaterThan(8_000);
  });

  it("fills companies: plan, size, website, industry, spend, sessions, tags, segments, in REST, list, scroll and webhooks", async () => {
    const { sim, api, ws, summary } = seeded();
    const company = (await api.get(`/companies/${summary.companies[0]}`)).body;
    expect(company).toMatchObject({
      type: "company",
      app_id: ws.app_id,
      company_id: summary.company_ids[0],
      session_count: expect.any(Number),
      tags: { type: "tag.list", tags: expect.any(Array) },
      segments: { type: "segment.list", segments: expect.any(Array) },
    });
    expect(Object.keys(company.custom_attributes).length).toBeGreaterThan(70);
    const companies = sim.state(ws.app_id).companies;
    expect(companies.some((c) => c.tags.tags.length > 0 && c.segments.segments.length > 0)).toBe(true);
    expect(
      companies.some((c) => (c.plan as { type?: string }).type === "plan" && c.size && c.website && c.industry),
    ).toBe(true);
    const tagged = companies.find((c) => c.tags.tags.length > 0)!;
    expect(tagged.tags.tags[0]).toEqual({ type: "tag", id: expect.any(String), name: expect.any(String) });
    expect(tagged.segments.segments[0] ?? { type: "segment" }).toMatchObject({ type: "segment" });
    const listed = (await api.get(`/companies?company_id=${tagged.company_id}`)).body.data[0];
    expect(listed).toEqual(tagged);
    const scrolled = (await api.get("/companies/scroll")).body.data;
    expect(scrolled).toContainEqual(tagged);
    const item = sim.emit({ app_id: ws.app_id, topic: "company.updated", company_id: tagged.id })!.data.item as any;
    expect(item).toMatchObject({
      id: tagged.id,
      session_count: tagged.session_count,
      tag_ids: tagged.tags.tags.map((t) => t.id),
      custom_attributes: tagged.custom_attributes,
    });
  });

  it("is deterministic for a seed (values, not Intercom ids), and different for another seed", () => {
    const one = createSimulator({ now: manualClock().now });
    const two = createSimulator({ now: manualClock().now });
    for (const sim of [one, two]) {
      sim.createWorkspace({ app_id: "wide" });
      sim.seedWideWorkspace("wide", { contacts: 30, companies: 5, seed: 7 });
    }
    expect(valuesOf(two.state("wide"))).toEqual(valuesOf(one.state("wide")));
    one.seedWideWorkspace("wide", { contacts: 30, companies: 5, seed: 8 });
    const third = valuesOf(one.state("wide")).contacts.slice(30);
    expect(third).toHaveLength(30);
    expect(third[0]!.custom_attributes).not.toEqual(valuesOf(two.state("wide")).contacts[0]!.custom_attributes);
  });

  it("refuses to seed the same seed twice, and takes sizes over the control API", async () => {
    const sim = createSimulator();
    sim.createWorkspace({ app_id: "wide" });
    const res = await send(sim, "POST", "/_sim/workspaces/wide/seed-wide", {
      body: { contacts: 10, leads: 4, companies: 3, attributes: 10 },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ app_id: "wide", users: expect.any(Array), leads: expect.any(Array) });
    expect(res.body.users).toHaveLength(6);
    expect(res.body.leads).toHaveLength(4);
    expect(res.body.company_ids).toHaveLength(3);
    expect(res.body.attributes.contact).toHaveLength(10);
    expect((await send(sim, "POST", "/_sim/workspaces/wide/seed-wide", { body: { contacts: 1 } })).status).toBe(409);
    expect((await send(sim, "POST", "/_sim/workspaces/wide/seed-wide", { body: { nope: 1 } })).status).toBe(400);
    expect((await send(sim, "POST", "/_sim/workspaces/wide/seed-wide", { body: { contacts: -1 } })).status).toBe(400);
  });

  it("accepts writes of the wide attributes like any defined attribute", async () => {
    const { api, summary } = seeded();
    const attributes = summary.attributes.contact;
    const values = Object.fromEntries(
      attributes
        .slice(0, 5)
        .map((a) => [
          a.name,
          { string: "é".repeat(255), integer: 7, float: 1.5, boolean: true, date: 1_700_000_000, datetime: 1 }[
            a.data_type
          ],
        ]),
    );
    const res = await api.put(`/contacts/${summary.users[0]}`, { custom_attributes: values });
    expect(res.status).toBe(200);
    expect(res.body.custom_attributes).toMatchObject(values);
  });
});

describe("writable standard attributes", () => {
  it("stores a contact's avatar, owner_id, last_seen_at and unsubscribed_from_emails and reads them back everywhere", async () => {
    const { sim, api, ws } = setup();
    const ownerId = (await api.get("/me")).body.id;
    const written = {
      external_id: "u-1",
      email: "w@example.com",
      avatar: "https://example.com/a.png",
      owner_id: ownerId,
      last_seen_at: 1_767_000_000,
      unsubscribed_from_emails: true,
    };
    const created = (await api.post("/contacts", written)).body;
    const expected = {
      avatar: { type: "avatar", image_url: "https://example.com/a.png" },
      owner_id: ownerId,
      last_seen_at: 1_767_000_000,
      unsubscribed_from_emails: true,
    };
    expect(created).toMatchObject(expected);
    expect((await api.get(`/contacts/${created.id}`)).body).toMatchObject(expected);
    const search = await api.post("/contacts/search", {
      query: {
        operator: "AND",
        value: [
          { field: "owner_id", operator: "=", value: ownerId },
          { field: "unsubscribed_from_emails", operator: "=", value: true },
        ],
      },
    });
    expect(search.body.data.map((c: { id: string }) => c.id)).toEqual([created.id]);
    expect(sim.pendingWebhooks()[0]!.data.item).toMatchObject(expected);

    const updated = (
      await api.put(`/contacts/${created.id}`, {
        avatar: "https://example.com/b.png",
        owner_id: null,
        last_seen_at: 1_767_100_000,
        unsubscribed_from_emails: false,
      })
    ).body;
    expect(updated).toMatchObject({
      avatar: { type: "avatar", image_url: "https://example.com/b.png" },
      owner_id: null,
      last_seen_at: 1_767_100_000,
      unsubscribed_from_emails: false,
    });
    expect(sim.pendingWebhooks().at(-1)!.data.item).toMatchObject({ owner_id: null, unsubscribed_from_emails: false });
    expect((await api.put(`/contacts/${created.id}`, { owner_id: "999" })).status).toBe(400);
    expect(sim.state(ws.app_id).contacts[0]).toMatchObject({ avatar: updated.avatar, last_seen_at: 1_767_100_000 });
  });

  it("stores a company's size, website and industry and reads them back everywhere", async () => {
    const { sim, api } = setup();
    const written = { size: 250, website: "https://acme.example", industry: "Manufacturing" };
    const created = (await api.post("/companies", { company_id: "acme", ...written })).body;
    expect(created).toMatchObject(written);
    expect((await api.get(`/companies/${created.id}`)).body).toMatchObject(written);
    expect((await api.get("/companies?company_id=acme")).body.data[0]).toMatchObject(written);
    expect((await api.get("/companies/scroll")).body.data[0]).toMatchObject(written);
    expect(sim.pendingWebhooks()[0]!.data.item).toMatchObject(written);
    const changed = { size: 300, website: "https://acme.example/é", industry: "Software" };
    expect((await api.put(`/companies/${created.id}`, changed)).body).toMatchObject(changed);
    expect(sim.pendingWebhooks().at(-1)!.data.item).toMatchObject(changed);
  });
});

describe("wide webhook payloads without a simulator", () => {
  it("builds a wide contact item: 100 attributes, every field, 12 tags and companies, ISO times; the same for a seed", () => {
    const item = wideContactItem({ app_id: "abc", seed: 3 });
    expect(Object.keys(item)).toEqual(expect.arrayContaining(CONTACT_KEYS));
    expect(item).toMatchObject({
      type: "contact",
      workspace_id: "abc",
      role: "user",
      created_at: expect.stringMatching(ISO),
      tags: { total_count: 12, has_more: true },
      companies: { total_count: 12, has_more: true },
    });
    expect(item.tags.data).toHaveLength(10);
    expect(Object.keys(item.custom_attributes).length).toBeGreaterThan(70);
    expect(wideContactItem({ app_id: "abc", seed: 3 })).toEqual(item);
    expect(wideContactItem({ app_id: "abc", seed: 4 })).not.toEqual(item);
    expect(wideContactItem({ role: "lead" }).role).toBe("lead");
  });

  it("builds a wide company item and whole notifications by topic", () => {
    const company = wideCompanyItem({ app_id: "abc" });
    expect(company).toMatchObject({
      type: "company",
      app_id: "abc",
      plan: { type: "plan", name: expect.any(String) },
      created_at: expect.stringMatching(ISO),
      tag_ids: expect.any(Array),
    });
    expect(Object.keys(company.custom_attributes).length).toBeGreaterThan(70);
    expect(wideNotification("contact.lead.created", { app_id: "abc" })).toMatchObject({
      type: "notification_event",
      app_id: "abc",
      topic: "contact.lead.created",
      data: { type: "notification_event_data", item: { type: "contact", role: "lead" } },
    });
    expect(wideNotification("contact.lead.signed_up").data.item).toMatchObject({ role: "user" });
    const attached = wideNotification("company.contact.attached").data.item as Record<string, unknown>;
    expect(Object.keys(attached).sort()).toEqual(["company", "contact"]);
    expect(() => wideNotification("contact.deleted")).toThrow(/No wide item/);
  });

  it("names attributes as the seeded workspace does, so a test can register them first", () => {
    const definitions = wideAttributeDefinitions("contact");
    expect(definitions).toHaveLength(100);
    expect(
      Object.keys(wideContactItem().custom_attributes).every((name) => definitions.some((d) => d.name === name)),
    ).toBe(true);
  });
});
