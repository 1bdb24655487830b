/** OpenAPI building blocks shared by the connection routes: problem responses, path params, the strict-body hook. */
import { z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { ZodError } from "zod";
import { log } from "../lib/log";
import { ProblemError, type ProblemFieldError } from "../lib/problem";
import { fieldErrors } from "./router";

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi("Problem", { description: "RFC 9457 problem details; `errors` lists one `{path, message}` per bad input path." });

const DESCRIPTIONS: Record<number, string> = {
  400: "Malformed request.",
  401: "Missing or invalid bearer token.",
  403: "The token lacks the required scope.",
  404: "No such object in the token's workspace.",
  409: "The request conflicts with the connection's state.",
  422: "Validation failed; `errors` has one entry per bad path.",
  502: "Intercom failed or refused the call.",
  503: "Try again later (Intercom rate limit, or authentication keys unavailable).",
};

/** Problem+json responses for the given statuses, for `createRoute({ responses })`. */
export function problems(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: DESCRIPTIONS[status] ?? "Error.", content: { "application/problem+json": { schema: ProblemSchema } } },
    ]),
  );
}

export const ConnectionIdParams = z.object({
  id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" }, description: "Connection id." }),
});

/**
 * A validation hook like the router's default, except that one unknown-keys issue becomes one entry per unknown key
 * (`source.bogus`), so every bad path is named.
 */
export function strictHook(result: { success: boolean; error?: ZodError; target: string }): undefined {
  if (result.success || !result.error) return undefined;
  const errors: ProblemFieldError[] = [];
  for (const issue of result.error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const single = { ...issue, path: [...issue.path, key], message: "unknown key" };
        errors.push(...fieldErrors({ issues: [single] } as unknown as ZodError, result.target));
      }
    } else errors.push(...fieldErrors({ issues: [issue] } as unknown as ZodError, result.target));
  }
  // The paths only: the values may hold personal data or a token.
  log({ msg: "request refused: invalid input", outcome: "invalid", paths: errors.map((error) => error.path) });
  throw new ProblemError(422, "The request is not valid; see `errors`.", errors);
}

/**
 * For routes whose JSON body is optional: a request without a body (even one that says `content-type:
 * application/json`) is validated as `{}` instead of failing as malformed JSON.
 */
export const emptyBodyIsEmptyObject: MiddlewareHandler = async (c, next) => {
  if (c.req.raw.body === null || c.req.header("content-length") === "0") {
    // Hono's json() parses the cached text: an empty body reads as "{}".
    (c.req.bodyCache as Record<string, unknown>).text = Promise.resolve("{}");
  }
  await next();
};
