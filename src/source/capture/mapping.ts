/**
 * Intercom contacts and companies → CDP users and accounts (pure): a contact's identity, the remote state of an item
 * (Intercom's values of the synced attributes, in the REST representation the destination records), and the user or
 * account patch of what Intercom changed. Custom attributes land under the CDP property a destination mapping takes
 * them from, so a round trip lands where it started.
 */
import type { FieldMapping } from "../../db/schema";
import type { AccountPatch } from "../../graph/accounts";
import { normalizeEmail, type UserIdentity, type UserPatch } from "../../graph/users";
import { CUSTOM_PREFIX } from "../../intercom/attributes";
import { isoFromSeconds, unixSeconds } from "../../intercom/times";
import type { CompanyItem, ContactItem } from "../../intercom/webhook-items";
import type { RemoteState } from "../echo";

// Contacts

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
        if (path.startsWith(CUSTOM_PREFIX)) {
          const [property, landed] = customAttributeProperty(mappings, path.slice(CUSTOM_PREFIX.length), value);
          properties[property] = landed;
        }
    }
  }
  if (Object.keys(properties).length > 0) patch.properties = properties;
  return patch;
}

// Companies

/** The plan name of a company's `plan` (an object `{type, id, name}`, `{}`, null, or a plain name). */
export function planName(plan: CompanyItem["plan"]): string | null {
  if (plan === undefined || plan === null) return null;
  if (typeof plan === "string") return plan === "" ? null : plan;
  return plan.name ?? null;
}

/**
 * Intercom's values of the synced company attributes in the remote state's representation: `plan` as the plan name,
 * `remote_created_at` (and custom attributes mapped as dates) in Unix seconds. Only the fields the item carries
 * (attachment items have `plan_id`, no `plan`).
 */
export function companyRemoteState(item: CompanyItem, mappings: readonly FieldMapping[]): RemoteState {
  const state: RemoteState = {};
  if (item.name !== undefined) state.name = item.name;
  if (item.plan !== undefined) state.plan = planName(item.plan);
  if (item.monthly_spend !== undefined) state.monthly_spend = item.monthly_spend;
  if (item.remote_created_at !== undefined) state.remote_created_at = unixSeconds(item.remote_created_at);
  return { ...state, ...customAttributeState(item.custom_attributes, mappings) };
}

/** The account patch of the attributes Intercom changed: name, `plan`, `mrr`, `registered_at` (ISO), custom ones. */
export function companyAccountPatch(changes: RemoteState, mappings: readonly FieldMapping[]): AccountPatch {
  const patch: AccountPatch = {};
  const properties: Record<string, unknown> = {};
  for (const [path, value] of Object.entries(changes)) {
    switch (path) {
      case "name":
        patch.name = typeof value === "string" ? value : null;
        break;
      case "plan":
        properties.plan = value;
        break;
      case "monthly_spend":
        properties.mrr = value;
        break;
      case "remote_created_at":
        properties.registered_at = typeof value === "number" ? isoFromSeconds(value) : null;
        break;
      default:
        if (path.startsWith(CUSTOM_PREFIX)) {
          const [property, landed] = customAttributeProperty(mappings, path.slice(CUSTOM_PREFIX.length), value);
          properties[property] = landed;
        }
    }
  }
  if (Object.keys(properties).length > 0) patch.properties = properties;
  return patch;
}

// Custom attributes

const DATE_TYPES: ReadonlySet<FieldMapping["type"]> = new Set(["date", "datetime"]);

function mappingOf(mappings: readonly FieldMapping[], name: string): FieldMapping | undefined {
  const target = `${CUSTOM_PREFIX}${name}`;
  return mappings.find((mapping) => mapping.to === target);
}

/**
 * The CDP property of custom attribute `name`: the `from` of the destination mapping that targets
 * `custom_attributes.<name>` (so a round trip lands where it started), else the attribute's own name.
 */
export function propertyOfCustomAttribute(mappings: readonly FieldMapping[], name: string): string {
  return mappingOf(mappings, name)?.from ?? name;
}

/**
 * `custom_attributes.<name>` entries of an item, in the remote state's REST representation: an attribute mapped as a
 * date holds Unix seconds (what the destination writes and records), whatever form the item gave it in.
 */
export function customAttributeState(
  attributes: Record<string, unknown> | null | undefined,
  mappings: readonly FieldMapping[],
): RemoteState {
  const state: RemoteState = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    const isDate = DATE_TYPES.has(mappingOf(mappings, name)?.type ?? "string");
    state[`${CUSTOM_PREFIX}${name}`] = isDate && value !== null ? (unixSeconds(value) ?? value) : (value ?? null);
  }
  return state;
}

/** The CDP property and value of a changed custom attribute; dates land as ISO strings, like every CDP time. */
export function customAttributeProperty(
  mappings: readonly FieldMapping[],
  name: string,
  value: unknown,
): [string, unknown] {
  const mapping = mappingOf(mappings, name);
  const isDate = mapping !== undefined && DATE_TYPES.has(mapping.type) && typeof value === "number";
  return [mapping?.from ?? name, isDate ? isoFromSeconds(value) : value];
}
