/**
 * `POST /contacts/search` semantics, free of storage: parsing and validating the query, sort and pagination,
 * matching one record, and spotting equality lookups that an index can answer without a scan.
 */
import { IntercomError } from "./errors";

/** How a field compares: `text-ci` is text compared without case (email, email_domain); dates match by UTC day. */
export type FieldKind = "text" | "text-ci" | "number" | "boolean" | "date";

export type Operator = "=" | "!=" | "IN" | "NIN" | "~" | "!~" | "^" | "$" | ">" | "<" | ">=" | "<=";

export interface Filter {
  kind: "filter";
  field: string;
  fieldKind: FieldKind;
  operator: Operator;
  value: unknown;
}

export interface Group {
  kind: "group";
  operator: "AND" | "OR";
  children: QueryNode[];
}

export type QueryNode = Filter | Group;

export interface Sort {
  field: string;
  fieldKind: FieldKind;
  descending: boolean;
}

/** Intercom's limits: groups nest at most two deep and hold at most 15 filters. */
const MAX_GROUP_DEPTH = 2;
const MAX_GROUP_SIZE = 15;
const DEFAULT_PER_PAGE = 50;
const MAX_PER_PAGE = 150;
const DAY_SECONDS = 86_400;

/** Which operators each kind of field accepts (dates: only `=`, `>`, `<`, as Intercom documents). */
const OPERATORS: Record<FieldKind, ReadonlySet<Operator>> = {
  text: new Set(["=", "!=", "IN", "NIN", "~", "!~", "^", "$"]),
  "text-ci": new Set(["=", "!=", "IN", "NIN", "~", "!~", "^", "$"]),
  number: new Set(["=", "!=", "IN", "NIN", ">", "<", ">=", "<="]),
  boolean: new Set(["=", "!="]),
  date: new Set(["=", ">", "<"]),
};

const invalidQuery = (message: string) => new IntercomError(400, "parameter_invalid", message);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Parses and validates a search query; `kindOf` says how a field compares, or undefined when it is not searchable. */
export function parseQuery(raw: unknown, kindOf: (field: string) => FieldKind | undefined, depth = 0): QueryNode {
  if (!isRecord(raw)) throw invalidQuery("query must be an object");
  if (raw.operator === "AND" || raw.operator === "OR") {
    if (depth >= MAX_GROUP_DEPTH) throw invalidQuery(`Search queries can nest at most ${MAX_GROUP_DEPTH} levels`);
    if (!Array.isArray(raw.value) || raw.value.length === 0)
      throw invalidQuery(`${raw.operator} needs a non-empty list of filters`);
    if (raw.value.length > MAX_GROUP_SIZE)
      throw invalidQuery(`A search group can hold at most ${MAX_GROUP_SIZE} filters`);
    return {
      kind: "group",
      operator: raw.operator,
      children: raw.value.map((child) => parseQuery(child, kindOf, depth + 1)),
    };
  }
  return parseFilter(raw, kindOf);
}

function parseFilter(raw: Record<string, unknown>, kindOf: (field: string) => FieldKind | undefined): Filter {
  const { field, operator, value } = raw;
  if (typeof field !== "string") throw invalidQuery("Each filter needs a field");
  const fieldKind = kindOf(field);
  if (!fieldKind) throw invalidQuery(`'${field}' is not a searchable field`);
  if (
    typeof operator !== "string" ||
    !(OPERATORS.text.has(operator as Operator) || OPERATORS.number.has(operator as Operator))
  ) {
    throw invalidQuery(`'${String(operator)}' is not a valid operator`);
  }
  const op = operator as Operator;
  if (!OPERATORS[fieldKind].has(op))
    throw invalidQuery(
      `The operator '${op}' is not supported on ${fieldKind === "date" ? "date " : ""}field '${field}'`,
    );
  checkValue(field, fieldKind, op, value);
  return { kind: "filter", field, fieldKind, operator: op, value };
}

function checkValue(field: string, kind: FieldKind, op: Operator, value: unknown): void {
  const scalarOk = (v: unknown) =>
    kind === "number" || kind === "date"
      ? typeof v === "number" && Number.isFinite(v)
      : kind === "boolean"
        ? typeof v === "boolean"
        : typeof v === "string";
  const ok =
    op === "IN" || op === "NIN"
      ? Array.isArray(value) && value.every(scalarOk)
      : (op === "=" || op === "!=") && value === null
        ? true
        : scalarOk(value);
  if (!ok) throw invalidQuery(`The value for '${field}' ${op} is not valid`);
}

const textOf = (v: unknown, kind: FieldKind) => (kind === "text-ci" ? String(v).toLowerCase() : String(v));
const dayOf = (unixSeconds: number) => Math.floor(unixSeconds / DAY_SECONDS);

/** Whether a record matches; `get` returns the record's value of a field (null when unset). */
export function matches(node: QueryNode, get: (field: string) => unknown): boolean {
  if (node.kind === "group") {
    return node.operator === "AND"
      ? node.children.every((c) => matches(c, get))
      : node.children.some((c) => matches(c, get));
  }
  const actual = get(node.field) ?? null;
  const { operator: op, value, fieldKind: kind } = node;
  if (value === null) return op === "=" ? actual === null : actual !== null;
  if (kind === "date") {
    if (actual === null) return false;
    const diff = dayOf(actual as number) - dayOf(value as number);
    return op === "=" ? diff === 0 : op === ">" ? diff > 0 : diff < 0;
  }
  const equal = (expected: unknown) =>
    actual !== null &&
    (kind === "text" || kind === "text-ci" ? textOf(actual, kind) === textOf(expected, kind) : actual === expected);
  switch (op) {
    case "=":
      return equal(value);
    case "!=":
      return !equal(value);
    case "IN":
      return (value as unknown[]).some(equal);
    case "NIN":
      return !(value as unknown[]).some(equal);
    case ">":
      return actual !== null && (actual as number) > (value as number);
    case "<":
      return actual !== null && (actual as number) < (value as number);
    case ">=":
      return actual !== null && (actual as number) >= (value as number);
    case "<=":
      return actual !== null && (actual as number) <= (value as number);
  }
  // Text operators compare without case, like Intercom's "contains" and "starts with".
  const haystack = actual === null ? null : String(actual).toLowerCase();
  const needle = String(value).toLowerCase();
  switch (op) {
    case "~":
      return haystack?.includes(needle) ?? false;
    case "!~":
      return haystack === null || !haystack.includes(needle);
    case "^":
      return haystack?.startsWith(needle) ?? false;
    case "$":
      return haystack?.endsWith(needle) ?? false;
  }
}

/** One value to look up in an index: a filter `field = value` (or `IN`) on an indexed field. */
export interface IndexLookup {
  field: string;
  value: string;
}

/**
 * Lookups whose results are a superset of the query's matches, or null when only a scan will do.
 * A filter gives its own values, an AND group the lookups of its first indexable child, an OR group
 * the union of its children's (only if every child is indexable).
 */
export function indexLookups(node: QueryNode, indexed: ReadonlySet<string>): IndexLookup[] | null {
  if (node.kind === "filter") {
    if (!indexed.has(node.field) || node.value === null) return null;
    if (node.operator === "=") return [{ field: node.field, value: String(node.value) }];
    if (node.operator === "IN") return (node.value as unknown[]).map((v) => ({ field: node.field, value: String(v) }));
    return null;
  }
  if (node.operator === "AND") {
    for (const child of node.children) {
      const lookups = indexLookups(child, indexed);
      if (lookups) return lookups;
    }
    return null;
  }
  const union: IndexLookup[] = [];
  for (const child of node.children) {
    const lookups = indexLookups(child, indexed);
    if (!lookups) return null;
    union.push(...lookups);
  }
  return union;
}

/** Parses `sort: {field, order}`: order defaults to descending (Spec 2.16); a bad one is 400 `invalid_sort_order`. */
export function parseSort(raw: unknown, kindOf: (field: string) => FieldKind | undefined): Sort | null {
  if (raw === undefined || raw === null) return null;
  if (!isRecord(raw) || typeof raw.field !== "string") throw invalidQuery("sort needs a field");
  const fieldKind = kindOf(raw.field);
  if (!fieldKind) throw invalidQuery(`'${raw.field}' is not a sortable field`);
  const order = raw.order ?? "descending";
  if (order !== "ascending" && order !== "descending") {
    throw new IntercomError(
      400,
      "invalid_sort_order",
      `Invalid sort order '${String(order)}'. Must be one of: ascending, descending`,
    );
  }
  return { field: raw.field, fieldKind, descending: order === "descending" };
}

/** Orders two values of a sort field; unset values come last in both directions. */
export function compareForSort(a: unknown, b: unknown, sort: Sort): number {
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : 1;
  if (b === null || b === undefined) return -1;
  const x = sort.fieldKind === "text-ci" ? String(a).toLowerCase() : a;
  const y = sort.fieldKind === "text-ci" ? String(b).toLowerCase() : b;
  const order = x < y ? -1 : x > y ? 1 : 0;
  return sort.descending ? -order : order;
}

export interface PageRequest {
  perPage: number;
  offset: number;
}

/** Parses `pagination: {per_page, starting_after}`; the cursor is opaque to clients (it encodes an offset). */
export function parsePagination(raw: unknown): PageRequest {
  if (raw === undefined || raw === null) return { perPage: DEFAULT_PER_PAGE, offset: 0 };
  if (!isRecord(raw)) throw invalidQuery("pagination must be an object");
  const perPage = raw.per_page ?? DEFAULT_PER_PAGE;
  if (!Number.isInteger(perPage) || (perPage as number) < 1 || (perPage as number) > MAX_PER_PAGE) {
    throw invalidQuery(`per_page must be an integer between 1 and ${MAX_PER_PAGE}`);
  }
  let offset = 0;
  if (raw.starting_after !== undefined && raw.starting_after !== null) {
    offset = decodeCursor(raw.starting_after);
  }
  return { perPage: perPage as number, offset };
}

const CURSOR_PREFIX = "sim-offset:";

/** The `starting_after` cursor of the page that begins at `offset`. */
export function encodeCursor(offset: number): string {
  return btoa(`${CURSOR_PREFIX}${offset}`);
}

function decodeCursor(cursor: unknown): number {
  let text = "";
  try {
    text = typeof cursor === "string" ? atob(cursor) : "";
  } catch {
    // Not base64: reported below like any other unknown cursor.
  }
  const offset = text.startsWith(CURSOR_PREFIX) ? Number(text.slice(CURSOR_PREFIX.length)) : NaN;
  if (!Number.isInteger(offset) || offset < 0) {
    throw new IntercomError(
      400,
      "client_error",
      "Invalid starting_after param. Please try again using a starting_after value from a paginated response",
    );
  }
  return offset;
}

/** Intercom's `pages` object for a page of a result of `total` records. */
export function pagesJson(page: PageRequest, total: number) {
  const nextOffset = page.offset + page.perPage;
  return {
    type: "pages",
    page: Math.floor(page.offset / page.perPage) + 1,
    per_page: page.perPage,
    total_pages: Math.ceil(total / page.perPage),
    ...(nextOffset < total ? { next: { per_page: page.perPage, starting_after: encodeCursor(nextOffset) } } : {}),
  };
}
