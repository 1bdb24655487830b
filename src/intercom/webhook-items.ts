/**
 * The shapes of Intercom notification items the source consumer reads (Intercom's webhook models), as zod schemas that keep only
 * the fields we use. They accept both origins: webhook items (ISO times) and REST items (Unix seconds).
 */
import { z } from "zod";

/** Intercom ids are strings; a number is read as its decimal string. */
const Id = z.union([z.string(), z.number().transform(String)]);
const NullableId = Id.nullable().optional();
const Text = z.string().nullable().optional();
/** ISO-8601 string (webhooks) or Unix seconds (REST). */
const Time = z.union([z.string(), z.number()]).nullable().optional();
const Attributes = z.record(z.string(), z.unknown()).nullable().optional();

export const ContactItem = z.object({
  type: z.string().optional(),
  id: Id,
  role: Text,
  external_id: NullableId,
  email: Text,
  phone: Text,
  name: Text,
  signed_up_at: Time,
  created_at: Time,
  updated_at: Time,
  custom_attributes: Attributes,
  /** `contact.merged` only, and not always (Intercom's webhook models). */
  merged_from: z.object({ id: Id }).nullable().optional(),
});
export type ContactItem = z.infer<typeof ContactItem>;

/** Webhook `plan` is `{type, id, name}`, `{}` or null; REST reads give the object too; writes take a string. */
const Plan = z.union([z.string(), z.object({ name: z.string().nullable().optional() }), z.null()]).optional();

export const CompanyItem = z.object({
  type: z.string().optional(),
  id: Id,
  company_id: NullableId,
  name: Text,
  plan: Plan,
  monthly_spend: z.number().nullable().optional(),
  remote_created_at: Time,
  created_at: Time,
  updated_at: Time,
  custom_attributes: Attributes,
});
export type CompanyItem = z.infer<typeof CompanyItem>;

/** `company.contact.attached|detached`: no `type` at item level. */
export const AttachmentItem = z.object({ company: CompanyItem, contact: ContactItem });
export type AttachmentItem = z.infer<typeof AttachmentItem>;

/** `contact.deleted` / `company.deleted`: a minimal payload. */
export const DeletedItem = z.object({ id: Id, external_id: NullableId, type: z.string().optional() });
export type DeletedItem = z.infer<typeof DeletedItem>;

const Author = z.object({ type: z.string().nullable().optional(), id: NullableId, email: Text }).nullable().optional();

/** A Conversation: the API model of 2.5+ (`source`, `contacts`) or the older one (`user`). */
export const ConversationItem = z.object({
  type: z.string().optional(),
  id: Id,
  created_at: Time,
  source: z.object({ author: Author }).nullable().optional(),
  contacts: z
    .object({ contacts: z.array(z.object({ type: z.string().optional(), id: Id, external_id: NullableId })) })
    .nullable()
    .optional(),
  user: z
    .object({ type: z.string().nullable().optional(), id: NullableId, user_id: NullableId, email: Text })
    .nullable()
    .optional(),
});
export type ConversationItem = z.infer<typeof ConversationItem>;

/** `event.created`: a data event. */
export const EventItem = z.object({
  type: z.string().optional(),
  event_name: z.string().min(1),
  id: NullableId,
  intercom_user_id: NullableId,
  user_id: NullableId,
  email: Text,
  metadata: z.record(z.string(), z.unknown()).nullable().optional(),
  created_at: Time,
});
export type EventItem = z.infer<typeof EventItem>;
