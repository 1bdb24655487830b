/** `event.created` → an event of the CDP user, with its metadata as properties; our own triggered events excepted. */
import { eventEchoKey, insertEvent } from "../../graph/events";
import { normalizeEmail } from "../../graph/users";
import { unixSeconds } from "../../intercom/times";
import { EventItem } from "../../intercom/webhook-items";
import { OWN_EVENT_DETAIL } from "../echo";
import { readOwnEvent } from "../reads";
import { combine, type HandlerContext, only, type Work } from "../work";
import { userOfContact } from "./activity-contact";

/**
 * Field an import sets on the events it lists for a user contact (src/source/import/parts.ts): its `user_id` is then
 * the contact's `external_id`, the CDP's id, and a user may be created from it (webhook items never carry it).
 */
export const IMPORT_USER_CONTACT_FIELD = "import_user_contact";

/** Handles a data event (the caller checked `capture_user_events`). */
export async function handleUserEvent(ctx: HandlerContext): Promise<Work> {
  const event = EventItem.parse(ctx.notification.item);
  const createdAt = unixSeconds(event.created_at) ?? ctx.notification.created_at;
  const contactId = event.intercom_user_id ?? null;
  const logged = { objectType: "event", intercomId: contactId } as const;

  if (contactId && (await readOwnEvent(ctx, eventEchoKey(ctx.connection.id, contactId, event.event_name, createdAt)))) {
    return only(ctx.entry({ ...logged, outcome: "skipped", detail: OWN_EVENT_DETAIL }));
  }
  // A webhook's item does not say whether the contact is a user or a lead (whose `user_id` is an Intercom UUID): the
  // id is good for a lookup, but a user is only created from the email. An import's item says: a user contact's
  // event may create its user by `user_id`, even without an email, before the contact's own message lands.
  const ref = { intercomId: contactId, userId: event.user_id || null, email: normalizeEmail(event.email) };
  const createWithUserId = ctx.notification.item[IMPORT_USER_CONTACT_FIELD] === true;
  const { user, work } = await userOfContact(ctx, ref, ["user_id", "email", "link"], { createWithUserId });
  if (!user) {
    return combine(
      work,
      only(
        ctx.entry({
          ...logged,
          outcome: "skipped",
          detail: `the contact of event "${event.event_name}" is not a CDP user`,
        }),
      ),
    );
  }
  const dedupeKey = `intercom:${ctx.connection.appId}:event:${contactId ?? ref.userId ?? ref.email}:${event.event_name}:${createdAt}`;
  const insert = insertEvent(
    ctx.db,
    {
      workspaceId: ctx.connection.workspaceId,
      userPk: user.pk,
      connectionId: ctx.connection.id,
      name: event.event_name,
      properties: event.metadata ?? {},
      occurredAt: createdAt * 1000,
      source: "intercom",
      // Intercom itself dedupes events on contact + name + created_at: so do we, whatever the origin.
      dedupeKey,
    },
    ctx.now,
  );
  return combine(work, {
    statements: [insert],
    entries: [
      ctx.entry({
        ...logged,
        outcome: "captured",
        objectId: user.userId,
        email: user.email,
        detail: `event "${event.event_name}"`,
      }),
    ],
  });
}
