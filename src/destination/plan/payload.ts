/**
 * What Intercom should hold for a CDP user or account (pure): the default mappings (README, Connection settings) plus the
 * connection's custom mappings, each value coerced to its target attribute's type. Fields are keyed by Intercom
 * attribute path (`name`, `custom_attributes.health`), the same keys as `intercom_links.remote_state`.
 */
import type { FieldMapping } from "../../db/schema";
import {
  type AttributeType,
  CUSTOM_PREFIX,
  canClear,
  STANDARD_COMPANY_ATTRIBUTES,
  STANDARD_CONTACT_ATTRIBUTES,
} from "../../intercom/attributes";
import type { Fields } from "../../intercom/fields";
import { coerce } from "./coerce";

export type { Fields, FieldValue } from "../../intercom/fields";

export interface FieldWarning {
  path: string;
  from: string;
  reason: string;
}

export interface Payload {
  fields: Fields;
  /** Fields dropped because their value could not be coerced; the rest still syncs. */
  warnings: FieldWarning[];
  /** Targets whose CDP value is absent (removed, or never set): what `clear_removed` may clear. */
  absent: string[];
}

export interface UserInput {
  userId: string | null;
  email: string | null;
  properties: Record<string, unknown>;
}

export interface AccountInput {
  accountId: string;
  name: string | null;
  properties: Record<string, unknown>;
}

interface Source<T> {
  from: string;
  to: string;
  type: AttributeType;
  read: (input: T) => unknown;
}

export const CONTACT_DEFAULTS: Source<UserInput>[] = [
  { from: "email", to: "email", type: "string", read: (u) => u.email },
  { from: "user_id", to: "external_id", type: "string", read: (u) => u.userId },
  { from: "full_name", to: "name", type: "string", read: fullName },
  { from: "phone", to: "phone", type: "string", read: (u) => u.properties.phone },
  { from: "registered_at", to: "signed_up_at", type: "date", read: (u) => u.properties.registered_at },
];

export const COMPANY_DEFAULTS: Source<AccountInput>[] = [
  { from: "account_id", to: "company_id", type: "string", read: (a) => a.accountId },
  { from: "name", to: "name", type: "string", read: (a) => a.name },
  { from: "plan", to: "plan", type: "string", read: (a) => a.properties.plan },
  { from: "mrr", to: "monthly_spend", type: "integer", read: (a) => a.properties.mrr },
  { from: "registered_at", to: "remote_created_at", type: "date", read: (a) => a.properties.registered_at },
];

/** The contact fields a user maps to. */
export function contactPayload(user: UserInput, mappings: readonly FieldMapping[]): Payload {
  const custom = mappings.map((mapping) => customSource<UserInput>(mapping, STANDARD_CONTACT_ATTRIBUTES, readUser));
  return build(user, [...CONTACT_DEFAULTS, ...custom]);
}

/** The company fields an account maps to (`company_id` always included: it is the company's key). */
export function companyPayload(account: AccountInput, mappings: readonly FieldMapping[]): Payload {
  const custom = mappings
    .filter((mapping) => mapping.to !== "company_id")
    .map((mapping) => customSource<AccountInput>(mapping, STANDARD_COMPANY_ATTRIBUTES, readAccount));
  return build(account, [...COMPANY_DEFAULTS, ...custom]);
}

/** `full_name`, else `first_name` + `last_name`. */
function fullName(user: UserInput): unknown {
  const full = user.properties.full_name;
  if (typeof full === "string" && full.trim()) return full.trim();
  const parts = [user.properties.first_name, user.properties.last_name]
    .filter((part): part is string => typeof part === "string" && part.trim() !== "")
    .map((part) => part.trim());
  return parts.length ? parts.join(" ") : undefined;
}

function customSource<T>(
  mapping: FieldMapping,
  standard: Readonly<Record<string, AttributeType>>,
  reader: (input: T, from: string) => unknown,
): Source<T> {
  const type = mapping.to.startsWith(CUSTOM_PREFIX) ? mapping.type : (standard[mapping.to] ?? mapping.type);
  return { from: mapping.from, to: mapping.to, type, read: (input) => reader(input, mapping.from) };
}

function readUser(user: UserInput, from: string): unknown {
  if (from === "user_id") return user.userId;
  if (from === "email") return user.email;
  if (from === "full_name") return fullName(user);
  return readPath(user.properties, from);
}

function readAccount(account: AccountInput, from: string): unknown {
  if (from === "account_id") return account.accountId;
  if (from === "name") return account.name;
  return readPath(account.properties, from);
}

/** A property by name, or by dotted path into nested objects when no property has the whole name. */
function readPath(properties: Record<string, unknown>, path: string): unknown {
  if (path in properties) return properties[path];
  let current: unknown = properties;
  for (const key of path.split(".")) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function build<T>(input: T, sources: Source<T>[]): Payload {
  const fields: Fields = {};
  const warnings: FieldWarning[] = [];
  const absent: string[] = [];
  // Later sources (custom mappings) override earlier ones (defaults) for the same target.
  const byTarget = new Map(sources.map((source) => [source.to, source]));
  for (const source of byTarget.values()) {
    const raw = source.read(input);
    if (raw === undefined || raw === null) {
      absent.push(source.to);
      continue;
    }
    const result = coerce(raw, source.type);
    if (result.ok) fields[source.to] = source.to === "email" ? String(result.value).toLowerCase() : result.value;
    else warnings.push({ path: source.to, from: source.from, reason: result.reason });
  }
  return { fields, warnings, absent };
}

/**
 * The targets to clear (pure, `destination.clear_removed`): absent in the CDP, clearable in Intercom, and known to
 * hold a value there. A clear is recorded as `null` in the remote state, so the echo and a second removal cost nothing.
 */
export function clearedFields(absent: readonly string[], known: Record<string, unknown>): string[] {
  return absent.filter(
    (path) =>
      canClear("contact", path) && Object.hasOwn(known, path) && known[path] !== null && known[path] !== undefined,
  );
}

/** The fields of `desired` whose value Intercom is not known to hold. */
export function changedFields(desired: Fields, known: Record<string, unknown>): Fields {
  const changes: Fields = {};
  for (const [path, value] of Object.entries(desired)) {
    if (!(path in known) || known[path] !== value) changes[path] = value;
  }
  return changes;
}
