/** Pure helpers for property bags: merge with `null` removing a key, and structural equality. */

export type Properties = Record<string, unknown>;

/**
 * `base` with `patch` applied, exactly as the SQL merge (`./property-merge-sql.ts`, SQLite's `json_patch`) applies it:
 * a `null` removes the key, any other value replaces the stored one whole; inside an object value a `null` member is
 * not kept (JSON merge-patch, RFC 7396, reads it as "absent"). Arrays are kept as they are.
 */
export function mergeProperties(base: Properties, patch: Record<string, unknown>): Properties {
  const next = new Map(Object.entries(base));
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || value === undefined) next.delete(key);
    else next.set(key, withoutNullMembers(value));
  }
  // fromEntries defines own properties: a key named `__proto__` stays data.
  return Object.fromEntries(next);
}

/** A value as merge-patch stores it: objects lose their `null` members, at every depth (arrays are left alone). */
export function withoutNullMembers(value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  const kept: Array<[string, unknown]> = [];
  for (const [key, member] of Object.entries(value)) {
    if (member !== null && member !== undefined) kept.push([key, withoutNullMembers(member)]);
  }
  return Object.fromEntries(kept);
}

/** A JSON object (not an array, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Deep equality of JSON-like values (key order ignored). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((value, i) => sameJson(value, other[i]));
  }
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  const keys = Object.keys(left);
  return (
    keys.length === Object.keys(right).length && keys.every((key) => key in right && sameJson(left[key], right[key]))
  );
}

/** The same segments as a set (order and duplicates ignored). */
export function sameSegments(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((segment) => right.has(segment));
}

/**
 * Whether `value` nests objects or arrays deeper than `maxDepth` levels (a scalar is depth 0). It never looks below
 * `maxDepth + 1` levels, so a hostile million-level value cannot overflow the stack here.
 */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (maxDepth <= 0) return true;
  const children = Array.isArray(value) ? value : Object.values(value);
  return children.some((child) => nestsDeeperThan(child, maxDepth - 1));
}

/** Bytes of a property bag as stored (its UTF-8 JSON). */
export function propertiesBytes(properties: Properties): number {
  return new TextEncoder().encode(JSON.stringify(properties)).byteLength;
}
