/**
 * The Intercom attributes a mapping may target: the writable standard ones with their data types, or any
 * `custom_attributes.<name>` (whose type comes from the workspace's data attributes).
 */
import type { FieldMapping } from "../db/schema";

export type AttributeType = FieldMapping["type"];
export type IntercomModel = "contact" | "company";

/** Writable standard attributes of contacts (REST `POST/PUT /contacts`) and their types. */
export const STANDARD_CONTACT_ATTRIBUTES: Readonly<Record<string, AttributeType>> = {
  email: "string",
  external_id: "string",
  name: "string",
  phone: "string",
  avatar: "string",
  owner_id: "string",
  signed_up_at: "date",
  last_seen_at: "date",
  unsubscribed_from_emails: "boolean",
};

/** Writable standard attributes of companies (REST `POST /companies`) and their types. */
export const STANDARD_COMPANY_ATTRIBUTES: Readonly<Record<string, AttributeType>> = {
  company_id: "string",
  name: "string",
  plan: "string",
  monthly_spend: "integer",
  remote_created_at: "date",
  size: "integer",
  website: "string",
  industry: "string",
};

export const CUSTOM_PREFIX = "custom_attributes.";

/**
 * Standard contact attributes Intercom clears on `null`: the ones its OpenAPI description (2.16,
 * `update_contact_request`) marks `nullable`. `email`, `external_id` and `role` are not; no standard company attribute
 * is (`update_company_request`).
 */
const CLEARABLE_CONTACT_ATTRIBUTES: ReadonlySet<string> = new Set([
  "name",
  "phone",
  "avatar",
  "owner_id",
  "signed_up_at",
  "last_seen_at",
  "unsubscribed_from_emails",
]);

/**
 * Whether Intercom accepts `null` for `target` (what `destination.clear_removed` sends): a contact's custom attribute
 * (`custom_attributes` takes any values, null included) or a nullable standard one. A company's custom attributes are
 * described as string-valued and its standard attributes as non-nullable, so none of them is cleared.
 */
export function canClear(model: IntercomModel, target: string): boolean {
  if (model === "company") return false;
  return target.startsWith(CUSTOM_PREFIX) || CLEARABLE_CONTACT_ATTRIBUTES.has(target);
}

/** Custom attribute names: alphanumerics, currency symbols, hyphens and underscores; no `.` or `$`; ≤ 190 chars. */
const CUSTOM_NAME = /^[\p{L}\p{N}_\-\p{Sc}]{1,190}$/u;

export type TargetCheck =
  | { ok: true; kind: "standard"; name: string; type: AttributeType }
  | { ok: true; kind: "custom"; name: string }
  | { ok: false; message: string };

/** Whether `target` is a standard attribute of `model` or a well-formed custom attribute path. */
export function checkTarget(model: IntercomModel, target: string): TargetCheck {
  if (target.startsWith(CUSTOM_PREFIX)) {
    const name = target.slice(CUSTOM_PREFIX.length);
    if (!CUSTOM_NAME.test(name) || name.includes("$")) {
      return { ok: false, message: `"${name}" is not a valid Intercom custom attribute name` };
    }
    return { ok: true, kind: "custom", name };
  }
  const standard = model === "contact" ? STANDARD_CONTACT_ATTRIBUTES : STANDARD_COMPANY_ATTRIBUTES;
  const type = standard[target];
  if (!type) {
    return {
      ok: false,
      message: `"${target}" is not a writable ${model} attribute; use one of ${Object.keys(standard).join(", ")} or ${CUSTOM_PREFIX}<name>`,
    };
  }
  return { ok: true, kind: "standard", name: target, type };
}
