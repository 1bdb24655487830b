import { describe, expect, it } from "vitest";
import { z } from "zod";
import { inboundMessageOf, readEnvelope } from "../src/api/intercom-webhook/envelope";
import { signatureBytes } from "../src/api/intercom-webhook/signature";
import type { Connection } from "../src/connections/repository";
import type { FieldMapping } from "../src/db/schema";
import { parseIntercomTime, unixSeconds } from "../src/intercom/times";
import { AttachmentItem, CompanyItem, ContactItem, ConversationItem, EventItem } from "../src/intercom/webhook-items";
import { describeError } from "../src/lib/errors";
import { messageBytes } from "../src/lib/queue-batches";
import { conversationContact } from "../src/source/capture/chat";
import {
  companyAccountPatch,
  companyRemoteState,
  contactIdentity,
  contactRemoteState,
  contactUserPatch,
  planName,
  propertyOfCustomAttribute,
} from "../src/source/capture/mapping";
import { retryDelaySeconds, skipReason } from "../src/source/consumer";
import { changedSince, isOlderThan } from "../src/source/echo";
import { projectItem } from "../src/source/inbound-message";
import { routeTopic } from "../src/source/topics";
import { fixture } from "./helpers/webhooks";

describe("Intercom times", () => {
  it("read ISO strings to the millisecond and Unix seconds to the second", () => {
    expect(parseIntercomTime("2026-01-10T04:22:28.240+00:00")).toEqual({
      ms: Date.UTC(2026, 0, 10, 4, 22, 28, 240),
      resolutionMs: 1,
    });
    expect(parseIntercomTime(1768018948)).toEqual({ ms: 1768018948000, resolutionMs: 1000 });
    expect(parseIntercomTime("1768018948")).toEqual({ ms: 1768018948000, resolutionMs: 1000 });
    expect(parseIntercomTime("2026-01-10T04:22:28Z")?.resolutionMs).toBe(1000);
    expect(parseIntercomTime(null)).toBeNull();
    expect(parseIntercomTime("yesterday")).toBeNull();
    expect(unixSeconds("2026-01-10T04:22:28.999+00:00")).toBe(1768018948);
  });

  it("call an item older only when its whole precision is before the stored time", () => {
    const stored = Date.UTC(2026, 0, 10, 4, 22, 28, 500);
    expect(isOlderThan(parseIntercomTime("2026-01-10T04:22:28.499+00:00")!, stored)).toBe(true);
    expect(isOlderThan(parseIntercomTime("2026-01-10T04:22:28.500+00:00")!, stored)).toBe(false);
    // The REST copy (seconds) of the state a webhook applied is not older, nor is the same second.
    expect(isOlderThan(parseIntercomTime(1768018948)!, stored)).toBe(false);
    expect(isOlderThan(parseIntercomTime(1768018947)!, stored)).toBe(true);
    expect(isOlderThan(parseIntercomTime(1)!, null)).toBe(false);
  });
});

describe("contact mapping", () => {
  const user = ContactItem.parse(fixture("contact.user.created").data.item);
  const lead = ContactItem.parse(fixture("contact.lead.created").data.item);

  it("takes a user's external_id as user_id, never a lead's UUID", () => {
    expect(contactIdentity(user)).toEqual({ userId: "cdp-user-2041", email: "jamie.rivera@example.com" });
    expect(contactIdentity(lead)).toEqual({ userId: null, email: "visitor.lee@example.org" });
  });

  it("records Intercom's values in the remote state's REST representation", () => {
    expect(contactRemoteState(user, [])).toEqual({
      email: "jamie.rivera@example.com",
      external_id: "cdp-user-2041",
      role: "user",
      name: "Jamie Rivera",
      phone: "+14155550142",
      signed_up_at: 1772442000,
      "custom_attributes.seats": 12,
      "custom_attributes.beta_tester": true,
    });
    // A REST item (Unix seconds) gives the same state; absent fields stay unknown.
    expect(contactRemoteState(ContactItem.parse({ id: "x", signed_up_at: 1772442000 }), [])).toEqual({
      signed_up_at: 1772442000,
    });
  });

  it("maps changes to CDP properties, custom attributes under their mapped names", () => {
    const mappings: FieldMapping[] = [{ from: "licensed_seats", to: "custom_attributes.seats", type: "integer" }];
    const patch = contactUserPatch(contactRemoteState(user, []), user, mappings);
    expect(patch).toEqual({
      email: "jamie.rivera@example.com",
      userId: "cdp-user-2041",
      properties: {
        full_name: "Jamie Rivera",
        phone: "+14155550142",
        registered_at: "2026-03-02T09:00:00.000Z",
        licensed_seats: 12,
        beta_tester: true,
        role: "user",
      },
    });
    expect(contactUserPatch(contactRemoteState(lead, []), lead, []).userId).toBeUndefined();
  });

  it("holds custom attributes mapped as dates in Unix seconds (as the destination records them) and lands them as ISO", () => {
    const mappings: FieldMapping[] = [{ from: "renewal_at", to: "custom_attributes.renews", type: "date" }];
    const item = ContactItem.parse({
      id: "x",
      custom_attributes: { renews: "2026-06-01T00:00:00.000+00:00", notes: "2026-06-01" },
    });
    const state = contactRemoteState(item, mappings);
    expect(state).toEqual({ "custom_attributes.renews": 1780272000, "custom_attributes.notes": "2026-06-01" });
    // The destination wrote 1780272000: the webhook's ISO form of it is an echo, not a change.
    expect(
      changedSince(state, { "custom_attributes.renews": 1780272000, "custom_attributes.notes": "2026-06-01" }),
    ).toEqual({});
    expect(contactUserPatch(state, item, mappings).properties).toEqual({
      renewal_at: "2026-06-01T00:00:00.000Z",
      notes: "2026-06-01",
    });
    expect(propertyOfCustomAttribute(mappings, "plan")).toBe("plan");
  });
});

describe("echo filter (changedSince)", () => {
  it("drops what equals the remote state, keeps what differs or is new", () => {
    const stored = { name: "A", phone: "1", "custom_attributes.plan": "pro" };
    expect(changedSince({ name: "A", phone: "2", "custom_attributes.plan": "pro", email: "a@b.c" }, stored)).toEqual({
      phone: "2",
      email: "a@b.c",
    });
  });

  it("applies a cleared value only when a value was known", () => {
    expect(changedSince({ phone: null }, { phone: "1" })).toEqual({ phone: null });
    expect(changedSince({ phone: null }, {})).toEqual({});
    expect(changedSince({ phone: null }, { phone: null })).toEqual({});
  });
});

describe("company mapping", () => {
  it("reads the plan name from every shape Intercom uses", () => {
    expect(planName({ name: "Growth" })).toBe("Growth");
    expect(planName({})).toBeNull();
    expect(planName(null)).toBeNull();
    expect(planName("Pro")).toBe("Pro");
  });

  it("maps a company to an account patch", () => {
    const company = CompanyItem.parse(fixture("company.created").data.item);
    const state = companyRemoteState(company, []);
    expect(state).toEqual({
      name: "Northwind Traders",
      plan: "Growth",
      monthly_spend: 1499,
      remote_created_at: 1769900000,
      "custom_attributes.region": "EMEA",
      "custom_attributes.health_score": 0.82,
    });
    const mappings: FieldMapping[] = [{ from: "health", to: "custom_attributes.health_score", type: "float" }];
    expect(companyAccountPatch(state, mappings)).toEqual({
      name: "Northwind Traders",
      properties: {
        plan: "Growth",
        mrr: 1499,
        registered_at: "2026-01-31T22:53:20.000Z",
        region: "EMEA",
        health: 0.82,
      },
    });
  });

  it("does not invent a plan for attachment items, which carry plan_id only", () => {
    const { company } = AttachmentItem.parse(fixture("company.contact.attached").data.item);
    expect(companyRemoteState(company, [])).not.toHaveProperty("plan");
  });
});

describe("conversation contact", () => {
  it("reads the 2.5+ model: first contact, author's email; external_id only for users", () => {
    const conversation = ConversationItem.parse(fixture("conversation.user.created").data.item);
    expect(conversationContact(conversation)).toEqual({
      intercomId: "6a1f0c2e9b3d4e5f60718291",
      userId: "cdp-user-2041",
      email: "jamie.rivera@example.com",
    });
  });

  it("reads the pre-2.5 model, and a lead's user_id is not a CDP id", () => {
    const conversation = ConversationItem.parse(fixture("conversation.user.created.legacy").data.item);
    expect(conversationContact(conversation)).toEqual({
      intercomId: "6a1f0d7741c2a9e3b5d80412",
      userId: null,
      email: "visitor.lee@example.org",
    });
  });

  it("parses the event item", () => {
    expect(EventItem.parse(fixture("event.created").data.item)).toMatchObject({
      event_name: "exported-report",
      metadata: { format: "csv", rows: 1200 },
    });
  });
});

describe("envelope and queue message", () => {
  it("accepts a notification and a ping, refuses other bodies", () => {
    expect(readEnvelope(fixture("contact.user.created")).ok).toBe(true);
    expect(readEnvelope(fixture("ping")).ok).toBe(true);
    expect(readEnvelope({ type: "something" })).toMatchObject({ ok: false, paths: ["type"] });
    expect(readEnvelope([1, 2])).toMatchObject({ ok: false });
    expect(readEnvelope({ ...fixture("contact.user.created"), id: null })).toMatchObject({ ok: false, paths: ["id"] });
    expect(readEnvelope({ ...fixture("contact.user.created"), topic: undefined })).toMatchObject({
      ok: false,
      paths: ["topic"],
    });
  });

  it("projects items to what the consumer reads, which still parses", () => {
    const contact = projectItem(fixture("contact.user.created").data.item);
    expect(Object.keys(contact).sort()).toEqual(
      [
        "created_at",
        "custom_attributes",
        "email",
        "external_id",
        "id",
        "name",
        "phone",
        "role",
        "signed_up_at",
        "type",
        "updated_at",
      ].sort(),
    );
    expect(ContactItem.parse(contact)).toEqual(ContactItem.parse(fixture("contact.user.created").data.item));
    const attachment = projectItem(fixture("company.contact.attached").data.item);
    expect(AttachmentItem.parse(attachment)).toEqual(
      AttachmentItem.parse(fixture("company.contact.attached").data.item),
    );
    const conversation = projectItem(fixture("conversation.user.created").data.item);
    expect(JSON.stringify(conversation)).not.toContain("billing address");
    expect(conversationContact(ConversationItem.parse(conversation))).toEqual(
      conversationContact(ConversationItem.parse(fixture("conversation.user.created").data.item)),
    );
    expect(projectItem({ type: "contact_tag", tag: { id: "1" }, contact: {} })).toEqual({ type: "contact_tag" });
  });

  it("builds the queue message with a top-level app_id", () => {
    const envelope = readEnvelope(fixture("event.created"));
    if (!envelope.ok) throw new Error("fixture");
    const message = inboundMessageOf({ ...envelope.envelope, id: envelope.envelope.id! }, 1_000);
    expect(message).toMatchObject({
      app_id: "fx7app01",
      received_at: 1_000,
      notification: { topic: "event.created", created_at: 1772450002 },
    });
    expect(messageBytes(message)).toBeLessThan(1_000);
  });
});

describe("small pure parts", () => {
  it("parse the signature header strictly", () => {
    expect(signatureBytes(`sha1=${"ab".repeat(20)}`)).toHaveLength(20);
    expect(signatureBytes(`sha1=${"AB".repeat(20)}`)?.[0]).toBe(0xab);
    expect(signatureBytes(`sha256=${"ab".repeat(20)}`)).toBeNull();
    expect(signatureBytes(`sha1=${"ab".repeat(19)}`)).toBeNull();
    expect(signatureBytes(undefined)).toBeNull();
  });

  it("route topics to handlers and settings", () => {
    expect(routeTopic("contact.lead.signed_up")).toEqual({ kind: "contact", setting: "create_users_from_contacts" });
    expect(routeTopic("company.contact.detached")).toEqual({ kind: "relationship", setting: "capture_relationships" });
    expect(routeTopic("contact.merged")).toEqual({ kind: "contact_merged", setting: null });
    expect(routeTopic("contact.user.tag.created")).toBeNull();
  });

  it("say why a notification is skipped before processing", () => {
    const row = { status: "connected", source: { enabled: true } } as Connection;
    expect(skipReason(null, "app1")).toBe("no connection for Intercom app app1");
    expect(skipReason(row, "app1")).toBeNull();
    expect(skipReason({ ...row, status: "revoked" }, "app1")).toBe("the connection is revoked");
    expect(skipReason({ ...row, source: { ...row.source, enabled: false } }, "app1")).toBe(
      "the source is switched off",
    );
  });

  it("back off retries and describe errors without values", () => {
    expect([1, 2, 3, 4, 5, 6].map(retryDelaySeconds)).toEqual([10, 30, 90, 270, 600, 600]);
    const drizzleLike = Object.assign(new Error("Failed query: insert into users params: jane@example.com"), {
      cause: new Error("UNIQUE constraint failed: users.email"),
    });
    expect(describeError(drizzleLike)).toBe("Error: UNIQUE constraint failed: users.email");
    expect(describeError(z.object({ id: z.string() }).safeParse({ id: 1 }).error)).toBe(
      "unexpected payload shape at id",
    );
  });
});
