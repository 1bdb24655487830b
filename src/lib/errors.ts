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
