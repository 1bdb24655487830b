/** Hono context typing and request-body helpers shared by the REST routes. */
import type { Context } from "hono";
import { badParameter, IntercomError, invalid } from "./errors";
import type { Region } from "./types";
import type { Workspace } from "./workspace";

/** The body as parsed once by the journal middleware. */
export type ParsedBody = { ok: true; value: unknown } | { ok: false; raw: string };

export interface SimEnv {
  Variables: {
    /** Region of the host the request reached (path prefix or X-Sim-Region). */
    region: Region;
    body: ParsedBody;
    /** The workspace of the bearer token; set on authenticated routes. */
    ws: Workspace;
  };
}

/** Parses a body as JSON, or as a form when the client sent one (the OAuth token exchange accepts both). */
export function parseBody(text: string, contentType: string | undefined): ParsedBody {
  if (text === "") return { ok: true, value: undefined };
  if (contentType?.includes("application/x-www-form-urlencoded")) {
    return { ok: true, value: Object.fromEntries(new URLSearchParams(text)) };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, raw: text };
  }
}

/** The request's JSON object body ({} when empty); invalid JSON is Intercom's 400 `parameter_invalid`. */
export function bodyObject(c: Context<SimEnv>): Record<string, unknown> {
  const body = c.get("body");
  if (!body.ok) throw new IntercomError(400, "parameter_invalid", "There was a problem in the JSON you submitted");
  if (body.value === undefined) return {};
  if (typeof body.value !== "object" || body.value === null || Array.isArray(body.value))
    throw invalid("The request body must be a JSON object");
  return body.value as Record<string, unknown>;
}

/** Throws Intercom's `bad 'x' parameter` for the first key not in `allowed`. */
export function rejectUnknownKeys(body: Record<string, unknown>, allowed: ReadonlySet<string>): void {
  for (const key of Object.keys(body)) if (!allowed.has(key)) throw badParameter(key);
}

/** A string field: undefined when absent, null when null; anything else is a 400. */
export function optionalString(body: Record<string, unknown>, key: string): string | null | undefined {
  const value = body[key];
  if (value === undefined || value === null || typeof value === "string") return value;
  throw invalid(`${key} must be a string`);
}

/** An integer field (Unix seconds, sizes): undefined when absent, null when null; anything else is a 400. */
export function optionalInteger(body: Record<string, unknown>, key: string): number | null | undefined {
  const value = body[key];
  if (value === undefined || value === null || Number.isSafeInteger(value)) return value as number | null | undefined;
  throw invalid(`${key} must be an integer`);
}

/** A boolean field: undefined when absent; anything else but a boolean is a 400. */
export function optionalBoolean(body: Record<string, unknown>, key: string): boolean | undefined {
  const value = body[key];
  if (value === undefined || typeof value === "boolean") return value;
  throw invalid(`${key} must be a boolean`);
}
