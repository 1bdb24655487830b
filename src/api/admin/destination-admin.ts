/**
 * Destination admin routes under `/v1/connections/{id}` (admin scope): preview what a sync of one user would send,
 * and resync every user passing the segment filter as a job with progress (start, read, cancel).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { tenantDb } from "../../db/placement";
import { previewContactSync } from "../../destination/preview";
import { cancelResync, startResync } from "../../destination/resync";
import { latestJob, resyncJobJson } from "../../destination/resync-jobs";
import { requireScope } from "../auth";
import { EXAMPLES } from "../examples";
import { ProblemError, problemBody } from "../problem";
import { ProblemSchema, problem, problems } from "../problems";
import { router } from "../router";
import { connectionOrNotFound } from "./connection-lookup";
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

export const ResyncJobSchema = z
  .object({
    id: z.string(),
    connection_id: z.string(),
    state: z.enum(["running", "done", "cancelled", "failed"]),
    total: z.number().int().openapi({ description: "Users passing the segment filter when the job started." }),
    queued: z.number().int().openapi({ description: "Users handed to the bulk lane so far." }),
    synced: z.number().int().openapi({ description: "Created, or changed fields sent." }),
    noop: z.number().int().openapi({ description: "Intercom already held every value." }),
    skipped: z.number().int().openapi({ description: "Out of the filter now, gone, or parked until a reconnect." }),
    failed: z.number().int().openapi({ description: "Gave up (see the Log), or a matching conflict." }),
    paged_all: z.boolean().openapi({ description: "Every page of users was queued." }),
    detail: z.string().nullable().openapi({ description: "Why the job was cancelled or failed." }),
    started_at: z.string().openapi({ format: "date-time" }),
    finished_at: z.string().nullable().openapi({ format: "date-time" }),
    updated_at: z.string().openapi({ format: "date-time" }),
    eta_seconds: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "Seconds left at the rate so far; null when not running or nothing is counted yet." }),
  })
  .openapi("ResyncJob", { example: EXAMPLES.resyncJob });

const RunningProblemSchema = ProblemSchema.extend({ job: ResyncJobSchema.optional() }).openapi("ResyncRunning", {
  description: "A problem; when a resync is already running, `job` is that job.",
});

const jobContent = { "application/json": { schema: ResyncJobSchema } };

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
      const connection = await connectionOrNotFound(c.env, c.var.auth.workspaceId, c.req.valid("param").id);
      return c.json(await previewContactSync(c.env, connection, c.req.valid("query").user_id), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/resync",
      summary: "Start a resync job: every user passing the segment filter, each sending only what Intercom lacks",
      description:
        "One running resync per connection: a second start answers 409 with the running job in `job`, unless " +
        "`restart=true`, which cancels the running job and starts a new one. Progress: `GET …/resync`.",
      ...admin,
      request: {
        params: ConnectionIdParams,
        query: z.object({
          restart: z
            .enum(["true", "false"])
            .optional()
            .openapi({ description: "`true`: cancel a running resync and start anew." }),
        }),
      },
      responses: {
        ...problems(401, 403),
        202: { description: "The job, started (it runs in the background)", content: jobContent },
        404: problem("Unknown connection.", 404),
        409: {
          description: "A resync is already running (`job`), or the connection is not connected / its destination off.",
          content: {
            "application/problem+json": {
              schema: RunningProblemSchema,
              example: {
                ...problemBody(409, "A resync is already running: wait, cancel it, or start with ?restart=true."),
                job: EXAMPLES.resyncJob,
              },
            },
          },
        },
      },
    }),
    async (c) => {
      const connection = await connectionOrNotFound(c.env, c.var.auth.workspaceId, c.req.valid("param").id);
      if (connection.status !== "connected") {
        throw new ProblemError(409, `The connection is ${connection.status}: reconnect it before a resync.`);
      }
      if (!connection.destination.enabled)
        throw new ProblemError(409, "The destination is switched off: turn it on first.");
      const result = await startResync(
        c.env,
        { id: connection.id, workspaceId: connection.workspaceId, segments: connection.destination.segments },
        { restart: c.req.valid("query").restart === "true" },
      );
      if (!result.ok) {
        const body = {
          ...problemBody(409, "A resync is already running: wait, cancel it, or start with ?restart=true."),
          job: resyncJobJson(result.running),
        };
        return c.json(body, 409, { "content-type": "application/problem+json" });
      }
      return c.json(resyncJobJson(result.job), 202);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}/resync",
      summary: "The connection's latest resync job and its progress",
      ...admin,
      request: { params: ConnectionIdParams },
      responses: {
        ...problems(401, 403),
        200: { description: "The running job, else the latest one", content: jobContent },
        404: problem("Unknown connection, or no resync yet.", 404),
      },
    }),
    async (c) => {
      const connection = await connectionOrNotFound(c.env, c.var.auth.workspaceId, c.req.valid("param").id);
      const job = await latestJob(await tenantDb(c.env, connection.workspaceId), connection.id);
      if (!job) throw new ProblemError(404, `No resync has run on connection ${connection.id}.`);
      return c.json(resyncJobJson(job), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}/resync",
      summary: "Cancel the running resync",
      description:
        "Paging stops and users not yet handed to their objects are dropped; syncs already handed over finish (and " +
        "still count in the job's figures).",
      ...admin,
      request: { params: ConnectionIdParams },
      responses: {
        ...problems(401, 403),
        200: { description: "The job, cancelled", content: jobContent },
        404: problem("Unknown connection, or no resync running.", 404),
      },
    }),
    async (c) => {
      const connection = await connectionOrNotFound(c.env, c.var.auth.workspaceId, c.req.valid("param").id);
      const job = await cancelResync(c.env, connection);
      if (!job) throw new ProblemError(404, `No resync is running on connection ${connection.id}.`);
      return c.json(resyncJobJson(job), 200);
    },
  );
