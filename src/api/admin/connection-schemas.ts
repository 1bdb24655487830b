/** OpenAPI building blocks shared by the connection routes: the connection id parameter, optional JSON bodies. */
import { z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { EXAMPLES } from "../examples";

export const ConnectionIdParams = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" }, description: "Connection id.", example: EXAMPLES.connectionId }),
});

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
