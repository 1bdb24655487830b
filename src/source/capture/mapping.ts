/** Intercom contact → CDP user (pure): identity, remote state and the patch of what Intercom changed. */
import type { FieldMapping } from "../../db/schema";
import { normalizeEmail, type UserIdentity, type UserPatch } from "../../graph/users";
import { isoFromSeconds, unixSeconds } from "../../intercom/times";
import type { ContactItem } from "../../intercom/webhook-items";
import { customAttributeProperty, customAttributeState } from "../custom-attributes";
import { CUSTOM_ATTRIBUTE_PREFIX, type RemoteState } from "../echo";

/** Whether the contact is a user (not a lead): only a user's `external_id` is the CDP's `user_id`. */
export function isUserContact(item: Pick<ContactItem, "role">): boolean {
  return item.role === "user";
}

/** The CDP identity a contact names: `user_id` from a user's `external_id` (never a lead's UUID), and the email. */
export function contactIdentity(item: ContactItem): UserIdentity {
  return {
    userId: isUserContact(item) && item.external_id ? item.external_id : null,
    email: normalizeEmail(item.email),
  };
}

/** Whether the contact names anyone in the CDP at all. */
export function hasIdentity(identity: UserIdentity): boolean {
  return Boolean(identity.userId || identity.email);
}

/**
 * Intercom's values of the synced contact attributes in the REST representation of the remote state: email
 * lower-cased, `signed_up_at` (and custom attributes mapped as dates) in Unix seconds. Only the fields the item
 * carries: an absent field is unknown, not null.
 */
export function contactRemoteState(item: ContactItem, mappings: readonly FieldMapping[]): RemoteState {
  const state: RemoteState = {};
  if (item.email !== undefined) state.email = normalizeEmail(item.email);
  if (item.external_id !== undefined) state.external_id = item.external_id;
  if (item.role !== undefined) state.role = item.role;
  if (item.name !== undefined) state.name = item.name;
  if (item.phone !== undefined) state.phone = item.phone;
  if (item.signed_up_at !== undefined) state.signed_up_at = unixSeconds(item.signed_up_at);
  return { ...state, ...customAttributeState(item.custom_attributes, mappings) };
}

/**
 * The user patch of the attributes Intercom changed (`changes`, from `changedSince`): email, a user's external_id as
 * `user_id`, `full_name`, `phone`, `registered_at` (ISO), custom attributes under their mapped property names. The
 * contact's `role` lands as a property too; a contact we created carries the role we gave it, so it echoes like the rest.
 */
export function contactUserPatch(
  changes: RemoteState,
  item: ContactItem,
  mappings: readonly FieldMapping[],
): UserPatch {
  const patch: UserPatch = {};
  const properties: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(changes)) {
    switch (path) {
      case "email":
        if (typeof value === "string") patch.email = value;
        break;
      case "external_id":
        if (isUserContact(item) && typeof value === "string" && value !== "") patch.userId = value;
        break;
      case "role":
        if (typeof value === "string" && value !== "") properties.role = value;
        break;
      case "name":
        properties.full_name = value;
        break;
      case "phone":
        properties.phone = value;
        break;
      case "signed_up_at":
        properties.registered_at = typeof value === "number" ? isoFromSeconds(value) : null;
        break;
      default:
        if (path.startsWith(CUSTOM_ATTRIBUTE_PREFIX)) {
          const [property, landed] = customAttributeProperty(
            mappings,
            path.slice(CUSTOM_ATTRIBUTE_PREFIX.length),
            value,
          );
          properties[property] = landed;
        }
    }
  }
  if (Object.keys(properties).length > 0) patch.properties = properties;
  return patch;
}
