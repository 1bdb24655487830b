/**
 * The property merge as one SQL expression, so that a write merges into whatever the row holds when the statement
 * runs (no read-modify-write race, no retry loop). SQLite's `json_patch` is JSON merge-patch (RFC 7396): `null`
 * removes a key, and an object merges into an object. The CDP's contract replaces a top-level value whole, so keys
 * whose new value is an object are first set to a scalar placeholder (in place: the key keeps its position and a
 * repeated write yields the same text). `mergeProperties` in `./properties.ts` is the same merge in TypeScript.
 */
import { type SQL, sql } from "drizzle-orm";
import { isPlainObject, mergeProperties, type Properties, propertiesBytes, sameJson } from "./properties";

/**
 * Stored properties of one user or account, as JSON bytes: a D1 row holds at most 2 MB (segments and ids
 * included), and one bound parameter at most 2 MB too (SQLITE_TOOBIG beyond).
 */
export const MAX_STORED_PROPERTIES_BYTES = 1024 * 1024;

/** `stored` (a JSON text expression: a column, or a literal) with `patch` merged in; `stored` itself without one. */
export function mergedPropertiesSql(stored: SQL, patch: Record<string, unknown> | undefined): SQL {
  const entries = Object.entries(patch ?? {}).filter(([, value]) => value !== undefined);
  if (entries.length === 0) return stored;
  const replaced = entries.filter(([, value]) => isPlainObject(value)).map(([key]) => [key, 0]);
  const base =
    replaced.length > 0 ? sql`json_patch(${stored}, ${JSON.stringify(Object.fromEntries(replaced))})` : stored;
  return sql`json_patch(${base}, ${JSON.stringify(Object.fromEntries(entries))})`;
}

/** A condition that the JSON text expression `merged` fits the stored-properties limit (true without a limit). */
export function fitsSql(merged: SQL, maxBytes: number | undefined): SQL {
  return maxBytes === undefined ? sql`1` : sql`octet_length(${merged}) <= ${maxBytes}`;
}

/** A write refused because the stored properties would outgrow the limit; nothing was written. */
export class PropertiesTooLargeError extends Error {
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`the stored properties would take ${bytes} bytes; at most ${limit} are kept`);
    this.name = "PropertiesTooLargeError";
  }
}

/**
 * For a write the database did not apply: throws `PropertiesTooLargeError` when the limit refused it (the size computed
 * from the exact state before, read in the same batch). Otherwise the merge changed nothing; should the TypeScript
 * model of the merge disagree, that is a bug, and it throws rather than report a lost write as "unchanged".
 */
export function checkNotRefused(
  before: Properties,
  patch: Record<string, unknown> | undefined,
  maxBytes: number | undefined,
): void {
  if (!patch) return;
  const merged = mergeProperties(before, patch);
  const bytes = propertiesBytes(merged);
  if (maxBytes !== undefined && bytes > maxBytes) throw new PropertiesTooLargeError(bytes, maxBytes);
  if (!sameJson(merged, before)) throw new Error("property merge: the database kept a change out of the row");
}
