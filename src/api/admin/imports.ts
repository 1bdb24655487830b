/**
 * Import routes under `/v1/connections/{id}/imports` (admin scope): start an import of what Intercom already holds,
 * list them, read one's progress, cancel it. The work runs in the bulk lane (source/import/run.ts).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { tenantDb } from "../../db/placement";
import { IntercomCallError } from "../../intercom/errors";
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
const PhaseNameSchema = z.enum(["companies", "contacts", "conversations", "events"]);

const PhaseSchema = z.object({
  object: PhaseNameSchema,
  total: z
    .number()
    .int()
    .nullable()
    .openapi({ description: "Intercom's `total_count` (null before the first page); once read, what was read." }),
  done: z.number().int().openapi({ description: "Items read and handed to the source (or counted as failed)." }),
  skipped: z.number().int().openapi({ description: "Already captured in that state (a webhook or the sweep)." }),
  failed: z.number().int().openapi({ description: "Items that could not be read (each has a failed sync-log row)." }),
  calls: z.number().int().openapi({ description: "Intercom calls spent." }),
  estimated_calls: z
    .number()
    .int()
    .optional()
    .openapi({
      description:
        "The events phase's cost in calls, stated at the start before it runs: one events list per user contact plus " +
        "one search per 25 users (more only for a user with more than a page of events).",
    }),
  skipped_reason: z
    .string()
    .optional()
    .openapi({ description: "Why the phase did not run (its source setting is off); absent when it ran." }),
});

export const ImportJobSchema = z
  .object({
    id: z.string(),
    connection_id: z.string(),
    state: z.enum(["queued", "running", "done", "failed", "cancelled"]),
    objects: z.array(ImportObjectSchema),
    since: z.string().nullable().openapi({ format: "date-time", description: "Only contacts updated since." }),
    include_tags: z.boolean(),
    include_conversations: z.boolean(),
    conversations_since: z
      .string()
      .nullable()
      .openapi({ format: "date-time", description: "Conversations created at or after this time become chat events." }),
    include_events: z.boolean(),
    phase: PhaseNameSchema.nullable().openapi({ description: "The phase being read; null once all are read." }),
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

/** The default window of `include_conversations`: the last 90 days. */
const DEFAULT_CONVERSATIONS_DAYS = 90;
/** A time this far ahead of our clock is still taken as now (clock skew of the caller). */
const FUTURE_SLACK_MS = 60_000;

const PastTime = z
  .string()
  .datetime({ offset: true })
  .refine((value) => Date.parse(value) <= Date.now() + FUTURE_SLACK_MS, { error: "must not be in the future" });

const StartImportBody = z
  .strictObject({
    objects: z
      .array(ImportObjectSchema)
      .min(1)
      .optional()
      .openapi({ description: "What to import; default both (companies run first, then contacts)." }),
    since: PastTime.optional().openapi({
      description:
        "Only contacts updated at or after this time (companies are all read; also the events phase's users).",
    }),
    include_tags: z
      .boolean()
      .optional()
      .openapi({
        description:
          "Each imported contact's tag names as the user property `intercom_tags` (sorted array). Needs `contacts`. " +
          "Costs one `GET /tags` per page of 150 contacts with tags, plus one call per contact with more than 10 tags.",
      }),
    include_conversations: z
      .boolean()
      .optional()
      .openapi({
        description:
          "Past contact-initiated conversations as `Chat started` and `Chat button clicked` events at their time " +
          "(a phase after the contacts: one conversation search per 150 conversations of the window). Needs " +
          "`source.capture_chat_events` (else the phase is skipped, with the reason).",
      }),
    conversations_since: PastTime.optional().openapi({
      description: `The window of \`include_conversations\`: conversations created at or after this time; default ${DEFAULT_CONVERSATIONS_DAYS} days back.`,
    }),
    include_events: z
      .boolean()
      .optional()
      .openapi({
        description:
          "Past data events (Intercom lists the last 90 days) of each user contact (updated since `since`): one call " +
          "per user, stated before it runs as the phase's `estimated_calls`. Needs `source.capture_user_events`.",
      }),
  })
  .superRefine((body, ctx) => {
    if (body.conversations_since !== undefined && !body.include_conversations) {
      ctx.addIssue({ code: "custom", path: ["conversations_since"], message: "only with include_conversations: true" });
    }
    if (body.include_tags && body.objects && !body.objects.includes("contacts")) {
      ctx.addIssue({
        code: "custom",
        path: ["include_tags"],
        message: "tags are read with the contacts: add contacts",
      });
    }
  })
  .openapi("StartImport", {
    example: { objects: ["companies", "contacts"], include_tags: true, include_conversations: true },
  });

const ImportStartedSchema = z
  .object({
    id: z.string(),
    estimated_calls: z.number().int().nullable().openapi({
      description: "The events phase's cost in calls, stated before it runs; null without an events phase.",
    }),
    phases: z.array(PhaseSchema),
  })
  .openapi("ImportStarted", {
    example: { id: EXAMPLES.importJob.id, estimated_calls: null, phases: EXAMPLES.importJob.phases },
  });

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

export const importsApi = router()
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/imports",
      summary: "Start an import of what Intercom already holds: companies, contacts, memberships, optionally more",
      description:
        "Send `{}` for companies, contacts and memberships. Optional, off by default: `include_tags`, " +
        "`include_conversations` (with `conversations_since`, default 90 days back) and `include_events` (its cost " +
        "in calls is stated in the answer, `estimated_calls`, before it runs). Runs in the bulk lane, one Intercom " +
        "page at a time, resumable. One import per connection at a time: a second start answers 409 with the running " +
        "import in `job`. Progress: `GET …/imports/{import_id}`.",
      ...admin,
      request: {
        params: ConnectionIdParams,
        body: { required: true, content: { "application/json": { schema: StartImportBody } } },
      },
      responses: {
        ...problems(401, 403),
        202: {
          description: "The import, queued (it runs in the background)",
          content: { "application/json": { schema: ImportStartedSchema } },
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
        422: problem("Validation failed (a time in the future, `conversations_since` without its flag, …).", 422),
        502: problem("Intercom did not answer the count of user contacts the events phase states its cost from.", 502),
        503: problem(
          "The workspace's Intercom rate budget is spent: the count of user contacts waits (`Retry-After`).",
          503,
        ),
      },
    }),
    async (c) => {
      const connection = await connectionOrNotFound(c.env, c.var.auth.workspaceId, c.req.valid("param").id);
      const body = c.req.valid("json");
      if (connection.status !== "connected") {
        throw new ProblemError(409, `The connection is ${connection.status}: reconnect it before an import.`);
      }
      if (!connection.source.enabled) throw new ProblemError(409, "The source is switched off: turn it on first.");
      const seconds = (iso: string | undefined) => (iso === undefined ? null : Math.floor(Date.parse(iso) / 1000));
      const conversationsSince = body.include_conversations
        ? (seconds(body.conversations_since) ?? Math.floor(Date.now() / 1000) - DEFAULT_CONVERSATIONS_DAYS * 86_400)
        : null;
      const options = importOptions({
        objects: body.objects,
        since: seconds(body.since),
        tags: body.include_tags === true,
        conversationsSince,
        events: body.include_events === true,
      });
      let result: Awaited<ReturnType<typeof startImport>>;
      try {
        result = await startImport(c.env, connection, options);
      } catch (error) {
        if (!(error instanceof IntercomCallError)) throw error;
        const detail = `The events phase states its cost before it starts, and Intercom did not answer the count of user contacts (${error.message}): try again.`;
        const failure = error.failure;
        if (failure.kind !== "rate_limited") throw new ProblemError(502, detail);
        const retryAfter = Math.max(1, Math.ceil(((failure.resetAt ?? Date.now() + 10_000) - Date.now()) / 1000));
        throw new ProblemError(503, detail, undefined, { "retry-after": String(retryAfter) });
      }
      if (!result.ok) {
        const problemJson = { ...problemBody(409, RUNNING), job: importJobJson(result.running) };
        return c.json(problemJson, 409, { "content-type": "application/problem+json" });
      }
      const events = result.job.phases.find((phase) => phase.object === "events");
      const started = {
        id: result.job.id,
        estimated_calls: events?.estimated_calls ?? null,
        phases: result.job.phases.map((phase) => ({ ...phase })),
      };
      return c.json(started, 202);
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
