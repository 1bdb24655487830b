/** Error text fit for logs: what went wrong, without the values (drizzle's errors print the query's parameters). */
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
