/**
 * Destination admin routes under `/v1/connections/{id}` (admin scope): preview what a sync of one user would send,
 * and resync every user passing the segment filter.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { findConnection } from "../../connections/repository";
import { controlDb } from "../../db/placement";
import { previewContactSync } from "../../destination/preview";
import { startResync } from "../../destination/resync";
import type { Env } from "../../env";
import { requireScope } from "../auth";
import { EXAMPLES } from "../examples";
import { ProblemError } from "../problem";
import { problem, problems } from "../problems";
import { router } from "../router";
import { ConnectionIdParams } from "./connection-schemas";

const admin = { middleware: [requireScope("admin")], security: [{ bearerAuth: [] }], tags: ["Destination"] };

const PreviewSchema = z
  .object({
    user_id: z.string().nullable(),
    email: z.string().nullable(),
    intercom_contact_id: z.string().nullable(),
    requests: z.array(
      z.object({
        method: z.enum(["GET", "POST", "PUT", "DELETE"]),
        url: z.string(),
        body: z.record(z.string(), z.unknown()).optional(),
        when: z.string().optional(),
      }),
    ),
    notes: z.array(z.string()),
    warnings: z.array(z.object({ path: z.string(), from: z.string(), reason: z.string() })),
  })
  .openapi("SyncPreview", { example: EXAMPLES.preview });

async function connectionOf(env: Env, workspaceId: string, id: string) {
  const connection = await findConnection(controlDb(env), workspaceId, id);
  if (!connection) throw new ProblemError(404, `No connection ${id} in this workspace.`);
  return connection;
}

export const destinationAdmin = router()
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}/preview",
      summary: "Dry run: the Intercom requests a sync of this user would send now (nothing is sent)",
      ...admin,
      request: { params: ConnectionIdParams, query: z.object({ user_id: z.string().min(1) }) },
      responses: {
        ...problems(401, 403),
        200: { description: "The planned requests", content: { "application/json": { schema: PreviewSchema } } },
        404: problem("Unknown connection or user.", 404),
      },
    }),
    async (c) => {
      const connection = await connectionOf(c.env, c.var.auth.workspaceId, c.req.valid("param").id);
      return c.json(await previewContactSync(c.env, connection, c.req.valid("query").user_id), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/resync",
      summary: "Queue every user passing the segment filter; each sends only what Intercom lacks",
      ...admin,
      request: { params: ConnectionIdParams },
      responses: {
        ...problems(401, 403),
        202: {
          description: "Queued in the background",
          content: {
            "application/json": {
              schema: z.object({ queued: z.number().int() }).openapi({ example: EXAMPLES.resync }),
            },
          },
        },
        404: problem("Unknown connection.", 404),
        409: problem("Not connected, or the destination is off.", 409),
      },
    }),
    async (c) => {
      const connection = await connectionOf(c.env, c.var.auth.workspaceId, c.req.valid("param").id);
      if (connection.status !== "connected") {
        throw new ProblemError(409, `The connection is ${connection.status}: reconnect it before a resync.`);
      }
      if (!connection.destination.enabled)
        throw new ProblemError(409, "The destination is switched off: turn it on first.");
      const queued = await startResync(c.env, {
        id: connection.id,
        workspaceId: connection.workspaceId,
        segments: connection.destination.segments,
      });
      return c.json({ queued }, 202);
    },
  );
