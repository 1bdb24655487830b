/** OpenAPI descriptions of problem+json responses, shared by every route. */
import { z } from "@hono/zod-openapi";

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi("Problem", {
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

/** One problem+json response with its own description, for `createRoute({ responses })`. */
export function problem(description: string) {
  return { description, content: { "application/problem+json": { schema: ProblemSchema } } };
}

/** Problem+json responses for the given statuses, with the standard descriptions. */
export function problems(...statuses: number[]) {
  return Object.fromEntries(statuses.map((status) => [status, problem(DESCRIPTIONS[status] ?? "Error.")]));
}
