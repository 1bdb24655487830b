/** OpenAPI descriptions of problem+json responses, shared by every route. */
import { z } from "@hono/zod-openapi";
import { problemExample } from "./examples";
import { type ProblemBody, problemBody } from "./problem";

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi("Problem", {
    example: problemExample(422),
    description: "RFC 9457 problem details; `errors` lists one `{path, message}` per bad input path.",
  });

const DESCRIPTIONS: Record<number, string> = {
  400: "Malformed request.",
  401: "Missing or invalid bearer token.",
  403: "The token lacks the required scope.",
  404: "No such object in the token's workspace.",
  405: "Method not allowed on this route (see `Allow`).",
  409: "The request conflicts with the connection's state.",
  413: "The body is larger than 1 MiB.",
  422: "Validation failed; `errors` has one entry per bad path.",
  502: "Intercom failed or refused the call.",
  503: "Try again later (Intercom rate limit, or authentication keys unavailable).",
};

/**
 * One problem+json response with its own description, for `createRoute({ responses })`; with `status`, its example is
 * that status with the description as `detail`.
 */
export function problem(
  description: string,
  status?: number,
  example: ProblemBody | undefined = status === undefined ? undefined : problemBody(status, description),
) {
  return {
    description,
    content: { "application/problem+json": { schema: ProblemSchema, ...(example ? { example } : {}) } },
  };
}

/** Problem+json responses for the given statuses, with the standard descriptions and examples. */
export function problems(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => {
      const description = DESCRIPTIONS[status] ?? "Error.";
      return [status, problem(description, status, problemExample(status) ?? problemBody(status, description))];
    }),
  );
}
