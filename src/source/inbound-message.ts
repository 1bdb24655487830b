/**
 * The INBOUND queue message: a verified Intercom notification, its item projected to what the consumer reads.
 * Validated again on consumption, because messages outlive deploys.
 */
import { z } from "zod";
import type { NotificationEnvelope } from "../api/intercom-webhook/envelope";
import { projectItem } from "./projection";

export const InboundNotification = z.object({
  /** Intercom's notification id: with the app id, the idempotency key. */
  id: z.string().min(1),
  topic: z.string().min(1),
  /** Unix seconds (the envelope's `created_at`). */
  created_at: z.number(),
  delivery_attempts: z.number().optional(),
  item: z.record(z.string(), z.unknown()),
});
export type InboundNotification = z.infer<typeof InboundNotification>;

export const InboundMessage = z.object({
  /** When the ack path accepted it (ms). */
  received_at: z.number(),
  /** Top level so that the dead-letter recorder finds the connection without knowing the rest. */
  app_id: z.string().min(1),
  notification: InboundNotification,
  /** `sweep`: a REST item the reconciliation sweep read (Unix-second times), not a webhook. */
  origin: z.enum(["webhook", "sweep"]).default("webhook"),
});
export type InboundMessage = z.input<typeof InboundMessage>;

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

/** Bytes of a message as the queue counts them (its JSON). */
export function messageBytes(message: InboundMessage): number {
  return new TextEncoder().encode(JSON.stringify(message)).byteLength;
}
