/** What an Intercom failure means for the caller: retry when, stop, or take an id from a conflict. */

import { IntercomError, IntercomTimeoutError } from "intercom-client";
import { describeError } from "../lib/errors";

export type IntercomFailure =
  /** `heldBack`: the connector's own rate budget answered (nothing was sent), not Intercom. */
  | { kind: "rate_limited"; status: 429; resetAt: number | null; message: string; heldBack?: boolean }
  | { kind: "unauthorized"; status: 401; message: string }
  | { kind: "conflict"; status: 409; existingId: string | null; archived: boolean; message: string }
  | { kind: "not_found"; status: 404; code: string | null; message: string }
  | { kind: "gone"; status: 410; canonicalId: string | null; message: string }
  | { kind: "server"; status: number | null; message: string }
  | { kind: "invalid"; status: number; code: string | null; message: string };

/** A failed Intercom call, classified. Its message is Intercom's error message, never the token. */
export class IntercomCallError extends Error {
  constructor(
    readonly failure: IntercomFailure,
    /** The call, as `METHOD /path` (`PUT /contacts/{id}`). */
    readonly operation: string,
  ) {
    super(`${operation}: ${failure.message}`);
    this.name = "IntercomCallError";
  }
}

/** Runs one SDK call, turning its failures into an IntercomCallError naming `operation`. */
export async function call<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new IntercomCallError(classifyError(error), operation);
  }
}

/**
 * The failure behind anything a step threw: an Intercom call's own, or, for an error of ours (a D1 hiccup, a bug),
 * a server-side failure, so it is retried with backoff rather than lost.
 */
export function failureOf(error: unknown): IntercomFailure {
  if (error instanceof IntercomCallError) return error.failure;
  return { kind: "server", status: null, message: describeError(error) };
}

interface ErrorListBody {
  errors?: Array<{ code?: string; message?: string; field?: string }>;
}

/** The first `{code, message}` of an Intercom `error.list` body, if any. */
export function firstError(body: unknown): { code: string | null; message: string | null } {
  const list = (body as ErrorListBody | null | undefined)?.errors;
  const first = Array.isArray(list) ? list[0] : undefined;
  return { code: first?.code ?? null, message: first?.message ?? null };
}

/** The Intercom id named in a 409 message ("… already exists with id=<id>"). */
export function conflictId(message: string | null): string | null {
  return message?.match(/id=(\w+)/)?.[1] ?? null;
}

/** Marks the 429 the rate budget makes when it holds a call back (budgeted-fetch.ts): pacing, not a failure. */
export const HELD_BACK_HEADER = "x-connector-held-back";

/** Classifies a failed response from Intercom by status, `error.list` body and headers. */
export function classifyResponse(status: number | null, body: unknown, headers?: Headers | null): IntercomFailure {
  const { code, message } = firstError(body);
  const text = message ?? (typeof body === "string" && body ? body.slice(0, 200) : `HTTP ${status ?? "error"}`);
  if (status === 429) {
    const reset = Number(headers?.get("x-ratelimit-reset"));
    return {
      kind: "rate_limited",
      status,
      resetAt: Number.isFinite(reset) && reset > 0 ? reset * 1000 : null,
      message: text,
      ...(headers?.get(HELD_BACK_HEADER) === "1" ? { heldBack: true } : {}),
    };
  }
  if (status === 401) return { kind: "unauthorized", status, message: text };
  if (status === 409) {
    return {
      kind: "conflict",
      status,
      existingId: conflictId(message),
      archived: /archived/i.test(text),
      message: text,
    };
  }
  if (status === 410) {
    const link = headers?.get("link") ?? "";
    return { kind: "gone", status, canonicalId: link.match(/contacts\/(\w+)>/)?.[1] ?? null, message: text };
  }
  if (status === 404) return { kind: "not_found", status, code, message: text };
  if (status === null || status >= 500 || status === 408) return { kind: "server", status, message: text };
  return { kind: "invalid", status, code, message: text };
}

/** Classifies anything the SDK (or fetch) threw. */
function classifyError(error: unknown): IntercomFailure {
  if (error instanceof IntercomTimeoutError) return { kind: "server", status: null, message: "request timed out" };
  if (error instanceof IntercomError) {
    const headers = error.rawResponse?.headers ?? null;
    if (error.statusCode === undefined)
      return { kind: "server", status: null, message: error.message || "network error" };
    return classifyResponse(error.statusCode, error.body, headers as Headers | null);
  }
  return { kind: "server", status: null, message: describeError(error) };
}

/**
 * Whether a failure of a contact-scoped call says the contact itself is gone: merged away (410 with the survivor's id
 * in `Link`, only on GET) or deleted or merged ("User Not Found" 404 on every other contact route). A tag's or a
 * company's own 404 ("Resource Not Found", `company_not_found`) is not the contact's.
 */
export function isContactGone(failure: IntercomFailure): boolean {
  return failure.kind === "gone" || (failure.kind === "not_found" && /user not found/i.test(failure.message));
}

/** Whether a failure is worth retrying later (the rest are final until something changes). */
export function isRetryable(failure: IntercomFailure): boolean {
  return failure.kind === "rate_limited" || failure.kind === "server";
}
