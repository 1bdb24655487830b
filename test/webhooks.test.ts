import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { app } from "../src/api/app";
import { MAX_MESSAGE_BYTES, MAX_WEBHOOK_BYTES } from "../src/api/intercom-webhook/route";
import type { Env } from "../src/env";
import { InboundMessage } from "../src/source/inbound-message";
import { fixture, notification, sign, WEBHOOK_URL, webhookRequest } from "./helpers/webhooks";

/** The real app with a spy for INBOUND, so each answer can be checked against what was (not) enqueued. */
function harness(overrides: Partial<Env> = {}) {
  const send = vi.fn(async (_message: unknown, _options?: unknown) => undefined);
  const testEnv = { ...env, INBOUND: { send, sendBatch: vi.fn() }, ...overrides } as unknown as Env;
  const call = async (request: Request) => {
    const ctx = createExecutionContext();
    const res = await app.fetch(request, testEnv, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  };
  return { send, call };
}

describe("POST /webhooks/intercom (ack path)", () => {
  it("verifies, enqueues the projected notification with its app_id, and answers 200", async () => {
    const { send, call } = harness();
    const envelope = notification("contact.user.created", { appId: "app_ack" });
    const res = await call(await webhookRequest(envelope));
    expect(res.status).toBe(200);
    expect(send).toHaveBeenCalledTimes(1);
    const message = InboundMessage.parse(send.mock.calls[0]![0]);
    expect(message.app_id).toBe("app_ack");
    expect(message.notification).toMatchObject({
      id: envelope.id,
      topic: "contact.user.created",
      created_at: envelope.created_at,
    });
    expect(message.notification.item).not.toHaveProperty("tags");
    expect(send.mock.calls[0]![1]).toEqual({ contentType: "json" });
  });

  it("acknowledges ping (id null) without enqueuing it", async () => {
    const { send, call } = harness();
    const res = await call(await webhookRequest(fixture("ping")));
    expect(res.status).toBe(200);
    expect(send).not.toHaveBeenCalled();
  });

  it("refuses a missing, malformed or wrong signature with 401 and enqueues nothing", async () => {
    const { send, call } = harness();
    const body = JSON.stringify(notification("contact.user.created", { appId: "app_ack" }));
    const tampered = body.replace("Jamie Rivera", "Jamie Riviera");
    const responses = await Promise.all([
      call(await webhookRequest(body, { signature: null })),
      call(await webhookRequest(body, { signature: "sha1=zz" })),
      call(await webhookRequest(body, { signature: (await sign(body)).replace("sha1=", "sha256=") })),
      call(await webhookRequest(tampered, { signature: await sign(body) })),
      call(await webhookRequest(body, { signature: await sign(body, "another-apps-secret") })),
    ]);
    for (const res of responses) {
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
    }
    expect(send).not.toHaveBeenCalled();
  });

  it("accepts an upper-case hex signature (the digest, not its spelling, is compared)", async () => {
    const { send, call } = harness();
    const body = JSON.stringify(notification("company.created", { appId: "app_ack" }));
    const res = await call(
      await webhookRequest(body, { signature: (await sign(body)).toUpperCase().replace("SHA1=", "sha1=") }),
    );
    expect(res.status).toBe(200);
    expect(send).toHaveBeenCalledTimes(1);
  });

  it("refuses a body over 1 MiB by its Content-Length, and a chunked one while streaming: 413", async () => {
    const { send, call } = harness();
    const big = JSON.stringify({
      ...notification("contact.user.created", { appId: "app_ack" }),
      padding: "x".repeat(MAX_WEBHOOK_BYTES),
    });
    const declared = await call(await webhookRequest(big));
    expect(declared.status).toBe(413);

    // No Content-Length: a stream of 64 KiB chunks, cut off once past the limit.
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
        if (pulled > 100) controller.close();
      },
    });
    const chunked = await call(
      new Request(WEBHOOK_URL, {
        method: "POST",
        headers: { "content-type": "application/json", "x-hub-signature": await sign("{}") },
        body: stream,
      }),
    );
    expect(chunked.status).toBe(413);
    expect(pulled).toBeLessThan(30);
    expect(send).not.toHaveBeenCalled();
  });

  it("refuses non-JSON and non-notification bodies with 400", async () => {
    const { send, call } = harness();
    const notJson = await call(await webhookRequest("this is not json"));
    const notUtf8 = await call(await webhookRequest(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])));
    const notNotification = await call(await webhookRequest({ type: "something_else", topic: "x" }));
    const noTopic = await call(
      await webhookRequest({ ...notification("contact.user.created", { appId: "a" }), topic: undefined }),
    );
    expect([notJson.status, notUtf8.status, notNotification.status, noTopic.status]).toEqual([400, 400, 400, 400]);
    expect(await noTopic.json()).toMatchObject({ status: 400, errors: [{ path: "topic" }] });
    expect(send).not.toHaveBeenCalled();
  });

  it("answers 413 when the projected queue message would exceed ~120 KB", async () => {
    const { send, call } = harness();
    const huge = notification("contact.user.updated", {
      appId: "app_ack",
      edit: (item) => {
        item.custom_attributes = Object.fromEntries(
          Array.from({ length: 250 }, (_, i) => [`attribute_${i}`, "y".repeat(600)]),
        );
      },
    });
    const res = await call(await webhookRequest(huge));
    expect(JSON.stringify(huge).length).toBeGreaterThan(MAX_MESSAGE_BYTES);
    expect(res.status).toBe(413);
    expect(send).not.toHaveBeenCalled();
  });

  it("answers 503 (never 410 or 500) when the queue refuses the message, so Intercom retries", async () => {
    const { call } = harness();
    const failing = harness({
      INBOUND: {
        send: vi.fn(async () => Promise.reject(new Error("queue unavailable"))),
        sendBatch: vi.fn(),
      } as unknown as Env["INBOUND"],
    });
    const res = await failing.call(await webhookRequest(notification("event.created", { appId: "app_ack" })));
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    // And 503 when the secret is missing: a configuration fault of ours, not the sender's.
    const unconfigured = harness({ INTERCOM_CLIENT_SECRET: "" });
    expect((await unconfigured.call(await webhookRequest(notification("event.created", { appId: "a" })))).status).toBe(
      503,
    );
    expect((await call(await webhookRequest(notification("event.created", { appId: "a" })))).status).toBe(200);
  });

  it("HEAD validates the URL and the routes are in the OpenAPI document", async () => {
    expect((await exports.default.fetch(WEBHOOK_URL, { method: "HEAD" })).status).toBe(200);
    const doc = (await (await exports.default.fetch("https://connector.test/openapi.json")).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    expect(Object.keys(doc.paths["/webhooks/intercom"] ?? {}).sort()).toEqual(["get", "post"]);
  });
});
