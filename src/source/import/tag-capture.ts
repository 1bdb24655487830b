/**
 * The `import.contact.tags` notification an import with `include_tags` queues per contact: the contact's tag names
 * land as the CDP user property `intercom_tags` (a sorted array of names). Intercom's webhooks carry no tag names
 * the source captures, so only an import writes the property.
 */
import { z } from "zod";
import { linkByIntercomId } from "../../graph/links";
import { getUser, normalizeEmail, type UserRow, updateUser } from "../../graph/users";
import { userOfContact } from "../capture/activity-contact";
import { combine, type HandlerContext, nothing, only, type Work } from "../work";

/** The topic of an imported contact's tag names (not an Intercom topic: only an import sends it). */
export const CONTACT_TAGS_TOPIC = "import.contact.tags";
/** The CDP user property holding the tag names. */
export const TAGS_PROPERTY = "intercom_tags";

/** The item: the contact's ids and its tag names. */
export const ContactTagsItem = z.object({
  type: z.literal("contact"),
  id: z.string().min(1),
  role: z.string().nullish(),
  external_id: z.string().nullish(),
  email: z.string().nullish(),
  tags: z.array(z.string()),
});
export type ContactTagsItem = z.infer<typeof ContactTagsItem>;

/** Whether a stored property value holds exactly these names (pure). */
export function sameTagNames(stored: unknown, names: readonly string[]): boolean {
  return (
    Array.isArray(stored) && stored.length === names.length && stored.every((name, index) => name === names[index])
  );
}

/** Handles an imported contact's tag names (the caller checked `create_users_from_contacts`). */
export async function handleContactTags(ctx: HandlerContext): Promise<Work> {
  const item = ContactTagsItem.parse(ctx.notification.item);
  const workspaceId = ctx.connection.workspaceId;
  const logged = { objectType: "user", intercomId: item.id } as const;
  let found: { user: UserRow | null; work: Work };
  if (item.tags.length === 0) {
    // No tags is no reason to create a user: only a linked user's earlier tags are cleared.
    const link = await linkByIntercomId(ctx.db, ctx.connection.id, "contact", item.id);
    found = { user: link ? await getUser(ctx.db, workspaceId, link.localPk) : null, work: nothing() };
  } else {
    const ref = {
      intercomId: item.id,
      userId: item.role === "user" ? item.external_id || null : null,
      email: normalizeEmail(item.email),
    };
    found = await userOfContact(ctx, ref, ["link", "user_id", "email"], { createWithUserId: true });
  }
  const { user, work } = found;
  if (!user) {
    return combine(work, only(ctx.entry({ ...logged, outcome: "skipped", detail: "the contact is not a CDP user" })));
  }
  const stored = user.properties[TAGS_PROPERTY];
  if (sameTagNames(stored, item.tags) || (item.tags.length === 0 && stored === undefined)) {
    return combine(
      work,
      only(ctx.entry({ ...logged, outcome: "skipped", objectId: user.userId, detail: `${TAGS_PROPERTY} unchanged` })),
    );
  }
  await updateUser(ctx.db, workspaceId, user.pk, { properties: { [TAGS_PROPERTY]: item.tags } }, { now: ctx.now });
  return combine(
    work,
    only(
      ctx.entry({
        ...logged,
        outcome: "captured",
        objectId: user.userId,
        email: user.email,
        detail: `${TAGS_PROPERTY}: ${item.tags.length} tag${item.tags.length === 1 ? "" : "s"}`,
      }),
    ),
  );
}
