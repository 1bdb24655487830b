/** `conversation.user.created` → the two chat events of the `capture_chat_events` setting, for the contact who started the conversation. */
import { insertEvent } from "../../graph/events";
import { normalizeEmail } from "../../graph/users";
import { parseIntercomTime } from "../../intercom/times";
import { ConversationItem } from "../../intercom/webhook-items";
import { combine, type HandlerContext, type Work } from "../work";
import { type ContactRef, userOfContact } from "./activity-contact";

/** Named exactly so by the product (journy.io's connector captures the same pair). */
export const CHAT_EVENT_NAMES = ["Chat started", "Chat button clicked"] as const;

/**
 * Who started a conversation (pure): the first of its contacts (API ≥ 2.5) or its `user` (older API), with the
 * source author's email. The external_id is the CDP's id only when the author is a user, not a lead.
 */
export function conversationContact(conversation: ConversationItem): ContactRef {
  const contact = conversation.contacts?.contacts[0];
  const author = conversation.source?.author;
  const legacy = conversation.user;
  const authorIsContact = author?.type === "user" || author?.type === "lead";
  const isUser = author?.type === "user" || legacy?.type === "user";
  return {
    intercomId: contact?.id ?? legacy?.id ?? (authorIsContact ? (author?.id ?? null) : null),
    userId: isUser ? (contact?.external_id ?? legacy?.user_id ?? null) || null : null,
    email: normalizeEmail(authorIsContact ? author?.email : legacy?.email),
  };
}

/** Handles a contact-initiated conversation (the caller checked `capture_chat_events`). */
export async function handleChat(ctx: HandlerContext): Promise<Work> {
  const conversation = ConversationItem.parse(ctx.notification.item);
  const ref = conversationContact(conversation);
  const occurredAt = parseIntercomTime(conversation.created_at)?.ms ?? ctx.notification.created_at * 1000;
  const { user, work } = await userOfContact(ctx, ref, ["link", "user_id", "email"], { createWithUserId: true });
  if (!user) {
    return combine(work, {
      statements: [],
      entries: [
        ctx.entry({
          outcome: "skipped",
          objectType: "event",
          intercomId: ref.intercomId,
          detail: `the contact of conversation ${conversation.id} is not a CDP user (no link, no user external_id, no email)`,
        }),
      ],
    });
  }
  const statements = CHAT_EVENT_NAMES.map((name) =>
    insertEvent(
      ctx.db,
      {
        workspaceId: ctx.connection.workspaceId,
        userPk: user.pk,
        connectionId: ctx.connection.id,
        name,
        properties: {
          conversation_id: conversation.id,
          ...(ref.intercomId ? { intercom_contact_id: ref.intercomId } : {}),
        },
        occurredAt,
        source: "intercom",
        // Per conversation, not per notification: a redelivery or the sweep's copy adds nothing.
        dedupeKey: `intercom:${ctx.connection.appId}:conversation:${conversation.id}:${name}`,
      },
      ctx.now,
    ),
  );
  return combine(work, {
    statements,
    entries: [
      ctx.entry({
        outcome: "captured",
        objectType: "event",
        objectId: user.userId,
        intercomId: ref.intercomId,
        email: user.email,
        detail: `${CHAT_EVENT_NAMES.map((name) => `"${name}"`).join(" and ")} for conversation ${conversation.id}`,
      }),
    ],
  });
}
