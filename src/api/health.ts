/** Liveness. */
import { createRoute, z } from "@hono/zod-openapi";
import { EXAMPLES } from "./examples";
import { router } from "./router";

export const health = router().openapi(
  createRoute({
    method: "get",
    path: "/healthz",
    summary: "Liveness check",
    responses: {
      200: {
        description: "The Worker is up.",
        content: {
          "application/json": { schema: z.object({ ok: z.literal(true) }).openapi({ example: EXAMPLES.healthz }) },
        },
      },
    },
  }),
  (c) => c.json({ ok: true as const }, 200),
);
