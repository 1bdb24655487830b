/** Intercom company → CDP account (pure): remote state and the patch of what Intercom changed. */
import type { FieldMapping } from "../db/schema";
import type { AccountPatch } from "../graph/accounts";
import { isoFromSeconds, unixSeconds } from "../intercom/times";
import type { CompanyItem } from "../intercom/webhook-items";
import { customAttributeProperty, customAttributeState } from "./custom-attributes";
import { CUSTOM_ATTRIBUTE_PREFIX, type RemoteState } from "./echo";

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
