/**
 * `GET /v1/connections/:id/logs`: the sync log of a connection, newest first, filtered, with a cursor that is the
 * last row's id (autoincrement), so rows written while paging never shift a page.
 *
 * Every query is an index search: each filter has an index `(connection_id, <column>, id)`, and `q` (an email, a
 * CDP or Intercom id) is three such searches (email, object_id, intercom_id) joined by UNION, each already in id
 * order and limited, instead of one OR that SQLite may answer by walking all of the connection's rows.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { tenantD1 } from "../../db/placement";
import type { SyncOutcome } from "../../db/schema";
import { requireScope } from "../auth";
import { EXAMPLES } from "../examples";
import { problems } from "../problems";
import { router } from "../router";
import { connectionOrNotFound } from "./connection-lookup";
import { ConnectionIdParams } from "./connection-schemas";

export const DEFAULT_LOG_LIMIT = 50;
export const MAX_LOG_LIMIT = 200;

export const OUTCOMES = [
  "captured",
  "skipped",
  "duplicate",
  "stale",
  "pending",
  "failed",
  "synced",
  "noop",
  "conflict",
  "retrying",
  "parked",
  "ignored",
  "dead_letter",
] as const satisfies readonly SyncOutcome[];

const LogsQuery = z.object({
  direction: z.enum(["in", "out"]).optional().openapi({ description: "`in`: Intercom → CDP; `out`: CDP → Intercom." }),
  outcome: z.enum(OUTCOMES).optional(),
  object_type: z
    .string()
    .regex(/^[a-z_]{1,40}$/, "must be a lower-case object type such as user, account, contact, company, event, action")
    .optional(),
  q: z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(320, "must be at most 320 characters")
    .optional()
    .openapi({ description: "Exact email (any case), CDP user/account id, or Intercom id." }),
  cursor: z
    .string()
    .regex(/^[1-9][0-9]{0,15}$/, "must be a next_cursor returned by this endpoint")
    .optional()
    .openapi({ description: "`next_cursor` of the previous page." }),
  limit: z.coerce
    .number({ error: "must be an integer" })
    .int("must be an integer")
    .min(1, "must be at least 1")
    .max(MAX_LOG_LIMIT, `must be at most ${MAX_LOG_LIMIT}`)
    .default(DEFAULT_LOG_LIMIT)
    .openapi({ type: "integer", default: DEFAULT_LOG_LIMIT }),
});

const LogItem = z
  .object({
    id: z.string(),
    direction: z.enum(["in", "out"]),
    outcome: z.string(),
    object_type: z.string(),
    object_id: z.string().nullable(),
    intercom_id: z.string().nullable(),
    email: z.string().nullable(),
    action: z.string().nullable(),
    detail: z.string().nullable(),
    created_at: z.string().openapi({ format: "date-time" }),
  })
  .openapi("SyncLogEntry");

interface Row {
  id: number;
  direction: "in" | "out";
  outcome: string;
  object_type: string;
  object_id: string | null;
  intercom_id: string | null;
  email: string | null;
  action: string | null;
  detail: string | null;
  created_at: number;
}

export interface LogFilter {
  connectionId: string;
  direction?: string | undefined;
  outcome?: string | undefined;
  objectType?: string | undefined;
  q?: string | undefined;
  /** Rows with a smaller id than this. */
  before?: number | undefined;
  limit: number;
}

const COLUMNS = "id, direction, outcome, object_type, object_id, intercom_id, email, action, detail, created_at";

/** The SQL and parameters of one page (exported for the query-plan test). */
export function logsQuery(filter: LogFilter): { sql: string; params: unknown[] } {
  const conditions = ["connection_id = ?"];
  const params: unknown[] = [filter.connectionId];
  const where = (condition: string, value: unknown) => {
    conditions.push(condition);
    params.push(value);
  };
  if (filter.direction) where("direction = ?", filter.direction);
  if (filter.outcome) where("outcome = ?", filter.outcome);
  if (filter.objectType) where("object_type = ?", filter.objectType);
  if (filter.before !== undefined) where("id < ?", filter.before);
  if (!filter.q) {
    return {
      sql: `SELECT ${COLUMNS} FROM sync_logs WHERE ${conditions.join(" AND ")} ORDER BY id DESC LIMIT ?`,
      params: [...params, filter.limit],
    };
  }
  const branches: string[] = [];
  const allParams: unknown[] = [];
  const searches: Array<[string, string, string]> = [
    ["email", filter.q.toLowerCase(), "sync_logs_email"],
    ["object_id", filter.q, "sync_logs_object_id"],
    ["intercom_id", filter.q, "sync_logs_intercom_id"],
  ];
  for (const [column, value, index] of searches) {
    branches.push(
      `SELECT * FROM (SELECT ${COLUMNS} FROM sync_logs INDEXED BY ${index} WHERE ${conditions.join(" AND ")} AND ${column} = ? ORDER BY id DESC LIMIT ?)`,
    );
    allParams.push(...params, value, filter.limit);
  }
  return { sql: `${branches.join(" UNION ")} ORDER BY id DESC LIMIT ?`, params: [...allParams, filter.limit] };
}

/** Reads one page; `next_cursor` is set when more rows may follow. */
export async function readLogs(db: D1Database, filter: LogFilter) {
  const { sql, params } = logsQuery({ ...filter, limit: filter.limit + 1 });
  const { results } = await db
    .prepare(sql)
    .bind(...params)
    .all<Row>();
  const page = results.slice(0, filter.limit);
  return {
    items: page.map((row) => ({
      id: String(row.id),
      direction: row.direction,
      outcome: row.outcome,
      object_type: row.object_type,
      object_id: row.object_id,
      intercom_id: row.intercom_id,
      email: row.email,
      action: row.action,
      detail: row.detail,
      created_at: new Date(row.created_at).toISOString(),
    })),
    next_cursor: results.length > filter.limit ? String(page[page.length - 1]!.id) : null,
  };
}

/** Mounted under `/v1/connections`. */
export const connectionLogs = router().openapi(
  createRoute({
    method: "get",
    path: "/{id}/logs",
    tags: ["Sync logs"],
    security: [{ bearerAuth: [] }],
    middleware: [requireScope("admin")] as const,
    summary: "Read a connection's sync log",
    description:
      "Newest first. Filters combine with AND; `q` matches an email (case-insensitive), a CDP user/account id or an " +
      "Intercom id exactly. Pass `next_cursor` as `cursor` for the next page (`null`: no more). Rows are kept " +
      "`LOG_RETENTION_DAYS` days. `noop`, `duplicate` and `ignored` outcomes are counted, not listed (see the " +
      "summary's `counts`), and past `LOG_ROWS_PER_DAY` rows a day a connection's further rows are counted as " +
      "dropped (`counts.log_rows`).",
    request: { params: ConnectionIdParams, query: LogsQuery },
    responses: {
      200: {
        description: "One page of log entries.",
        content: {
          "application/json": {
            schema: z
              .object({ items: z.array(LogItem), next_cursor: z.string().nullable() })
              .openapi("SyncLogPage", { example: EXAMPLES.syncLogPage }),
          },
        },
      },
      ...problems(401, 403, 404, 422),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const query = c.req.valid("query");
    const connection = await connectionOrNotFound(c.env, c.var.auth.workspaceId, id);
    const page = await readLogs(await tenantD1(c.env, connection.workspaceId), {
      connectionId: id,
      direction: query.direction,
      outcome: query.outcome,
      objectType: query.object_type,
      q: query.q,
      before: query.cursor === undefined ? undefined : Number(query.cursor),
      limit: query.limit,
    });
    return c.json(page, 200);
  },
);
