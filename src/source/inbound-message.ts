/**
 * The INBOUND queue message: a verified Intercom notification whose item is projected to the fields the source
 * consumer reads (messages are capped at 128 KB: contacts drop tags, notes, location, subscriptions…; conversations
 * drop bodies and parts). Validated again on consumption, because messages outlive deploys. The projection is pure;
 * the shape of the item decides, so a projected item still parses with the item schemas (intercom/webhook-items.ts).
 */
import { z } from "zod";

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
  /**
   * `sweep`: a REST item the reconciliation sweep read (Unix-second times), not a webhook. `import`: a REST item an
   * import read: no idempotency key (its capture is idempotent: an unchanged item is an echo, an older one stale) and
   * its outcomes are counted, not logged row by row, except failures (README, "Import").
   */
  origin: z.enum(["webhook", "sweep", "import"]).default("webhook"),
});
export type InboundMessage = z.input<typeof InboundMessage>;

/** The INBOUND message of an item the connector read from Intercom itself (a sweep's or an import's). */
export function readItemMessage(
  appId: string,
  origin: "sweep" | "import",
  now: number,
  notification: InboundNotification,
): InboundMessage {
  return { received_at: now, app_id: appId, origin, notification };
}

type Item = Record<string, unknown>;

const CONTACT_FIELDS = [
  "type",
  "id",
  "role",
  "external_id",
  "email",
  "phone",
  "name",
  "signed_up_at",
  "created_at",
  "updated_at",
  "custom_attributes",
  "merged_from",
  "deleted",
] as const;

const COMPANY_FIELDS = [
  "type",
  "id",
  "company_id",
  "name",
  "plan",
  "monthly_spend",
  "remote_created_at",
  "created_at",
  "updated_at",
  "custom_attributes",
  "deleted",
] as const;

const EVENT_FIELDS = [
  "type",
  "event_name",
  "id",
  "intercom_user_id",
  "user_id",
  "email",
  "metadata",
  "created_at",
] as const;

/** The item reduced to the fields the consumer reads for its shape; unknown shapes keep `type` and `id` only. */
export function projectItem(item: Item): Item {
  switch (item.type) {
    case "contact":
      return pick(item, CONTACT_FIELDS);
    case "company":
      return pick(item, COMPANY_FIELDS);
    case "event":
      return pick(item, EVENT_FIELDS);
    case "conversation":
      return projectConversation(item);
  }
  if (isRecord(item.company) && isRecord(item.contact)) {
    // company.contact.attached|detached: `{company, contact}` without a type.
    return { company: pick(item.company, COMPANY_FIELDS), contact: pick(item.contact, CONTACT_FIELDS) };
  }
  return pick(item, ["type", "id"]);
}

/** Who started the conversation, and when: its contacts, the source's author, the pre-2.5 `user`. */
function projectConversation(item: Item): Item {
  const projected = pick(item, ["type", "id", "created_at", "updated_at"]);
  if (isRecord(item.source) && isRecord(item.source.author)) {
    projected.source = { author: pick(item.source.author, ["type", "id", "email"]) };
  }
  if (isRecord(item.contacts) && Array.isArray(item.contacts.contacts)) {
    projected.contacts = {
      type: item.contacts.type,
      contacts: item.contacts.contacts.filter(isRecord).map((contact) => pick(contact, ["type", "id", "external_id"])),
    };
  }
  if (isRecord(item.user)) projected.user = pick(item.user, ["type", "id", "user_id", "email"]);
  return projected;
}

function pick(source: Item, fields: readonly string[]): Item {
  const out: Item = {};
  for (const field of fields) if (Object.hasOwn(source, field)) out[field] = source[field];
  return out;
}

function isRecord(value: unknown): value is Item {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
