/**
 * Generated bad input against `POST /webhooks/intercom` (issue 8, point 4): well over 2,000 requests from a seeded
 * generator, through the real app with the real queue (its `send` recorded on the way), against real D1.
 *
 * - Everything unsigned, mis-signed, oversized, malformed or not a notification is refused with its status (401,
 *   413, 400; 405 for other methods, 404 for other paths) and a problem+json body; not one of them queues a message
 *   or changes a D1 row.
 * - Signed notifications that are JSON envelopes but carry weird items, unknown topics or unknown apps are accepted
 *   (200) and queued once each; the consumer then accounts for every one of them (processed, or logged `failed` /
 *   `skipped`) without stopping: a sample is checked outcome by outcome, and a normal notification still lands after.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_WEBHOOK_BYTES } from "../src/api/intercom-webhook/route";
import type { Env } from "../src/env";
import type { InboundMessage } from "../src/source/inbound-message";
import { seedConnection } from "./helpers/connections";
import { type Answer, answerOf, callApp, d1Snapshot, inBatches, problemDefect, Rng, tally } from "./helpers/robustness";
import {
  type Envelope,
  type FixtureName,
  type Item,
  notification,
  sign,
  syncLogCountsOf,
  WEBHOOK_URL,
  waitFor,
} from "./helpers/webhooks";

const SEED = 20260808;
const rng = new Rng(SEED);

/** Source fully on: a forged notification that got through would change D1. */
const APP = "rbapp001";
/** Source switched off. */
const APP_OFF = "rbapp002";
/** No connection at all. */
const APP_UNKNOWN = "rbapp404";

const TOPICS: FixtureName[] = [
  "contact.user.created",
  "contact.user.updated",
  "contact.lead.created",
  "company.created",
  "company.updated",
  "company.contact.attached",
  "company.contact.detached",
  "conversation.user.created",
  "event.created",
  "contact.deleted",
  "contact.merged",
];

// ---------------------------------------------------------------------------------------------------------------
// The real app, with the INBOUND queue's `send` recorded and then done for real.

const queued: Array<{ app_id: string; id: string }> = [];
const recordingQueue = {
  async send(message: InboundMessage, options?: QueueSendOptions) {
    queued.push({ app_id: message.app_id, id: message.notification.id });
    return env.INBOUND.send(message, options);
  },
  async sendBatch() {
    throw new Error("the ack path sends one message at a time");
  },
};
const appEnv = { ...env, INBOUND: recordingQueue } as unknown as Env;

async function call(request: Request): Promise<Answer> {
  return answerOf(await callApp(request, appEnv));
}

// ---------------------------------------------------------------------------------------------------------------
// The generator.

interface Case {
  group: string;
  request: () => Promise<Request>;
  /** The status the connector must answer. */
  expect: number;
  /** For 200s that must be queued: the notification's app and id. */
  queues?: { app_id: string; id: string };
}

let serial = 0;
const nextId = () => `notif_rb_${String(++serial).padStart(5, "0")}`;

/** A valid notification of a random topic for `appId`, with a deterministic id. */
function validEnvelope(appId = APP, topic: FixtureName = rng.pick(TOPICS)): Envelope {
  return notification(topic, { appId, id: nextId() });
}

const encoder = new TextEncoder();

function post(
  body: string | Uint8Array | ReadableStream<Uint8Array> | null,
  headers: Record<string, string>,
  method = "POST",
): Request {
  return new Request(WEBHOOK_URL, { method, headers, body });
}

const json = { "content-type": "application/json" };

/** Signature variants that must all be refused for `body` (a string or its bytes). */
function badSignatures(body: string): Array<[string, () => Promise<string | null>]> {
  const hexOf = async (value: string) => (await sign(value)).slice(5);
  return [
    ["missing", async () => null],
    ["empty", async () => ""],
    ["prefix only", async () => "sha1="],
    ["random hex", async () => `sha1=${rng.hex(40)}`],
    [
      "garbled",
      async () => `sha1=${Array.from({ length: 40 }, () => rng.pick([..."ghijkmnopqrstuvwxyzGHIJ!*~"])).join("")}`,
    ],
    ["signature of another body", async () => sign(JSON.stringify(validEnvelope()))],
    ["signed with another secret", async () => sign(body, "another-apps-client-secret")],
    ["sha256= prefix on the sha1 digest", async () => `sha256=${await hexOf(body)}`],
    ["upper-case prefix", async () => `SHA1=${await hexOf(body)}`],
    ["mixed-case prefix", async () => `Sha1=${await hexOf(body)}`],
    ["no prefix", async () => hexOf(body)],
    ["colon instead of =", async () => `sha1:${await hexOf(body)}`],
    ["space after =", async () => `sha1= ${await hexOf(body)}`],
    ["one hex digit short", async () => (await sign(body)).slice(0, -1)],
    ["one hex digit long", async () => `${await sign(body)}0`],
    ["two signatures", async () => `${await sign(body)},${await sign("{}")}`],
    ["HMAC-SHA256 of the body", async () => `sha256=${await hmacSha256Hex(body)}`],
    ["base64 digest", async () => `sha1=${btoa(String.fromCharCode(...hexBytes(await hexOf(body))))}`],
    ["signature of another, empty or {} body", async () => sign(body === "" ? "{}" : "")],
    ["signature of the body with a trailing newline", async () => sign(`${body}\n`)],
  ];
}

async function hmacSha256Hex(body: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(env.INTERCOM_CLIENT_SECRET),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return [...new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(body)))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

function hexBytes(hex: string): number[] {
  return Array.from({ length: hex.length / 2 }, (_, i) => Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16));
}

/** Bodies a forger would try: valid notifications of the real connection (mostly), junk, and edited copies. */
function forgedBody(): { body: string; label: string } {
  const roll = rng.next();
  const envelope = validEnvelope();
  if (roll < 0.7) return { body: JSON.stringify(envelope), label: "a valid notification" };
  if (roll < 0.8) return { body: JSON.stringify(envelope).slice(0, rng.int(0, 400)), label: "truncated JSON" };
  if (roll < 0.9) return { body: "", label: "an empty body" };
  return { body: JSON.stringify({ ...envelope, topic: "ping", id: null }), label: "a ping" };
}

function unsignedCases(): Case[] {
  const cases: Case[] = [];
  const variants = badSignatures("").length;
  for (let round = 0; round < 48; round++) {
    for (let variant = 0; variant < variants; variant++) {
      const { body, label } = forgedBody();
      const [name, signature] = badSignatures(body)[variant]!;
      cases.push({
        group: `unsigned: ${name} (${label})`,
        expect: 401,
        request: async () => {
          const header = await signature();
          return post(body, { ...json, ...(header === null ? {} : { "x-hub-signature": header }) });
        },
      });
    }
  }
  // Valid signature, body changed after signing: one byte, a suffix, a prefix cut.
  for (let i = 0; i < 60; i++) {
    const body = JSON.stringify(validEnvelope());
    const at = rng.int(0, body.length - 1);
    const edits: Array<[string, string]> = [
      [
        "one character changed after signing",
        `${body.slice(0, at)}${body[at] === "a" ? "b" : "a"}${body.slice(at + 1)}`,
      ],
      ["a space appended after signing", `${body} `],
      ["cut short after signing", body.slice(0, at)],
    ];
    const [variant, sent] = edits[i % edits.length]!;
    cases.push({
      group: `unsigned: ${variant}`,
      expect: 401,
      request: async () => post(sent, { ...json, "x-hub-signature": await sign(body) }),
    });
  }
  return cases;
}

/** Signed with the real secret, but not a notification the ack path can read: 400. */
function signedMalformedCases(): Case[] {
  const cases: Case[] = [];
  const signed = (group: string, body: string | Uint8Array, expect = 400): Case => ({
    group,
    expect,
    request: async () => post(body, { ...json, "x-hub-signature": await sign(body) }),
  });
  for (let i = 0; i < 160; i++) {
    const body = JSON.stringify(validEnvelope());
    cases.push(signed("signed: truncated JSON", body.slice(0, rng.int(0, body.length - 1))));
  }
  const invalidUtf8 = [
    [0xff],
    [0xfe, 0xff],
    [0xc0, 0xaf],
    [0xed, 0xa0, 0x80],
    [0x80],
    [0xf8, 0x88, 0x80, 0x80, 0x80],
    [0xe6, 0xbc],
  ];
  for (let i = 0; i < 84; i++) {
    const bytes = encoder.encode(JSON.stringify(validEnvelope()));
    const at = i % 3 === 0 ? bytes.length : rng.int(0, bytes.length);
    const bad = invalidUtf8[i % invalidUtf8.length]!;
    const body = new Uint8Array([...bytes.slice(0, at), ...bad, ...bytes.slice(at)]);
    cases.push(signed("signed: not UTF-8", body));
  }
  const roots = [
    "",
    " ",
    "[]",
    "null",
    "42",
    '"notification_event"',
    "true",
    "{}",
    "{]",
    "NaN",
    `${"[".repeat(60_000)}${"]".repeat(60_000)}`,
    "\ufeff",
  ];
  for (const root of roots) for (let i = 0; i < 4; i++) cases.push(signed("signed: not a notification object", root));
  for (let i = 0; i < 30; i++) {
    const body = JSON.stringify(validEnvelope());
    cases.push(signed("signed: trailing garbage", `${body}${rng.pick(["x", "}", ",{}", "\u0000", " []"])}`));
    cases.push(
      signed(
        "signed: NaN/Infinity literal",
        body.replace(/"created_at":\d+/, `"created_at":${rng.pick(["NaN", "Infinity", "-Infinity"])}`),
      ),
    );
  }
  // Wrong types and missing fields in the envelope.
  const mutations: Array<[string, (envelope: Record<string, unknown>) => void]> = [
    ["type missing", (e) => delete e.type],
    ["type of another kind", (e) => (e.type = rng.pick(["notification", "NOTIFICATION_EVENT", "event", ""]))],
    ["type not a string", (e) => (e.type = rng.pick([1, null, true, [], {}]))],
    ["app_id missing", (e) => delete e.app_id],
    ["app_id not a string", (e) => (e.app_id = rng.pick([42, null, {}, [], true]))],
    ["app_id empty", (e) => (e.app_id = "")],
    ["id missing", (e) => delete e.id],
    ["id not a string", (e) => (e.id = rng.pick([42, {}, [], true]))],
    ["id empty", (e) => (e.id = "")],
    ["id null on a topic other than ping", (e) => (e.id = null)],
    ["topic missing", (e) => delete e.topic],
    ["topic not a string", (e) => (e.topic = rng.pick([7, null, ["contact.user.created"], {}]))],
    ["topic empty", (e) => (e.topic = "")],
    ["created_at not a number", (e) => (e.created_at = rng.pick(["yesterday", "1772450002", {}, true, null]))],
    ["delivery_attempts not a number", (e) => (e.delivery_attempts = rng.pick(["1", [], {}]))],
    ["data missing", (e) => delete e.data],
    ["data not an object", (e) => (e.data = rng.pick([null, [], "item", 1]))],
    ["data without item", (e) => (e.data = { type: "notification_event_data" })],
    [
      "item not an object",
      (e) => ((e.data as Record<string, unknown>).item = rng.pick([null, [], "contact", 5, true])),
    ],
  ];
  for (let round = 0; round < 14; round++) {
    for (const [name, mutate] of mutations) {
      const envelope = validEnvelope() as unknown as Record<string, unknown>;
      mutate(envelope);
      cases.push(signed(`signed: envelope ${name}`, JSON.stringify(envelope)));
    }
  }
  // Nested deeper than the queue can carry, in a field the consumer reads: 400, not a 503 Intercom would retry.
  for (let i = 0; i < 24; i++) {
    const depth = rng.pick([33, 40, 1_000, 5_000, 20_000, 100_000]);
    const topic = rng.pick<FixtureName>(["contact.user.updated", "event.created", "company.updated"]);
    const envelope = validEnvelope(APP, topic);
    const field = topic === "event.created" ? "metadata" : "custom_attributes";
    envelope.data.item[field] = { nested: "DEEP" };
    const body = JSON.stringify(envelope).replace('"DEEP"', `${"[".repeat(depth)}${"]".repeat(depth)}`);
    cases.push(signed(`signed: item nested deeper than 32 levels`, body));
  }
  // Too large to queue once projected (huge strings in fields the consumer reads, or in the envelope): 413.
  for (let i = 0; i < 24; i++) {
    const size = rng.int(130_000, 900_000);
    const envelope = validEnvelope(APP, "contact.user.updated");
    const where = i % 4;
    if (where === 0) envelope.data.item.name = rng.text(16) + "n".repeat(size);
    if (where === 1) envelope.app_id = "a".repeat(size);
    if (where === 2) envelope.topic = `t${"o".repeat(size)}`;
    if (where === 3) envelope.id = `notif_${"9".repeat(size)}`;
    cases.push(signed("signed: huge string in a queued field", JSON.stringify(envelope), 413));
  }
  return cases;
}

/** Bodies over 1 MiB: refused by Content-Length or while streaming, whoever signed them. */
function oversizedCases(): Case[] {
  const cases: Case[] = [];
  for (let i = 0; i < 30; i++) {
    const signedIt = i % 2 === 0;
    cases.push({
      group: "over 1 MiB: declared Content-Length",
      expect: 413,
      request: async () => {
        const envelope = validEnvelope();
        (envelope as Record<string, unknown>).links = { padding: "p".repeat(MAX_WEBHOOK_BYTES + rng.int(1, 400_000)) };
        const body = JSON.stringify(envelope);
        return post(body, { ...json, ...(signedIt ? { "x-hub-signature": await sign(body) } : {}) });
      },
    });
  }
  for (let i = 0; i < 20; i++) {
    cases.push({
      group: "over 1 MiB: chunked, no Content-Length",
      expect: 413,
      request: async () => {
        let sent = 0;
        const chunk = encoder.encode(`${"[".repeat(32 * 1024)}`);
        const stream = new ReadableStream<Uint8Array>({
          pull(controller) {
            controller.enqueue(chunk);
            sent += chunk.byteLength;
            if (sent > 3 * MAX_WEBHOOK_BYTES) controller.close();
          },
        });
        return post(stream, { ...json, "x-hub-signature": await sign("[") });
      },
    });
  }
  return cases;
}

/** Other methods and paths. */
function methodCases(): Case[] {
  const cases: Case[] = [];
  for (let i = 0; i < 10; i++) {
    for (const method of ["PUT", "PATCH", "DELETE", "OPTIONS"]) {
      const body = method === "OPTIONS" ? null : JSON.stringify(validEnvelope());
      cases.push({
        group: `wrong method: ${method}`,
        expect: 405,
        request: async () => post(body, { ...json, ...(body ? { "x-hub-signature": await sign(body) } : {}) }, method),
      });
    }
    cases.push({
      group: "URL validation: HEAD",
      expect: 200,
      request: async () => new Request(WEBHOOK_URL, { method: "HEAD" }),
    });
    cases.push({ group: "URL validation: GET", expect: 200, request: async () => new Request(WEBHOOK_URL) });
    const body = JSON.stringify(validEnvelope());
    cases.push({
      group: "wrong path",
      expect: 404,
      request: async () =>
        new Request(`${WEBHOOK_URL}/${rng.pick(["x", "v2", "intercom", "..%2F"])}`, {
          method: "POST",
          headers: { ...json, "x-hub-signature": await sign(body) },
          body,
        }),
    });
  }
  return cases;
}

const CONTENT_TYPES = [
  "text/plain",
  "application/xml",
  "multipart/form-data; boundary=x",
  "application/x-www-form-urlencoded",
  "application/json; charset=utf-16",
  "",
];

/** Content types other than JSON: unsigned is still 401; signed JSON is read for what it is (the signature covers the body, not the header). */
function contentTypeCases(): { refused: Case[]; accepted: Case[] } {
  const refused: Case[] = [];
  const accepted: Case[] = [];
  for (let i = 0; i < 30; i++) {
    const type = CONTENT_TYPES[i % CONTENT_TYPES.length]!;
    const headers: Record<string, string> = type ? { "content-type": type } : {};
    const unsigned = JSON.stringify(validEnvelope());
    refused.push({ group: "content type: unsigned", expect: 401, request: async () => post(unsigned, headers) });
    const envelope = validEnvelope(APP_UNKNOWN);
    const body = JSON.stringify(envelope);
    accepted.push({
      group: "content type: signed JSON",
      expect: 200,
      queues: { app_id: APP_UNKNOWN, id: envelope.id! },
      request: async () => post(body, { ...headers, "x-hub-signature": await sign(body) }),
    });
  }
  return { refused, accepted };
}

/** Weird but signed notification envelopes: accepted and queued, then handled (or logged) by the consumer. */
interface Accepted {
  case: Case;
  envelope: Envelope;
  /** What the consumer must log for it, when the sample checks it. */
  outcome?: { outcome: string; detail?: RegExp; by: "object_id" | "intercom_id" | "action"; value: string };
}

function acceptedCases(): Accepted[] {
  const out: Accepted[] = [];
  const accept = (
    group: string,
    envelope: Envelope,
    outcome?: Accepted["outcome"],
    extra?: (body: string) => string,
  ): Accepted => {
    const body = extra ? extra(JSON.stringify(envelope)) : JSON.stringify(envelope);
    return {
      envelope,
      outcome,
      case: {
        group,
        expect: 200,
        queues: { app_id: envelope.app_id, id: envelope.id! },
        request: async () => post(body, { ...json, "x-hub-signature": await sign(body) }),
      },
    };
  };
  for (let i = 0; i < 60; i++) {
    const envelope = validEnvelope();
    envelope.topic = `${rng.pick([
      "conversation.admin.replied",
      "visitor.signed_up",
      "ticket.created",
      `x.${rng.hex(6)}`,
      "CONTACT.USER.CREATED",
      "contact.user.created ",
    ])}.${i}`;
    out.push(
      accept("signed: unknown topic", envelope, {
        outcome: "ignored",
        by: "action",
        value: envelope.topic,
        detail: /is not handled by the source/,
      }),
    );
  }
  for (let i = 0; i < 10; i++) {
    const envelope = validEnvelope();
    envelope.topic = `unknown.${"long".repeat(rng.int(500, 2_000))}.${i}`;
    out.push(
      accept("signed: unknown topic, 2-8 KB long", envelope, {
        outcome: "ignored",
        by: "action",
        value: envelope.topic,
      }),
    );
  }
  for (let i = 0; i < 30; i++) {
    const envelope = validEnvelope(i % 2 ? APP_UNKNOWN : APP_OFF);
    out.push(
      accept("signed: app without a capturing connection", envelope, {
        outcome: "skipped",
        by: "object_id",
        value: envelope.id!,
        detail: i % 2 ? /no connection for Intercom app/ : /the source is switched off/,
      }),
    );
  }
  // Items of handled topics with missing fields or wrong types: the consumer logs the shape error and retries it.
  const itemEdits: Array<[FixtureName, string, (item: Item) => void]> = [
    ["contact.user.updated", "contact without id", (item) => delete item.id],
    ["contact.user.updated", "contact id an object", (item) => (item.id = { $oid: "x" })],
    ["contact.user.created", "email a number", (item) => (item.email = 42)],
    ["contact.user.created", "custom_attributes an array", (item) => (item.custom_attributes = ["a"])],
    ["contact.lead.created", "role an object", (item) => (item.role = { name: "lead" })],
    ["company.created", "company id a boolean", (item) => (item.id = true)],
    ["company.updated", "monthly_spend a string", (item) => (item.monthly_spend = "lots")],
    ["event.created", "event without a name", (item) => delete item.event_name],
    ["event.created", "metadata a string", (item) => (item.metadata = "format=csv")],
    ["company.contact.attached", "attachment without its contact", (item) => delete item.contact],
    ["conversation.user.created", "conversation without id", (item) => delete item.id],
  ];
  for (let round = 0; round < 10; round++) {
    for (const [topic, name, edit] of itemEdits) {
      const envelope = validEnvelope(APP, topic);
      edit(envelope.data.item);
      out.push(
        accept(`signed: item ${name}`, envelope, {
          outcome: "failed",
          by: "object_id",
          value: envelope.id!,
          detail: /unexpected payload shape/,
        }),
      );
    }
  }
  // Items the consumer can read but that name nobody, or hold odd values it tolerates.
  for (let i = 0; i < 40; i++) {
    const envelope = validEnvelope(APP, "contact.lead.created");
    const contactId = `rbc${String(i).padStart(21, "0")}`;
    Object.assign(envelope.data.item, {
      id: contactId,
      email: null,
      external_id: null,
      updated_at: rng.pick(["not a time", "", null, -1, 1e20]),
    });
    out.push(
      accept("signed: contact without email or external_id, odd updated_at", envelope, {
        outcome: "skipped",
        by: "intercom_id",
        value: contactId,
        detail: /neither a user external_id nor an email/,
      }),
    );
  }
  for (let i = 0; i < 20; i++) {
    const envelope = validEnvelope(APP, "contact.user.created");
    const contactId = `rbd${String(i).padStart(21, "0")}`;
    Object.assign(envelope.data.item, {
      id: contactId,
      external_id: `rb-deep-${i}`,
      email: `rb-deep-${i}@example.com`,
      custom_attributes: { deep: "DEEP_ATTRIBUTE", huge: "h".repeat(50_000), "🙂 key": rng.text(100) },
      notes: { data: ["n".repeat(200_000)] },
    });
    (envelope as Record<string, unknown>).links = "DEEP_LINKS";
    // Spliced in as text: nesting this deep is more than JSON.stringify can write (JSON.parse reads it).
    const deepText = (body: string) =>
      body
        .replace('"DEEP_ATTRIBUTE"', `${"[".repeat(28)}${"]".repeat(28)}`)
        .replace('"DEEP_LINKS"', `${'{"a":'.repeat(80_000)}1${"}".repeat(80_000)}`);
    out.push(
      accept(
        "signed: deep nesting and huge strings (projected away or within the queue limit)",
        envelope,
        { outcome: "captured", by: "intercom_id", value: contactId },
        deepText,
      ),
    );
  }
  for (let i = 0; i < 10; i++) {
    const envelope = validEnvelope(APP, "company.created");
    // Exactly 1 MiB: the largest body accepted.
    const base = JSON.stringify({ ...envelope, links: { padding: "" } });
    (envelope as Record<string, unknown>).links = { padding: "q".repeat(MAX_WEBHOOK_BYTES - base.length) };
    out.push(accept("signed: exactly 1 MiB", envelope));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

interface Result {
  case: Case;
  answer: Answer;
}

async function run(cases: readonly Case[]): Promise<Result[]> {
  return inBatches(cases, 25, async (item) => ({ case: item, answer: await call(await item.request()) }));
}

/** Every wrong status or non-problem error body, one line each. */
function defects(results: readonly Result[]): string[] {
  return results.flatMap(({ case: item, answer }) => {
    if (answer.status !== item.expect)
      return [`${item.group}: expected ${item.expect}, got ${answer.status} ${answer.body.slice(0, 200)}`];
    if (answer.status >= 400) {
      const defect = problemDefect(answer);
      if (defect) return [`${item.group}: ${answer.status} with ${defect}`];
    }
    return [];
  });
}

const processedKeys = async () =>
  new Set(
    (await env.DB.prepare("SELECT key FROM processed_notifications").all<{ key: string }>()).results.map(
      (row) => row.key,
    ),
  );

interface LogRow {
  outcome: string;
  object_id: string | null;
  intercom_id: string | null;
  action: string | null;
  detail: string | null;
}
const inboundLogs = async () =>
  (
    await env.DB.prepare(
      "SELECT outcome, object_id, intercom_id, action, detail FROM sync_logs WHERE direction = 'in'",
    ).all<LogRow>()
  ).results;

const figures: Record<string, unknown> = {};
let appConnectionId: string;
// Generated once, in a fixed order, so the seed alone decides every case.
const contentTypes = contentTypeCases();

describe("POST /webhooks/intercom under generated bad input", () => {
  beforeAll(async () => {
    appConnectionId = (await seedConnection({ workspaceId: "ws_rb_hooks", appId: APP })).id;
    await seedConnection({ workspaceId: "ws_rb_hooks_off", appId: APP_OFF, source: { enabled: false } });
  });

  it("refuses every unsigned, mis-signed, oversized or malformed request with its status and a problem: no 5xx, nothing queued, no D1 change", async () => {
    const cases = [
      ...unsignedCases(),
      ...signedMalformedCases(),
      ...oversizedCases(),
      ...methodCases(),
      ...contentTypes.refused,
    ];
    const before = await d1Snapshot();
    const started = Date.now();
    const results = await run(cases);
    figures.refused = {
      requests: results.length,
      ms: Date.now() - started,
      statuses: tally(results, (r) => String(r.answer.status)),
    };

    expect(
      results.filter((r) => r.answer.status >= 500).map((r) => `${r.case.group}: ${r.answer.status} ${r.answer.body}`),
    ).toEqual([]);
    expect(defects(results)).toEqual([]);
    expect(queued).toEqual([]);
    // Anything queued would reach the consumer within about a second: wait past that before comparing.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await d1Snapshot()).toEqual(before);
    expect(results.length).toBeGreaterThanOrEqual(1_500);
    expect(new Set(cases.map((c) => c.group)).size).toBeGreaterThanOrEqual(60);
  });

  it("accepts signed notifications with weird items, unknown topics or unknown apps, queues each once, and the consumer accounts for every one", async () => {
    queued.length = 0;
    const accepted = [
      ...acceptedCases(),
      ...contentTypes.accepted.map((item) => ({ case: item, envelope: undefined, outcome: undefined })),
    ];
    const acceptedCasesOnly = accepted.map((a) => a.case);
    const pings: Case[] = Array.from({ length: 20 }, (_, i) => {
      const body = JSON.stringify({
        ...validEnvelope(),
        topic: "ping",
        id: i % 2 ? null : `notif_ping_${i}`,
        data: { item: { type: "ping", message: "hi" } },
      });
      return {
        group: "signed: ping",
        expect: 200,
        request: async () => post(body, { ...json, "x-hub-signature": await sign(body) }),
      };
    });
    const results = await run([...acceptedCasesOnly, ...pings]);
    figures.accepted = { requests: results.length, statuses: tally(results, (r) => String(r.answer.status)) };
    expect(results.filter((r) => r.answer.status >= 500)).toEqual([]);
    expect(defects(results)).toEqual([]);

    // Queued once each, pings not at all.
    const expected = acceptedCasesOnly.map((c) => `${c.queues!.app_id}:${c.queues!.id}`).sort();
    expect(queued.map((m) => `${m.app_id}:${m.id}`).sort()).toEqual(expected);

    // The consumer accounts for every notification: processed (its idempotency key), or logged failed/skipped.
    const pending = async () => {
      const [keys, logs] = await Promise.all([processedKeys(), inboundLogs()]);
      const logged = new Set(
        logs.filter((row) => row.outcome === "failed" || row.outcome === "skipped").map((row) => row.object_id),
      );
      return acceptedCasesOnly.filter(
        (c) => !keys.has(`${c.queues!.app_id}:${c.queues!.id}`) && !logged.has(c.queues!.id),
      );
    };
    await waitFor(async () => (await pending()).length === 0, {
      timeoutMs: 40_000,
      intervalMs: 250,
      what: "the consumer to account for every accepted notification",
    });

    // Ignored topics are counted (not logged row by row): one count each, and no row.
    const logs = await inboundLogs();
    const ignoredCases = accepted.filter((a) => a.outcome?.outcome === "ignored");
    const counts = await syncLogCountsOf(appConnectionId);
    expect(counts["in.ignored"]).toBe(ignoredCases.length);
    const topics = new Set(ignoredCases.map((a) => a.outcome!.value));
    expect(logs.filter((row) => row.action !== null && topics.has(row.action))).toEqual([]);
    figures.ignored = counts["in.ignored"];

    // A sample of the others, outcome by outcome.
    const sample = accepted.filter((a) => a.outcome && a.outcome.outcome !== "ignored").filter((_, i) => i % 3 === 0);
    for (const { case: item, outcome } of sample) {
      const rows = logs.filter((row) => row[outcome!.by] === outcome!.value);
      expect(
        rows.map((row) => row.outcome),
        `${item.group} (${outcome!.value.slice(0, 60)})`,
      ).toContain(outcome!.outcome);
      if (outcome!.detail)
        expect(rows.find((row) => row.outcome === outcome!.outcome)!.detail).toMatch(outcome!.detail);
    }
    figures.sample = sample.length;
    figures.consumerOutcomes = tally(logs, (row) => row.outcome);

    // The consumer still works: a normal notification after all of that is captured.
    const canary = validEnvelope(APP, "contact.user.created");
    Object.assign(canary.data.item, {
      id: "rbcanary0000000000000001",
      external_id: "rb-canary",
      email: "rb-canary@example.com",
    });
    const body = JSON.stringify(canary);
    expect((await call(post(body, { ...json, "x-hub-signature": await sign(body) }))).status).toBe(200);
    await waitFor(
      async () =>
        (await inboundLogs()).some(
          (row) => row.intercom_id === "rbcanary0000000000000001" && row.outcome === "captured",
        ),
      { timeoutMs: 10_000, what: "the canary's capture" },
    );
    const total = (figures.refused as { requests: number }).requests + results.length + 1;
    figures.total = total;
    console.info({ msg: "robustness-webhooks figures", seed: SEED, ...figures });
    expect(total).toBeGreaterThanOrEqual(2_000);
  });
});
