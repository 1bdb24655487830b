/**
 * Intercom's webhook endpoint (README, How it works: ack path): size limit → HMAC check of the raw bytes → envelope → enqueue →
 * 200. Nothing else happens here (no D1, no Intercom call): routing, dedupe and storage are the source consumer's.
 * Never 410 (Intercom would disable the subscription) and never 500: a failure of ours is a 503 so Intercom retries.
 */

import { createRoute, z } from "@hono/zod-openapi";
import { nestsDeeperThan } from "../../graph/properties";
import { describeError } from "../../lib/errors";
import { log } from "../../lib/log";
import { messageBytes } from "../../lib/queue-batches";
import type { InboundMessage } from "../../source/inbound-message";
import { EXAMPLES } from "../examples";
import { ProblemError, problemOf, problemResponse } from "../problem";
import { problem } from "../problems";
import { router } from "../router";
import { readCappedBody } from "./capped-body";
import { inboundMessageOf, readEnvelope } from "./envelope";
import { verifySignature } from "./signature";

/** Intercom's payloads are small; anything larger is refused before it is read whole. */
export const MAX_WEBHOOK_BYTES = 1024 * 1024;
/** Queue messages are capped at 128 KB; leave room for the queue's own envelope. */
export const MAX_MESSAGE_BYTES = 120 * 1024;
/**
 * Intercom's items nest a few levels (custom attributes are scalars); the queue's serializer overflows its stack a
 * few thousand levels down, which would be a 503 that Intercom retries forever: refused as malformed instead.
 */
export const MAX_ITEM_DEPTH = 32;

const validateUrl = createRoute({
  method: "get",
  path: "/",
  summary: "Webhook URL validation",
  description: "Intercom validates the endpoint with a HEAD request (answered from this route, without a body).",
  responses: { 200: { description: "The endpoint exists." } },
});

const receive = createRoute({
  method: "post",
  path: "/",
  summary: "Receive an Intercom webhook notification",
  description:
    "Verifies `X-Hub-Signature` (HMAC-SHA1 of the raw body with the app's client secret), checks the " +
    "`notification_event` envelope, queues it for the source consumer and answers at once. `ping` is acknowledged " +
    "and not queued.",
  request: {
    headers: z.object({
      "x-hub-signature": z.string().optional().openapi({ description: "`sha1=` + hex HMAC-SHA1 of the raw body." }),
    }),
    body: {
      required: true,
      // A plain JSON Schema, not zod: the body is read and verified as raw bytes before it is parsed.
      content: {
        "application/json": {
          schema: {
            type: "object",
            description:
              "Intercom's notification envelope: `type`, `app_id`, `id`, `topic`, `created_at`, `data.item`.",
            required: ["type", "app_id", "id", "topic", "data"],
            example: EXAMPLES.webhook,
          },
        },
      },
    },
  },
  responses: {
    200: { description: "Accepted (queued, or a ping)." },
    400: problem("Not JSON, not a notification envelope, or an item nested deeper than 32 levels.", 400),
    401: problem("Missing or wrong signature.", 401),
    413: problem("The body exceeds 1 MiB, or its projection exceeds the queue's message size.", 413),
    503: problem("The notification could not be queued; Intercom retries it.", 503),
  },
});

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

export const webhooks = router()
  .openapi(validateUrl, (c) => c.body(null, 200))
  .openapi(receive, async (c) => {
    const started = Date.now();
    const bytes = await verifiedBody(c.req.raw, c.env.INTERCOM_CLIENT_SECRET);
    const check = readEnvelope(parseJson(bytes));
    if (!check.ok) {
      throw new ProblemError(
        400,
        check.detail,
        check.paths.map((path) => ({ path, message: "missing or invalid" })),
      );
    }
    const { envelope } = check;
    if (envelope.topic === "ping" || envelope.id === null) {
      log({ msg: "intercom ping", outcome: "acknowledged", app_id: envelope.app_id, topic: envelope.topic });
      return c.body(null, 200);
    }
    const message = queueableMessage(inboundMessageOf({ ...envelope, id: envelope.id }, started));
    try {
      await c.env.INBOUND.send(message, { contentType: "json" });
    } catch (error) {
      log({
        level: "error",
        msg: "webhook not queued: INBOUND send failed",
        outcome: "failed",
        ...about(message),
        error: describeError(error),
      });
      throw new ProblemError(503, "The notification could not be queued; please retry.");
    }
    // No log line here: the consumer logs this notification's outcome, and the ack path stays as lean as it can.
    return c.body(null, 200);
  })
  .onError((error) => {
    const problem = problemOf(error);
    if (problem) return problemResponse(problem.status, problem.message, problem.errors, problem.headers);
    // Anything unexpected is ours, and transient as far as Intercom can tell: a 503 makes it retry (never a 500).
    log({ level: "error", msg: "webhook failed unexpectedly", outcome: "failed", error: describeError(error) });
    return problemResponse(503, "The notification could not be accepted; please retry.");
  });

/** The raw body, once it is within the size cap and signed with the app's client secret (413, 503, 401 otherwise). */
async function verifiedBody(request: Request, secret: string | undefined): Promise<Uint8Array> {
  const body = await readCappedBody(request, MAX_WEBHOOK_BYTES);
  if (!body.ok) {
    log({ level: "warn", msg: "webhook refused: body over 1 MiB", outcome: "rejected", reason: body.reason });
    throw new ProblemError(413, "The body exceeds 1 MiB.");
  }
  if (!secret) {
    log({ level: "error", msg: "webhook cannot be verified: INTERCOM_CLIENT_SECRET is not set", outcome: "failed" });
    throw new ProblemError(503, "The connector is not configured to verify webhooks.");
  }
  if (!(await verifySignature(secret, body.bytes, request.headers.get("x-hub-signature")))) {
    log({ level: "warn", msg: "webhook refused: bad or missing signature", outcome: "rejected" });
    throw new ProblemError(401, "The X-Hub-Signature header is missing or does not match the body.");
  }
  return body.bytes;
}

/** The message, once it is known to fit the queue (400 when its item nests too deep, 413 when it is too large). */
function queueableMessage(message: InboundMessage): InboundMessage {
  if (nestsDeeperThan(message.notification.item, MAX_ITEM_DEPTH)) {
    log({
      level: "warn",
      msg: "webhook refused: its item nests too deep to be queued",
      outcome: "rejected",
      ...about(message),
    });
    throw new ProblemError(400, `The notification's item nests deeper than ${MAX_ITEM_DEPTH} levels.`, [
      { path: "data.item", message: "nests too deep" },
    ]);
  }
  const bytes = messageBytes(message);
  if (bytes > MAX_MESSAGE_BYTES) {
    log({
      level: "warn",
      msg: "webhook refused: its queue message would exceed the queue's size limit",
      outcome: "rejected",
      ...about(message),
      message_bytes: bytes,
    });
    throw new ProblemError(413, "The notification is too large to be queued.");
  }
  return message;
}

/** A notification's log fields: which app, topic and notification (never the item). */
function about(message: InboundMessage) {
  return { app_id: message.app_id, topic: message.notification.topic, notification_id: message.notification.id };
}

/** The body as JSON; a 400 problem when it is not UTF-8 JSON. */
function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(bytes));
  } catch {
    throw new ProblemError(400, "The body is not JSON.");
  }
}
