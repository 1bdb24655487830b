/**
 * `GET /v1/connections/:id/summary` (admin): a connection's health at a glance, cheap enough to poll every few
 * seconds (one D1 batch of bounded index searches, see summary-reads.ts, and one read of the workspace's rate
 * budget, one read each of the latest resync job and the latest import).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { Region, STATUSES } from "../../connections/settings";
import { tenantD1, tenantDb } from "../../db/placement";
import { finishedCount, latestJob, type ResyncJob } from "../../destination/resync-jobs";
import type { Env } from "../../env";
import { rateBudgetObject } from "../../intercom/rate-budget";
import type { RateUsage } from "../../intercom/rate-plan";
import { describeError } from "../../lib/errors";
import { log } from "../../lib/log";
import { logRowsPerDayOf } from "../../lib/sync-log";
import { type ImportJob, latestImport } from "../../source/import/jobs";
import { requireScope } from "../auth";
import { problems } from "../problems";
import { router } from "../router";
import { connectionOrNotFound } from "./connection-lookup";
import { ConnectionIdParams } from "./connection-schemas";
import { OUTCOMES } from "./logs";
import { COUNT_CAP, type LatestRow, readSummary } from "./summary-reads";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const DateTime = z.string().openapi({ format: "date-time" });

const LatestSchema = z
  .object({
    at: DateTime,
    direction: z.enum(["in", "out"]),
    object_type: z.string(),
    object_id: z.string().nullable(),
    action: z.string().nullable(),
    detail: z.string().nullable(),
  })
  .openapi("SummaryLogRow", { description: "The newest sync-log row of a kind." });

export const JobProgressSchema = z
  .object({
    id: z.string(),
    status: z.enum(["queued", "running", "done", "failed", "cancelled"]),
    phase: z.string().nullable().openapi({ description: "Imports: contacts, companies, …" }),
    done: z.number().int(),
    total: z.number().int().nullable().openapi({ description: "null while unknown." }),
    started_at: DateTime,
    finished_at: DateTime.nullable(),
  })
  .openapi("JobProgress", { description: "A resync or import job and its progress." });

const SummarySchema = z
  .object({
    connection_id: z.string(),
    name: z.string(),
    status: z.enum(STATUSES),
    status_detail: z.string().nullable().openapi({ description: "Why the connection is in its status, when known." }),
    intercom: z.object({ app_id: z.string().nullable(), name: z.string().nullable(), region: Region }),
    source_enabled: z.boolean(),
    destination_enabled: z.boolean(),
    generated_at: DateTime,
    activity: z.object({
      last_webhook_at: DateTime.nullable().openapi({
        description: "When the newest Intercom notification was processed (the ack path itself stores nothing).",
      }),
      last_capture: LatestSchema.nullable(),
      last_sync: LatestSchema.nullable().openapi({ description: "The newest successful write to Intercom." }),
      last_failure: LatestSchema.nullable(),
    }),
    counts: z.object({
      cap: z.number().int().openapi({ description: "Rows counted at most per outcome in 24 h." }),
      items: z.array(
        z.object({
          direction: z.enum(["in", "out"]),
          outcome: z.enum(OUTCOMES),
          last_hour: z.number().int(),
          last_24h: z.number().int(),
        }),
      ),
      capped_outcomes: z.array(z.enum(OUTCOMES)).openapi({
        description: "Outcomes that reached `cap` rows in 24 h: their counts are lower bounds (≥).",
      }),
      log_rows: z
        .object({
          today: z.number().int().openapi({ description: "Sync-log rows written today (UTC)." }),
          per_day: z.number().int().openapi({ description: "The daily cap, `LOG_ROWS_PER_DAY`." }),
          dropped_last_hour: z.number().int(),
          dropped_last_24h: z.number().int(),
        })
        .openapi({
          description:
            "Sync-log rows of this connection: past `per_day` rows in a UTC day, further rows are counted as dropped " +
            "instead of written (their console lines still reach `wrangler tail`).",
        }),
    }),
    parked: z.object({
      users: z.number().int(),
      accounts: z.number().int(),
      capped: z.boolean(),
    }),
    dead_letters: z.object({
      pending: z.number().int().openapi({ description: "Not replayed yet." }),
      total: z.number().int(),
      latest_at: DateTime.nullable(),
      capped: z.boolean(),
    }),
    jobs: z.object({
      resync: JobProgressSchema.nullable().openapi({
        description: "The running resync, else the latest one (`done` counts every outcome); null when none ran.",
      }),
      import: JobProgressSchema.nullable().openapi({
        description:
          "The running import, else the latest one (`phase` the object being read, `done` the items read in every " +
          "phase, `total` null until every phase's total is known); null when none ran.",
      }),
    }),
    rate_budget: z
      .object({
        limit: z.number().int().nullable(),
        remaining: z.number().int().nullable(),
        used_share: z.number().nullable().openapi({ description: "0–1: the share of the window's calls used." }),
        window_ends_at: DateTime.nullable().openapi({ description: "In the past when no call was made since." }),
        window_seconds: z.number().nullable(),
      })
      .nullable()
      .openapi({
        description: "The Intercom workspace's latest rate-limit window; null until a response told the limit.",
      }),
    sweep: z.object({
      swept_until: DateTime.nullable(),
      lag_seconds: z.number().int().nullable().openapi({ description: "Now minus `swept_until`." }),
      companies_swept_until: DateTime.nullable(),
    }),
  })
  .openapi("ConnectionSummary", {
    example: {
      connection_id: "2b0c6d6e-3f7e-4c52-9a51-1f0d3c8e9a10",
      name: "Acme Intercom",
      status: "connected",
      status_detail: null,
      intercom: { app_id: "abc123de", name: "Acme", region: "US" },
      source_enabled: true,
      destination_enabled: true,
      generated_at: "2026-11-28T10:00:00.000Z",
      activity: {
        last_webhook_at: "2026-11-28T09:59:41.000Z",
        last_capture: {
          at: "2026-11-28T09:59:41.000Z",
          direction: "in",
          object_type: "user",
          object_id: "u-42",
          action: "contact.user.updated",
          detail: null,
        },
        last_sync: {
          at: "2026-11-28T09:58:02.000Z",
          direction: "out",
          object_type: "user",
          object_id: "u-7",
          action: "update",
          detail: null,
        },
        last_failure: null,
      },
      counts: {
        cap: COUNT_CAP,
        items: [
          { direction: "in", outcome: "captured", last_hour: 12, last_24h: 340 },
          { direction: "out", outcome: "synced", last_hour: 30, last_24h: 812 },
        ],
        capped_outcomes: [],
        log_rows: { today: 1152, per_day: 50000, dropped_last_hour: 0, dropped_last_24h: 0 },
      },
      parked: { users: 0, accounts: 0, capped: false },
      dead_letters: { pending: 1, total: 3, latest_at: "2026-11-28T08:12:00.000Z", capped: false },
      jobs: { resync: null, import: null },
      rate_budget: {
        limit: 1666,
        remaining: 1650,
        used_share: 0.01,
        window_ends_at: "2026-11-28T10:00:10.000Z",
        window_seconds: 10,
      },
      sweep: { swept_until: "2026-11-28T09:50:00.000Z", lag_seconds: 600, companies_swept_until: null },
    },
  });

const latestJson = (row: LatestRow | null) =>
  row
    ? {
        at: iso(row.at)!,
        direction: row.direction,
        object_type: row.objectType,
        object_id: row.objectId,
        action: row.action,
        detail: row.detail,
      }
    : null;

/** A resync job as the summary's job progress. */
function resyncProgress(job: ResyncJob) {
  return {
    id: job.id,
    status: job.state,
    phase: null,
    done: finishedCount(job),
    total: Math.max(job.total, job.queued),
    started_at: iso(job.startedAt)!,
    finished_at: iso(job.finishedAt),
  };
}

/** An import job as the summary's job progress. */
function importProgress(job: ImportJob) {
  const totals = job.phases.map((phase) => phase.total);
  return {
    id: job.id,
    status: job.state,
    phase: job.phase,
    done: job.phases.reduce((sum, phase) => sum + phase.done, 0),
    total: totals.every((total) => total !== null) ? totals.reduce((sum: number, total) => sum + total!, 0) : null,
    started_at: iso(job.startedAt)!,
    finished_at: iso(job.finishedAt),
  };
}

/** The workspace's rate budget, or null (no workspace yet, or the object could not answer: the summary still does). */
async function rateBudgetOf(env: Env, appId: string | null, connectionId: string): Promise<RateUsage | null> {
  if (!appId) return null;
  try {
    return await rateBudgetObject(env, appId).usage();
  } catch (error) {
    log({
      level: "warn",
      msg: "rate budget unreadable",
      outcome: "failed",
      connection_id: connectionId,
      error: describeError(error),
    });
    return null;
  }
}

/** Mounted under `/v1/connections`. */
export const connectionSummary = router().openapi(
  createRoute({
    method: "get",
    path: "/{id}/summary",
    tags: ["Operations"],
    security: [{ bearerAuth: [] }],
    middleware: [requireScope("admin")] as const,
    summary: "A connection's health at a glance",
    description:
      "Status and why, the Intercom workspace, the latest webhook, capture, sync and failure, counts per direction " +
      `and outcome over the last hour and 24 hours (at most ${COUNT_CAP.toLocaleString("en-US")} rows counted per ` +
      "outcome: see `capped_outcomes`), parked work, dead letters, running jobs, the rate budget's latest window and " +
      "the reconciliation sweep's lag. Bounded index reads only: cheap to poll.",
    request: { params: ConnectionIdParams },
    responses: {
      200: { description: "The summary.", content: { "application/json": { schema: SummarySchema } } },
      ...problems(401, 403, 404, 422),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const connection = await connectionOrNotFound(c.env, c.var.auth.workspaceId, id);
    const now = Date.now();
    const db = await tenantDb(c.env, connection.workspaceId);
    const [reads, budget, resync, imported] = await Promise.all([
      readSummary(await tenantD1(c.env, connection.workspaceId), connection.id, now),
      rateBudgetOf(c.env, connection.appId, connection.id),
      latestJob(db, connection.id),
      latestImport(db, connection.id),
    ]);
    const sweptUntilMs = connection.sweptUntil === null ? null : connection.sweptUntil * 1000;
    return c.json(
      {
        connection_id: connection.id,
        name: connection.name,
        status: connection.status,
        status_detail: connection.statusDetail,
        intercom: { app_id: connection.appId, name: connection.appName, region: connection.region },
        source_enabled: connection.source.enabled,
        destination_enabled: connection.destination.enabled,
        generated_at: new Date(now).toISOString(),
        activity: {
          last_webhook_at: iso(reads.lastWebhookAt),
          last_capture: latestJson(reads.lastCapture),
          last_sync: latestJson(reads.lastSync),
          last_failure: latestJson(reads.lastFailure),
        },
        counts: {
          cap: COUNT_CAP,
          items: reads.counts.map((count) => ({
            direction: count.direction,
            outcome: count.outcome,
            last_hour: count.lastHour,
            last_24h: count.last24h,
          })),
          capped_outcomes: reads.cappedOutcomes,
          log_rows: {
            today: reads.rowsToday,
            per_day: logRowsPerDayOf(c.env.LOG_ROWS_PER_DAY),
            dropped_last_hour: reads.dropped.lastHour,
            dropped_last_24h: reads.dropped.last24h,
          },
        },
        parked: reads.parked,
        dead_letters: {
          pending: reads.deadLetters.pending,
          total: reads.deadLetters.total,
          latest_at: iso(reads.deadLetters.latestAt),
          capped: reads.deadLetters.capped,
        },
        jobs: {
          resync: resync ? resyncProgress(resync) : null,
          import: imported ? importProgress(imported) : null,
        },
        rate_budget: budget?.limit
          ? {
              limit: budget.limit,
              remaining: budget.remaining,
              used_share: budget.usedShare,
              window_ends_at: iso(budget.windowEnd),
              window_seconds: budget.windowMs === null ? null : budget.windowMs / 1000,
            }
          : null,
        sweep: {
          swept_until: iso(sweptUntilMs),
          lag_seconds: sweptUntilMs === null ? null : Math.max(0, Math.round((now - sweptUntilMs) / 1000)),
          companies_swept_until: iso(
            connection.companiesSweptUntil === null ? null : connection.companiesSweptUntil * 1000,
          ),
        },
      },
      200,
    );
  },
);
