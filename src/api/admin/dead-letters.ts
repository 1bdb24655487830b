/** Dead letters of a connection (admin scope): what exhausted its retries, and replay onto its queue. */
import { createRoute, z } from "@hono/zod-openapi";
import { listDeadLetters, replayDeadLetters } from "../../ops/replay";
import { requireScope } from "../auth";
import { EXAMPLES } from "../examples";
import { problem, problems } from "../problems";
import { router } from "../router";
import { connectionOrNotFound } from "./connection-lookup";
import { ConnectionIdParams } from "./connection-schemas";

const admin = { middleware: [requireScope("admin")], security: [{ bearerAuth: [] }], tags: ["Operations"] };

const DeadLetterSchema = z
  .object({
    id: z.string(),
    queue: z.enum(["intercom-inbound", "intercom-outbound"]),
    body: z.unknown().openapi({ description: "The message as it was queued." }),
    created_at: z.string().openapi({ format: "date-time" }),
    replayed_at: z.string().nullable().openapi({ format: "date-time" }),
  })
  .openapi("DeadLetter");

export const deadLettersApi = router()
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}/dead-letters",
      summary: "Messages that exhausted their retries, newest first",
      ...admin,
      request: {
        params: ConnectionIdParams,
        query: z.object({
          cursor: z.string().regex(/^\d+$/, "must be a cursor from next_cursor").optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
      },
      responses: {
        ...problems(401, 403),
        200: {
          description: "A page of dead letters",
          content: {
            "application/json": {
              schema: z
                .object({ items: z.array(DeadLetterSchema), next_cursor: z.string().nullable() })
                .openapi({ example: EXAMPLES.deadLetterPage }),
            },
          },
        },
        404: problem("Unknown connection.", 404),
      },
    }),
    async (c) => {
      const connection = await connectionOrNotFound(c.env, c.var.auth.workspaceId, c.req.valid("param").id);
      const query = c.req.valid("query");
      const page = await listDeadLetters(c.env, connection, {
        cursor: query.cursor ? Number(query.cursor) : undefined,
        limit: query.limit,
      });
      return c.json(
        {
          items: page.items.map((row) => ({
            id: String(row.id),
            queue: row.queue as "intercom-inbound" | "intercom-outbound",
            body: JSON.parse(row.body) as unknown,
            created_at: new Date(row.createdAt).toISOString(),
            replayed_at: row.replayedAt ? new Date(row.replayedAt).toISOString() : null,
          })),
          next_cursor: page.nextCursor,
        },
        200,
      );
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/dead-letters/replay",
      summary: "Re-queue every dead letter not replayed yet (idempotent)",
      ...admin,
      request: { params: ConnectionIdParams },
      responses: {
        ...problems(401, 403),
        202: {
          description: "Re-queued",
          content: {
            "application/json": {
              schema: z.object({ replayed: z.number().int() }).openapi({ example: EXAMPLES.replay }),
            },
          },
        },
        404: problem("Unknown connection.", 404),
      },
    }),
    async (c) => {
      const connection = await connectionOrNotFound(c.env, c.var.auth.workspaceId, c.req.valid("param").id);
      return c.json({ replayed: await replayDeadLetters(c.env, connection) }, 202);
    },
  );
