/** Errors of the connector's own domain, and error text fit for logs (what went wrong, without the values). */
import { ZodError } from "zod";

const MAX_LENGTH = 300;

/** A short description of `error` that carries no payload data. */
export function describeError(error: unknown): string {
  if (error instanceof ZodError) {
    const paths = [...new Set(error.issues.map((issue) => issue.path.join(".") || "(root)"))];
    return `unexpected payload shape at ${paths.join(", ")}`.slice(0, MAX_LENGTH);
  }
  if (error instanceof Error) {
    // DrizzleQueryError: "Failed query: … params: …"; its cause is the database's own message.
    const cause = error.message.startsWith("Failed query:") && error.cause instanceof Error ? error.cause : error;
    return `${cause.name}: ${cause.message}`.slice(0, MAX_LENGTH);
  }
  return String(error).slice(0, MAX_LENGTH);
}

/** One bad input path and what is wrong with it (the API lists them as `errors`). */
export interface FieldError {
  path: string;
  message: string;
}

/** Why a request is refused, in the connector's terms; the HTTP API maps each reason to a status. */
export type RefusalReason = "not_found" | "conflict" | "invalid" | "unavailable";

/** A request the connector refuses (unknown user, connection not connected, invalid mapping, queue down…). */
export class RefusedError extends Error {
  constructor(
    readonly reason: RefusalReason,
    message: string,
    readonly errors?: FieldError[],
    /** With `unavailable`: when to try again. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "RefusedError";
  }
}

/**
 * Platform messages that mean "too busy or briefly unavailable: retry later" (D1's documented retryable errors and
 * its overload, a queue or Durable Object that is overloaded), not a fault of the request or of our code.
 */
const TRANSIENT_MESSAGES = [
  "D1 DB is overloaded",
  "Network connection lost",
  "reset because its code was updated",
  "storage caused object to be reset",
  "Cannot resolve D1 DB due to transient issue",
  "Durable Object is overloaded",
];
const QUEUE_OVERLOADED = /^Queue \w+ failed: .*(overloaded|Too Many Requests)/i;

/** Whether `error` (or its cause, as drizzle wraps the database's error) is a transient platform overload or outage. */
export function isTransientPlatformError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 5; depth++, current = current.cause) {
    const flags = current as { overloaded?: unknown; retryable?: unknown };
    if (flags.overloaded === true || flags.retryable === true) return true;
    const message = current.message;
    if (TRANSIENT_MESSAGES.some((part) => message.includes(part)) || QUEUE_OVERLOADED.test(message)) return true;
  }
  return false;
}
