/** Coercion of CDP values to an Intercom attribute's data type (pure). */
import type { AttributeType } from "../../intercom/attributes";

export type Coerced = { ok: true; value: string | number | boolean } | { ok: false; reason: string };

/** Intercom rejects longer string values of custom attributes. */
export const MAX_STRING_LENGTH = 255;
const MAX_INT32 = 2_147_483_647;
const TRUE_WORDS = new Set(["true", "yes", "1", "on"]);
const FALSE_WORDS = new Set(["false", "no", "0", "off"]);

/** Converts `value` to `type`, or says why it cannot be (the caller drops that field with a warning). */
export function coerce(value: unknown, type: AttributeType): Coerced {
  switch (type) {
    case "string":
      return toText(value);
    case "integer":
      return toInteger(value);
    case "float":
      return toFloat(value);
    case "boolean":
      return toBoolean(value);
    case "date":
    case "datetime":
      return toUnixSeconds(value);
  }
}

function toText(value: unknown): Coerced {
  if (typeof value === "string") {
    return value.length <= MAX_STRING_LENGTH
      ? { ok: true, value }
      : { ok: false, reason: `a string longer than ${MAX_STRING_LENGTH} characters` };
  }
  if (typeof value === "number" && Number.isFinite(value)) return { ok: true, value: String(value) };
  if (typeof value === "boolean") return { ok: true, value: String(value) };
  return { ok: false, reason: `${describe(value)}, not a string` };
}

function toFloat(value: unknown): Coerced {
  const number = numeric(value);
  return number === null ? { ok: false, reason: `${describe(value)}, not a number` } : { ok: true, value: number };
}

function toInteger(value: unknown): Coerced {
  const number = numeric(value);
  if (number === null) return { ok: false, reason: `${describe(value)}, not a number` };
  const integer = Math.trunc(number);
  if (Math.abs(integer) > MAX_INT32) return { ok: false, reason: "a number outside Intercom's 32-bit integer range" };
  return { ok: true, value: integer };
}

function toBoolean(value: unknown): Coerced {
  if (typeof value === "boolean") return { ok: true, value };
  if (value === 1 || value === 0) return { ok: true, value: value === 1 };
  if (typeof value === "string") {
    const word = value.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return { ok: true, value: true };
    if (FALSE_WORDS.has(word)) return { ok: true, value: false };
  }
  return { ok: false, reason: `${describe(value)}, not a boolean` };
}

/** ISO-8601 strings, Unix seconds, or Unix milliseconds (numbers too large to be seconds) → Unix seconds. */
function toUnixSeconds(value: unknown): Coerced {
  if (typeof value === "number" && Number.isFinite(value)) {
    return { ok: true, value: Math.floor(Math.abs(value) >= 1e11 ? value / 1000 : value) };
  }
  if (typeof value === "string" && value.trim() !== "") {
    const asNumber = Number(value);
    if (Number.isFinite(asNumber)) return toUnixSeconds(asNumber);
    const ms = Date.parse(value);
    if (Number.isFinite(ms)) return { ok: true, value: Math.floor(ms / 1000) };
  }
  return { ok: false, reason: `${describe(value)}, not a date` };
}

function numeric(value: unknown): number | null {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "string" && value.trim() !== "") {
    const number = Number(value.trim());
    return Number.isFinite(number) ? number : null;
  }
  return null;
}

/** The kind of a value, never the value itself: reasons end up in logs, and values may be personal data. */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return `a string (${value.length} characters)`;
  if (typeof value === "number") return Number.isFinite(value) ? "a number" : "a non-finite number";
  return `a ${typeof value}`;
}
