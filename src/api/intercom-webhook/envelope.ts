/** Intercom's notification envelope (Intercom's webhook notification object), as far as the ack path needs to read it. */
import { z } from "zod";
import { type InboundMessage, projectItem } from "../../source/inbound-message";

export const NOTIFICATION_TYPE = "notification_event";

export const NotificationEnvelope = z.object({
  type: z.literal(NOTIFICATION_TYPE),
  /** The Intercom workspace (`app.id_code`): how a notification finds its connection. */
  app_id: z.string().min(1),
  /** `notif_<uuid>`; null only for `ping`. */
  id: z.string().min(1).nullable(),
  topic: z.string().min(1),
  /** Unix seconds. */
  created_at: z.number().optional(),
  delivery_attempts: z.number().optional(),
  data: z.object({ item: z.record(z.string(), z.unknown()) }),
});
export type NotificationEnvelope = z.infer<typeof NotificationEnvelope>;

export type EnvelopeCheck =
  | { ok: true; envelope: NotificationEnvelope }
  | { ok: false; detail: string; paths: string[] };

/** Reads a parsed JSON body as a notification envelope, or says why it is not one. */
export function readEnvelope(body: unknown): EnvelopeCheck {
  if (typeof body !== "object" || body === null || (body as { type?: unknown }).type !== NOTIFICATION_TYPE) {
    return { ok: false, detail: `The body is not an Intercom "${NOTIFICATION_TYPE}".`, paths: ["type"] };
  }
  const parsed = NotificationEnvelope.safeParse(body);
  if (!parsed.success) {
    return {
      ok: false,
      detail: "The notification is missing fields the connector needs.",
      paths: parsed.error.issues.map((issue) => issue.path.join(".")),
    };
  }
  if (parsed.data.id === null && parsed.data.topic !== "ping") {
    return { ok: false, detail: "A notification other than ping must have an id.", paths: ["id"] };
  }
  return { ok: true, envelope: parsed.data };
}

/** The queue message of a verified notification (pure): the item projected, the envelope's time kept. */
export function inboundMessageOf(envelope: NotificationEnvelope & { id: string }, receivedAt: number): InboundMessage {
  return {
    received_at: receivedAt,
    app_id: envelope.app_id,
    notification: {
      id: envelope.id,
      topic: envelope.topic,
      created_at: envelope.created_at ?? Math.floor(receivedAt / 1000),
      ...(envelope.delivery_attempts === undefined ? {} : { delivery_attempts: envelope.delivery_attempts }),
      item: projectItem(envelope.data.item),
    },
  };
}
