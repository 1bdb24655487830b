/**
 * Erasure of a person (admin scope; README, Privacy): `DELETE /v1/users?user_id=|email=` starts it (202 with its
 * id), `GET /v1/erasures/{id}` follows it. The answers name the erasure and the person's digest, never the person.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { type ErasureRow, getErasure, startErasure } from "../../privacy/erase";
import { requireScope } from "../auth";
import { EXAMPLES } from "../examples";
import { ProblemError } from "../problem";
import { problem, problems } from "../problems";
import { router } from "../router";

const admin = { middleware: [requireScope("admin")], security: [{ bearerAuth: [] }], tags: ["Privacy"] };

const ErasureQuery = z
  .object({
    user_id: z.string().min(1).max(255).optional(),
    email: z.string().min(1).max(320).optional(),
  })
  .refine((query) => query.user_id !== undefined || query.email !== undefined, {
    message: "Give user_id or email.",
    path: ["user_id"],
  });

const StepSchema = z.object({
  name: z.string(),
  state: z.enum(["pending", "done"]),
  count: z.number().int().openapi({ description: "Rows deleted or scrubbed (contacts archived/deleted)." }),
});

const ErasureSchema = z
  .object({
    id: z.string(),
    state: z.enum(["running", "done", "failed"]),
    origin: z.enum(["api", "intercom"]),
    requested_by: z
      .string()
      .nullable()
      .openapi({ description: "The token's `sub` (API), or `intercom:<connection id>` (a deleted contact)." }),
    digest: z.string().openapi({ description: "HMAC-SHA-256 of the identity erased: what logs say instead of it." }),
    steps: z.array(StepSchema),
    created_at: z.string().openapi({ format: "date-time" }),
    finished_at: z.string().nullable().openapi({ format: "date-time" }),
  })
  .openapi("Erasure", { example: EXAMPLES.erasure });

function erasureJson(row: ErasureRow) {
  return {
    id: row.id,
    state: row.state,
    origin: row.origin,
    requested_by: row.requestedBy,
    digest: row.digest,
    steps: row.steps.map((step) => ({ name: step.name, state: step.state, count: step.count })),
    created_at: new Date(row.createdAt).toISOString(),
    finished_at: row.finishedAt ? new Date(row.finishedAt).toISOString() : null,
  };
}

/** Mounted at `/v1/users`. */
export const eraseUser = router().openapi(
  createRoute({
    method: "delete",
    path: "/",
    summary: "Erase a person",
    description:
      "Removes the person named by `user_id` (else `email`) from every table of the connector and scrubs the sync " +
      "log and dead letters (the email, CDP id and Intercom ids become a one-way digest). Each connection's " +
      "`destination.on_erase` says what happens to the linked Intercom contact. Idempotent: asking again while it " +
      "runs (or once it is done) answers the same erasure.",
    ...admin,
    request: { query: ErasureQuery },
    responses: {
      ...problems(401, 403),
      202: {
        description: "The erasure is under way; follow it at `/v1/erasures/{id}`.",
        content: {
          "application/json": {
            schema: z
              .object({ id: z.string(), state: z.enum(["running", "done", "failed"]) })
              .openapi({ example: EXAMPLES.erasureAccepted }),
          },
        },
      },
      422: problem("Neither user_id nor email.", 422),
    },
  }),
  async (c) => {
    const query = c.req.valid("query");
    const { erasure } = await startErasure(
      c.env,
      c.var.auth.workspaceId,
      { userId: query.user_id ?? null, email: query.email ?? null },
      { origin: "api", requestedBy: c.var.auth.subject ?? null },
    );
    c.header("Location", `/v1/erasures/${erasure.id}`);
    return c.json({ id: erasure.id, state: erasure.state }, 202);
  },
);

/** Mounted at `/v1/erasures`. */
export const erasuresApi = router().openapi(
  createRoute({
    method: "get",
    path: "/{id}",
    summary: "An erasure's progress (and, once done, its audit record)",
    ...admin,
    request: { params: z.object({ id: z.string().min(1).max(100) }) },
    responses: {
      ...problems(401, 403),
      200: { description: "The erasure.", content: { "application/json": { schema: ErasureSchema } } },
      404: problem("No such erasure in the token's workspace.", 404),
    },
  }),
  async (c) => {
    const erasure = await getErasure(c.env, c.var.auth.workspaceId, c.req.valid("param").id);
    if (!erasure) throw new ProblemError(404, "No such erasure.");
    return c.json(erasureJson(erasure), 200);
  },
);
