/** Data attributes: Intercom's standard ones per model, and the rules for writing custom attribute values. */
import { invalid } from "./errors";
import type { AttributeModel, CustomAttributeRecord, CustomValue, DataType } from "./types";

export const DATA_TYPES: readonly DataType[] = ["string", "integer", "float", "boolean", "date", "datetime"];

interface StandardAttribute {
  name: string;
  full_name: string;
  label: string;
  data_type: DataType;
  api_writable: boolean;
}

const std = (
  name: string,
  label: string,
  data_type: DataType,
  api_writable = true,
  full_name = name,
): StandardAttribute => ({
  name,
  full_name,
  label,
  data_type,
  api_writable,
});

/** The standard attributes `GET /data_attributes` lists (a subset of Intercom's, covering what the connector maps). */
const STANDARD: Record<AttributeModel, StandardAttribute[]> = {
  contact: [
    std("id", "ID", "string", false),
    std("external_id", "User ID", "string"),
    std("role", "Role", "string"),
    std("name", "Name", "string"),
    std("email", "Email", "string"),
    std("email_domain", "Email domain", "string", false),
    std("phone", "Phone", "string"),
    std("avatar", "Avatar", "string"),
    std("owner_id", "Owner", "string"),
    std("unsubscribed_from_emails", "Unsubscribed from emails", "boolean"),
    std("signed_up_at", "Signed up", "date"),
    std("last_seen_at", "Last seen", "date"),
    std("created_at", "Created at", "date", false),
    std("updated_at", "Updated at", "date", false),
  ],
  // As in Intercom's list, the plan attribute is named "name" with full_name "plan.name".
  company: [
    std("id", "ID", "string", false),
    std("company_id", "Company ID", "string", false),
    std("name", "Company name", "string"),
    std("name", "Plan", "string", false, "plan.name"),
    std("monthly_spend", "Monthly Spend", "float"),
    std("remote_created_at", "Company created at", "date"),
    std("last_request_at", "Company last seen", "date", false),
    std("size", "Company size", "integer"),
    std("website", "Company website", "string"),
    std("industry", "Company industry", "string"),
    std("user_count", "People", "integer", false),
    std("session_count", "Company web sessions", "integer", false),
  ],
};

/** The `data_attribute` objects of the standard attributes of a model. */
export function standardAttributes(model: AttributeModel) {
  return STANDARD[model].map((a) => ({
    type: "data_attribute",
    name: a.name,
    full_name: a.full_name,
    label: a.label,
    data_type: a.data_type,
    api_writable: a.api_writable,
    ui_writable: false,
    messenger_writable: true,
    custom: false,
    archived: false,
    model,
  }));
}

/** The `data_attribute` object of a custom attribute. */
export function customAttributeJson(a: CustomAttributeRecord) {
  return {
    id: a.id,
    type: "data_attribute",
    name: a.name,
    full_name: `custom_attributes.${a.name}`,
    label: a.name,
    description: a.description,
    data_type: a.data_type,
    api_writable: true,
    ui_writable: false,
    messenger_writable: a.messenger_writable,
    custom: true,
    archived: false,
    admin_id: a.admin_id,
    created_at: a.created_at,
    updated_at: a.created_at,
    model: a.model,
  };
}

/** Intercom's rule for attribute names (legacy reference): no dots or dollars, at most 190 characters. */
export function isValidAttributeName(name: string): boolean {
  return name.trim() !== "" && name.length <= 190 && !/[.$]/.test(name);
}

const MAX_STRING_LENGTH = 255;

/** Checks one value against a data type; returns it normalised (datetime strings become Unix seconds). */
function coerce(name: string, dataType: DataType, value: unknown): CustomValue {
  const wrongType = () => invalid(`Custom attribute '${name}' must be of type ${dataType}`);
  if (typeof value === "object")
    throw invalid(`Custom attribute '${name}' must be a string, number or boolean, not an object or array`);
  switch (dataType) {
    case "string":
      if (typeof value !== "string") throw wrongType();
      if (value.length > MAX_STRING_LENGTH)
        throw invalid(`Custom attribute '${name}' is longer than ${MAX_STRING_LENGTH} characters`);
      return value;
    case "integer":
    case "date":
      if (!Number.isSafeInteger(value)) throw wrongType();
      return value as number;
    case "float":
      if (typeof value !== "number" || !Number.isFinite(value)) throw wrongType();
      return value;
    case "boolean":
      if (typeof value !== "boolean") throw wrongType();
      return value;
    case "datetime": {
      if (Number.isSafeInteger(value)) return value as number;
      const ms = typeof value === "string" ? Date.parse(value) : NaN;
      if (Number.isNaN(ms)) throw wrongType();
      return Math.floor(ms / 1000);
    }
  }
}

/**
 * Validates a `custom_attributes` write against the workspace's definitions of that model.
 * Returns the normalised patch, where null means "clear this attribute".
 */
export function checkCustomAttributes(
  input: unknown,
  definitions: ReadonlyMap<string, CustomAttributeRecord>,
): Record<string, CustomValue | null> {
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw invalid("custom_attributes must be an object");
  const patch: Record<string, CustomValue | null> = {};
  for (const [name, value] of Object.entries(input)) {
    const definition = definitions.get(name);
    if (!definition)
      throw invalid(`Custom attribute '${name}' does not exist; create it with POST /data_attributes first`);
    patch[name] = value === null ? null : coerce(name, definition.data_type, value);
  }
  return patch;
}

/** Applies a checked patch to current values; returns the new values and whether anything changed. */
export function mergeCustomAttributes(
  current: Record<string, CustomValue>,
  patch: Record<string, CustomValue | null>,
): { values: Record<string, CustomValue>; changed: boolean } {
  const values = { ...current };
  let changed = false;
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) {
      if (name in values) {
        delete values[name];
        changed = true;
      }
    } else if (values[name] !== value) {
      values[name] = value;
      changed = true;
    }
  }
  return { values, changed };
}
