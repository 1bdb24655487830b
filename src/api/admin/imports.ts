/**
 * Import routes under `/v1/connections/{id}/imports` (admin scope): start an import of what Intercom already holds,
 * list them, read one's progress, cancel it. The work runs in the bulk lane (source/import/run.ts).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { tenantDb } from "../../db/placement";
import { importById, listImports } from "../../source/import/jobs";
import { importJobJson, importOptions } from "../../source/import/plan";
import { cancelImport, startImport } from "../../source/import/run";
import { requireScope } from "../auth";
import { EXAMPLES } from "../examples";
import { ProblemError, problemBody } from "../problem";
import { ProblemSchema, problem, problems } from "../problems";
import { router } from "../router";
import { connectionOrNotFound } from "./connection-lookup";
import { ConnectionIdParams } from "./connection-schemas";

const tags = ["Source"];
const admin = { middleware: [requireScope("admin")], security: [{ bearerAuth: [] }], tags };

const ImportObjectSchema = z.enum(["companies", "contacts"]);

const PhaseSchema = z.object({
  object: ImportObjectSchema,
  total: z
    .number()
    .int()
    .nullable()
    .openapi({ description: "Intercom's `total_count` (null before the first page); once read, what was read." }),
  done: z.number().int().openapi({ description: "Items read and handed to the source (or counted as failed)." }),
  skipped: z.number().int().openapi({ description: "Already captured in that state (a webhook or the sweep)." }),
  failed: z.number().int().openapi({ description: "Items that could not be read (each has a failed sync-log row)." }),
  calls: z.number().int().openapi({ description: "Intercom calls spent." }),
});

export const ImportJobSchema = z
  .object({
    id: z.string(),
    connection_id: z.string(),
    state: z.enum(["queued", "running", "done", "failed", "cancelled"]),
    objects: z.array(ImportObjectSchema),
    since: z.string().nullable().openapi({ format: "date-time", description: "Only contacts updated since." }),
    phase: ImportObjectSchema.nullable().openapi({ description: "The phase being read; null once all are read." }),
    phases: z.array(PhaseSchema),
    detail: z
      .string()
      .nullable()
      .openapi({ description: "Why it failed, was cancelled, or waits (e.g. for a reconnect after a 401)." }),
    started_at: z.string().openapi({ format: "date-time" }),
    finished_at: z.string().nullable().openapi({ format: "date-time" }),
    updated_at: z.string().openapi({ format: "date-time" }),
    eta_seconds: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "Seconds left at the rate so far; null when not running or nothing is read yet." }),
  })
  .openapi("ImportJob", { example: EXAMPLES.importJob });

const StartImportBody = z
  .strictObject({
    objects: z
      .array(ImportObjectSchema)
      .min(1)
      .optional()
      .openapi({ description: "What to import; default both (companies run first, then contacts)." }),
    since: z
      .string()
      .datetime({ offset: true })
      .optional()
      .openapi({ description: "Only contacts updated at or after this time (companies are all read)." }),
    include_tags: z.boolean().optional().openapi({ description: "Not supported yet: `true` is refused with 422." }),
    include_conversations: z
      .boolean()
      .optional()
      .openapi({ description: "Not supported yet: `true` is refused with 422." }),
    include_events: z.boolean().optional().openapi({ description: "Not supported yet: `true` is refused with 422." }),
  })
  .openapi("StartImport", { example: { objects: ["companies", "contacts"] } });

const ImportRunningSchema = ProblemSchema.extend({ job: ImportJobSchema.optional() }).openapi("ImportRunning", {
  description: "A problem; when an import is already running, `job` is that import.",
});

const ImportParams = ConnectionIdParams.extend({
  import_id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "import_id", in: "path" }, description: "Import id.", example: EXAMPLES.importJob.id }),
});

const jobContent = { "application/json": { schema: ImportJobSchema } };
const RUNNING = "An import is already running on this connection: wait for it or cancel it.";

/** The optional parts of an import not built yet: refused by name rather than ignored. */
function refuseUnsupported(body: z.infer<typeof StartImportBody>): void {
  const asked = (["include_tags", "include_conversations", "include_events"] as const).filter((flag) => body[flag]);
  if (asked.length === 0) return;
  throw new ProblemError(
    422,
    "Not yet supported: imports bring contacts, companies and memberships only.",
    asked.map((flag) => ({ path: flag, message: "not yet supported" })),
  );
}

export const importsApi = router()
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/imports",
      summary: "Start an import of what Intercom already holds: companies, contacts, memberships",
      description:
        "Send `{}` for everything. Runs in the bulk lane, one Intercom page at a time, resumable. One import per connection at a time: a " +
        "second start answers 409 with the running import in `job`. `include_tags`, `include_conversations` and " +
        "`include_events` are not supported yet (422). Progress: `GET …/imports/{import_id}`.",
      ...admin,
      request: {
        params: ConnectionIdParams,
        body: { required: true, content: { "application/json": { schema: StartImportBody } } },
      },
      responses: {
        ...problems(401, 403),
        202: {
          description: "The import, queued (it runs in the background)",
          content: {
            "application/json": {
              schema: z.object({ id: z.string() }).openapi("ImportStarted", { example: { id: EXAMPLES.importJob.id } }),
            },
          },
        },
        404: problem("Unknown connection.", 404),
        409: {
          description: "An import is already running (`job`), or the connection is not connected / its source off.",
          content: {
            "application/problem+json": {
              schema: ImportRunningSchema,
              example: { ...problemBody(409, RUNNING), job: EXAMPLES.importJob },
            },
          },
        },
        422: problem("Validation failed, or an optional part that is not supported yet was asked for.", 422),
      },
    }),
    async (c) => {
      const connection = await connectionOrNotFound(c.env, c.var.auth.workspaceId, c.req.valid("param").id);
      const body = c.req.valid("json");
      refuseUnsupported(body);
      if (connection.status !== "connected") {
        throw new ProblemError(409, `The connection is ${connection.status}: reconnect it before an import.`);
      }
      if (!connection.source.enabled) throw new ProblemError(409, "The source is switched off: turn it on first.");
      const since = body.since === undefined ? null : Math.floor(Date.parse(body.since) / 1000);
      const result = await startImport(c.env, connection, importOptions({ objects: body.objects, since }));
      if (!result.ok) {
        const problemJson = { ...problemBody(409, RUNNING), job: importJobJson(result.running) };
        return c.json(problemJson, 409, { "content-type": "application/problem+json" });
      }
      return c.json({ id: result.job.id }, 202);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}/imports",
      summary: "The connection's imports, newest first (at most 20)",
      ...admin,
      request: { params: ConnectionIdParams },
      responses: {
        ...problems(401, 403),
        200: {
          description: "The imports",
          content: {
            "application/json": {
              schema: z
                .object({ items: z.array(ImportJobSchema) })
                .openapi("ImportList", { example: { items: [EXAMPLES.importJob] } }),
            },
          },
        },
        404: problem("Unknown connection.", 404),
      },
    }),
    async (c) => {
      const connection = await connectionOrNotFound(c.env, c.var.auth.workspaceId, c.req.valid("param").id);
      const jobs = await listImports(await tenantDb(c.env, connection.workspaceId), connection.id);
      const now = Date.now();
      return c.json({ items: jobs.map((job) => importJobJson(job, now)) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}/imports/{import_id}",
      summary: "One import and its progress",
      ...admin,
      request: { params: ImportParams },
      responses: {
        ...problems(401, 403),
        200: { description: "The import", content: jobContent },
        404: problem("Unknown connection or import.", 404),
      },
    }),
    async (c) => {
      const params = c.req.valid("param");
      const connection = await connectionOrNotFound(c.env, c.var.auth.workspaceId, params.id);
      const job = await importById(await tenantDb(c.env, connection.workspaceId), connection.id, params.import_id);
      if (!job) throw new ProblemError(404, `No import ${params.import_id} on connection ${connection.id}.`);
      return c.json(importJobJson(job), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}/imports/{import_id}",
      summary: "Cancel an import",
      description:
        "The import stops before its next page; items of pages already read are still captured by the source.",
      ...admin,
      request: { params: ImportParams },
      responses: {
        ...problems(401, 403),
        200: { description: "The import, cancelled", content: jobContent },
        404: problem("Unknown connection or import.", 404),
        409: problem("The import is not running (done, failed or cancelled already).", 409),
      },
    }),
    async (c) => {
      const params = c.req.valid("param");
      const connection = await connectionOrNotFound(c.env, c.var.auth.workspaceId, params.id);
      const job = await importById(await tenantDb(c.env, connection.workspaceId), connection.id, params.import_id);
      if (!job) throw new ProblemError(404, `No import ${params.import_id} on connection ${connection.id}.`);
      const cancelled = await cancelImport(c.env, connection, job.id);
      if (cancelled) return c.json(importJobJson(cancelled), 200);
      throw new ProblemError(409, `The import is ${job.state}: only a queued or running import can be cancelled.`);
    },
  );
