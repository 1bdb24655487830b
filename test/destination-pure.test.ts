import { describe, expect, it } from "vitest";
import { coerce } from "../src/destination/plan/coerce";
import { passesSegmentFilter } from "../src/destination/plan/contact-plan";
import { chooseContact } from "../src/destination/plan/match";
import { changedFields, companyPayload, contactPayload } from "../src/destination/plan/payload";
import { backoff, decide } from "../src/destination/plan/retry-policy";
import { DEFAULT_SYNC_DEBOUNCE_MS, syncDebounceMs } from "../src/destination/plan/sync-debounce";
import { budgetSpentResponse } from "../src/intercom/budgeted-fetch";
import { classifyResponse } from "../src/intercom/errors";
import { requestBody } from "../src/intercom/fields";
import type { ContactSummary } from "../src/intercom/objects";

const user = (
  properties: Record<string, unknown>,
  userId: string | null = "u1",
  email: string | null = "Ada@Example.com",
) => ({
  userId,
  email,
  properties,
});

describe("coercion to Intercom types", () => {
  it.each([
    ["string", 42, "42"],
    ["string", true, "true"],
    ["integer", "42", 42],
    ["integer", 41.9, 41],
    ["float", "3.5", 3.5],
    ["float", 2, 2],
    ["boolean", "yes", true],
    ["boolean", "false", false],
    ["boolean", 0, false],
    ["date", "2024-01-02T03:04:05Z", 1704164645],
    ["date", 1704164645, 1704164645],
    ["date", 1704164645123, 1704164645],
    ["datetime", "1704164645", 1704164645],
  ] as const)("%s ← %j is %j", (type, input, expected) => {
    expect(coerce(input, type)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ["integer", "abc"],
    ["float", { a: 1 }],
    ["boolean", "maybe"],
    ["date", "not a date"],
    ["string", ["a"]],
    ["string", "x".repeat(256)],
    ["integer", 1e12],
  ] as const)("%s ← %j cannot be coerced", (type, input) => {
    const result = coerce(input, type);
    expect(result.ok).toBe(false);
  });
});

describe("payloads", () => {
  it("maps every default contact field, name from full_name else first + last", () => {
    const payload = contactPayload(
      user({ full_name: "Ada Lovelace", phone: "+44 1", registered_at: "2024-01-02T03:04:05Z" }),
      [],
    );
    expect(payload.fields).toEqual({
      email: "ada@example.com",
      external_id: "u1",
      name: "Ada Lovelace",
      phone: "+44 1",
      signed_up_at: 1704164645,
    });
    expect(contactPayload(user({ first_name: "Ada", last_name: "King" }), []).fields.name).toBe("Ada King");
    expect(contactPayload(user({ first_name: "Ada" }), []).fields.name).toBe("Ada");
  });

  it("maps every default company field", () => {
    const payload = companyPayload(
      {
        accountId: "acme",
        name: "Acme",
        properties: { plan: "pro", mrr: 99.9, registered_at: "2024-01-02T03:04:05Z" },
      },
      [],
    );
    expect(payload.fields).toEqual({
      company_id: "acme",
      name: "Acme",
      plan: "pro",
      monthly_spend: 99,
      remote_created_at: 1704164645,
    });
  });

  it("applies custom mappings with coercion; a value that cannot be coerced is dropped with a warning", () => {
    const payload = contactPayload(user({ health: "0.75", seats: "x", stage: "trial", score: { deep: 3 } }), [
      { from: "health", to: "custom_attributes.health", type: "float" },
      { from: "seats", to: "custom_attributes.seats", type: "integer" },
      { from: "stage", to: "name", type: "string" },
      { from: "score.deep", to: "custom_attributes.score", type: "integer" },
    ]);
    expect(payload.fields).toMatchObject({
      "custom_attributes.health": 0.75,
      name: "trial",
      "custom_attributes.score": 3,
    });
    expect(payload.fields).not.toHaveProperty("custom_attributes.seats");
    expect(payload.warnings).toEqual([
      { path: "custom_attributes.seats", from: "seats", reason: "a string (1 characters), not a number" },
    ]);
  });

  it("omits absent values and nests custom attributes in the request body", () => {
    const payload = contactPayload(user({}, null, null), [
      { from: "plan", to: "custom_attributes.plan", type: "string" },
    ]);
    expect(payload.fields).toEqual({});
    expect(requestBody({ name: "A", "custom_attributes.plan": "pro" })).toEqual({
      name: "A",
      custom_attributes: { plan: "pro" },
    });
  });

  it("diffs against what Intercom is known to hold", () => {
    expect(changedFields({ name: "A", phone: "1" }, { name: "A", phone: "2" })).toEqual({ phone: "1" });
    expect(changedFields({ name: "A" }, {})).toEqual({ name: "A" });
    expect(changedFields({ name: "A" }, { name: "A" })).toEqual({});
  });
});

describe("contact matching", () => {
  const contact = (id: string, role: string, externalId: string | null, email: string | null): ContactSummary => ({
    id,
    role,
    external_id: externalId,
    email,
    name: null,
    phone: null,
    signed_up_at: null,
    avatar: null,
    owner_id: null,
    last_seen_at: null,
    unsubscribed_from_emails: null,
    updated_at: null,
    custom_attributes: {},
  });

  it("prefers external_id, then an email user, then an email lead", () => {
    const identity = { userId: "u1", email: "a@x.com" };
    const byId = contact("1", "user", "u1", "other@x.com");
    const byEmail = contact("2", "user", null, "a@x.com");
    const lead = contact("3", "lead", "7f1c-uuid", "a@x.com");
    expect(chooseContact([lead, byEmail, byId], identity)).toMatchObject({
      kind: "found",
      via: "external_id",
      contact: { id: "1" },
    });
    expect(chooseContact([lead, byEmail], identity)).toMatchObject({
      kind: "found",
      via: "email_user",
      contact: { id: "2" },
    });
    expect(chooseContact([lead], identity)).toMatchObject({ kind: "found", via: "email_lead", contact: { id: "3" } });
    expect(chooseContact([], identity)).toEqual({ kind: "none" });
  });

  it("does not take a user with another external_id for the same person", () => {
    expect(
      chooseContact([contact("9", "user", "someone-else", "a@x.com")], { userId: "u1", email: "a@x.com" }),
    ).toEqual({
      kind: "none",
    });
  });

  it("reports an ambiguous match instead of picking the first", () => {
    const result = chooseContact([contact("1", "lead", "l1", "a@x.com"), contact("2", "lead", "l2", "a@x.com")], {
      userId: null,
      email: "a@x.com",
    });
    expect(result).toEqual({ kind: "ambiguous", ids: ["1", "2"], via: "email_lead" });
  });
});

describe("segment filter", () => {
  it("empty filter passes everyone; otherwise one shared segment is enough", () => {
    expect(passesSegmentFilter([], [])).toBe(true);
    expect(passesSegmentFilter(["a"], ["b", "a"])).toBe(true);
    expect(passesSegmentFilter(["c"], ["b", "a"])).toBe(false);
  });
});

describe("retry policy", () => {
  it("treats the connector's own held-back 429 as pacing: retried at its time, no attempt counted, no log row", async () => {
    const now = 1_000_000;
    const response = budgetSpentResponse(now + 40_000);
    const failure = classifyResponse(response.status, await response.json(), response.headers);
    expect(failure).toMatchObject({ kind: "rate_limited", heldBack: true, resetAt: now + 40_000 });
    expect(decide(failure, 3, now, 0)).toMatchObject({ kind: "retry", paced: true, countsAsAttempt: false });
    // Intercom's own 429 is logged as a retry.
    const intercom = classifyResponse(429, { type: "error.list", errors: [] }, new Headers());
    expect(decide(intercom, 1, now, 0)).not.toHaveProperty("paced");
  });

  it("waits for the rate-limit reset, backs off on 5xx, parks on 401, gives up on validation errors", () => {
    const now = 1_000_000;
    expect(decide({ kind: "rate_limited", status: 429, resetAt: now + 5_000, message: "" }, 1, now, 0)).toMatchObject({
      kind: "retry",
      at: now + 5_000,
      countsAsAttempt: false,
    });
    const server = decide({ kind: "server", status: 503, message: "x" }, 3, now, 0.5);
    expect(server.kind).toBe("retry");
    expect(decide({ kind: "server", status: 503, message: "x" }, 8, now, 0.5)).toMatchObject({
      kind: "fail",
      exhausted: true,
    });
    expect(decide({ kind: "unauthorized", status: 401, message: "x" }, 1, now, 0).kind).toBe("park");
    expect(
      decide({ kind: "invalid", status: 400, code: "parameter_invalid", message: "bad" }, 1, now, 0),
    ).toMatchObject({
      kind: "fail",
      exhausted: false,
    });
  });

  it("backs off exponentially with jitter, capped", () => {
    expect(backoff(1, 0)).toBe(1_000);
    expect(backoff(3, 0.999)).toBeLessThanOrEqual(8_000);
    expect(backoff(30, 0.5)).toBeLessThanOrEqual(300_000);
  });
});

describe("sync debounce", () => {
  it("reads SYNC_DEBOUNCE_MS: 0 allowed, capped at 10 s, the default when unset or invalid", () => {
    expect(syncDebounceMs({})).toBe(DEFAULT_SYNC_DEBOUNCE_MS);
    expect(DEFAULT_SYNC_DEBOUNCE_MS).toBeLessThanOrEqual(250);
    expect(syncDebounceMs({ SYNC_DEBOUNCE_MS: "0" })).toBe(0);
    expect(syncDebounceMs({ SYNC_DEBOUNCE_MS: "100" })).toBe(100);
    expect(syncDebounceMs({ SYNC_DEBOUNCE_MS: "60000" })).toBe(10_000);
    for (const bad of ["", " ", "-1", "1.5", "soon"]) {
      expect(syncDebounceMs({ SYNC_DEBOUNCE_MS: bad })).toBe(DEFAULT_SYNC_DEBOUNCE_MS);
    }
  });
});
