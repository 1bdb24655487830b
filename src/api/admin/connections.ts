/**
 * `/v1/connections`: connect with an access token, list, read, patch settings, disconnect, test (README, API).
 * Admin scope; a connection of another CDP workspace answers 404.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { listConnections, updateSettings, WorkspaceTakenError } from "../../connections/repository";
import { connect, disconnect, resolveMappings, testConnection } from "../../connections/service";
import {
  applyPatch,
  CONNECTION_EXAMPLE,
  ConnectionName,
  ConnectionPatchSchema,
  ConnectionSchema,
  connectionJson,
  Region,
  unclearableMappings,
} from "../../connections/settings";
import { controlDb } from "../../db/placement";
import { IntercomCallError } from "../../intercom/errors";
import { log } from "../../lib/log";
import { autoStartImport } from "../../source/import/run";
import { requireScope } from "../auth";
import { EXAMPLES } from "../examples";
import { ProblemError } from "../problem";
import { problems } from "../problems";
import { router } from "../router";
import { connectionOrNotFound } from "./connection-lookup";
import { ConnectionIdParams } from "./connection-schemas";
import { onRestored } from "./restore";

const tags = ["Connections"];
const security = [{ bearerAuth: [] }];
const admin = requireScope("admin");
const json = (schema: z.ZodType, description: string) => ({ description, content: { "application/json": { schema } } });

const CreateConnectionBody = z
  .strictObject({
    name: ConnectionName,
    access_token: z.string().trim().min(1, "must not be empty").max(1000, "is too long").openapi({
      description: "An Intercom access token (Developer Hub → Authentication). Stored encrypted; never returned.",
    }),
    region: Region.optional().openapi({
      description: "Host to verify the token on. Omitted: the US, EU and AU hosts are tried in turn.",
    }),
  })
  .openapi("CreateConnection", { example: EXAMPLES.createConnection });

const TestResultSchema = z
  .object({
    ok: z.boolean(),
    app: z.object({ id: z.string(), name: z.string().nullable(), region: Region }).optional(),
    detail: z.string().optional(),
  })
  .openapi("ConnectionTest", { example: EXAMPLES.connectionTest });

/** The problem for a failed token connect: the admin's token or region is wrong (422), or Intercom failed. */
export function connectProblem(error: unknown, field: string, region?: string): unknown {
  if (error instanceof WorkspaceTakenError) {
    return new ProblemError(409, `${error.message} Disconnect it there first.`);
  }
  if (!(error instanceof IntercomCallError)) return error;
  const { failure } = error;
  const hosts = region ? `the ${region} host` : "the US, EU or AU hosts";
  switch (failure.kind) {
    case "unauthorized":
      return new ProblemError(422, "Intercom refused the access token; see `errors`.", [
        {
          path: field,
          message: `Intercom answered 401 on ${hosts}: the token is invalid, revoked, or of another region`,
        },
      ]);
    case "rate_limited":
      return new ProblemError(503, "Intercom is rate limiting this workspace; try again shortly.", undefined, {
        "Retry-After": "10",
      });
    case "server":
      return new ProblemError(502, `Intercom did not answer ${error.operation} (${failure.message}); try again.`);
    default:
      return new ProblemError(422, "Intercom refused the access token; see `errors`.", [
        { path: field, message: `Intercom answered ${failure.status} to ${error.operation}: ${failure.message}` },
      ]);
  }
}

export const connectionsApi = router()
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags,
      security,
      middleware: [admin] as const,
      summary: "Connect an Intercom workspace with an access token",
      description:
        "Verifies the token with `GET /me` and stores the connection. Connecting an Intercom workspace that this CDP " +
        "workspace already has replaces its token (200); one connected to another CDP workspace is a 409.",
      request: { body: { required: true, content: { "application/json": { schema: CreateConnectionBody } } } },
      responses: {
        201: json(ConnectionSchema, "Connected."),
        200: json(ConnectionSchema, "Reconnected: the existing connection, its token replaced."),
        ...problems(400, 401, 403, 409, 422, 502, 503),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const auth = c.var.auth;
      try {
        const { row, created } = await connect(
          c.env,
          controlDb(c.env),
          {
            workspaceId: auth.workspaceId,
            name: body.name,
            token: body.access_token,
            ...(body.region ? { region: body.region } : {}),
            method: "token",
          },
          onRestored(c.env),
        );
        await autoStartImport(c.env, row);
        return c.json(connectionJson(row), created ? 201 : 200);
      } catch (error) {
        if (error instanceof IntercomCallError) {
          log({
            level: "warn",
            msg: "connect with token failed",
            outcome: "failed",
            workspace_id: auth.workspaceId,
            reason: error.failure.kind,
            intercom_status: error.failure.status,
          });
        }
        throw connectProblem(error, "access_token", body.region);
      }
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/",
      tags,
      security,
      middleware: [admin] as const,
      summary: "List the workspace's connections",
      responses: {
        200: json(
          z
            .object({ items: z.array(ConnectionSchema) })
            .openapi("ConnectionList", { example: { items: [CONNECTION_EXAMPLE] } }),
          "The connections, oldest first.",
        ),
        ...problems(401, 403),
      },
    }),
    async (c) => {
      const rows = await listConnections(controlDb(c.env), c.var.auth.workspaceId);
      return c.json({ items: rows.map(connectionJson) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/{id}",
      tags,
      security,
      middleware: [admin] as const,
      summary: "Read a connection",
      request: { params: ConnectionIdParams },
      responses: { 200: json(ConnectionSchema, "The connection."), ...problems(401, 403, 404, 422) },
    }),
    async (c) => {
      const row = await connectionOrNotFound(c.env, c.var.auth.workspaceId, c.req.valid("param").id);
      return c.json(connectionJson(row), 200);
    },
  )
  .openapi(
    createRoute({
      method: "patch",
      path: "/{id}",
      tags,
      security,
      middleware: [admin] as const,
      summary: "Change a connection's settings (partial)",
      description:
        "Only the keys sent change. A mapping to `custom_attributes.<name>` that Intercom lacks creates the attribute " +
        "with the mapping's `type`; a type that clashes with an existing attribute is a 422.",
      request: {
        params: ConnectionIdParams,
        body: { required: true, content: { "application/json": { schema: ConnectionPatchSchema } } },
      },
      responses: {
        200: json(ConnectionSchema, "The connection after the change."),
        ...problems(400, 401, 403, 404, 409, 422, 502, 503),
      },
    }),
    async (c) => {
      const { id } = c.req.valid("param");
      const patch = c.req.valid("json");
      const db = controlDb(c.env);
      const { workspaceId } = c.var.auth;
      const row = await connectionOrNotFound(c.env, workspaceId, id);
      const unclearable = unclearableMappings(row.destination, patch);
      if (unclearable.length > 0) throw new ProblemError(422, "The request is not valid; see `errors`.", unclearable);
      const mappings = patch.destination?.mappings ?? {};
      const resolved = Object.keys(mappings).length > 0 ? await resolveMappings(c.env, db, row, mappings) : {};
      const updated = await updateSettings(db, workspaceId, id, (current) => applyPatch(current, patch, resolved));
      if (!updated) throw new ProblemError(404, `No connection ${id} in this workspace.`);
      if (patch.source?.enabled === true || patch.source?.import_on_enable === true)
        await autoStartImport(c.env, updated);
      log({
        msg: "connection settings changed",
        outcome: "updated",
        connection_id: id,
        workspace_id: workspaceId,
        changed: changedKeys(patch),
        version: updated.version,
      });
      return c.json(connectionJson(updated), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/{id}",
      tags,
      security,
      middleware: [admin] as const,
      summary: "Disconnect",
      description:
        "Uninstalls the app at Intercom (best effort), forgets the token and marks the connection `disconnected`. " +
        "Captured users, accounts and events stay.",
      request: { params: ConnectionIdParams },
      responses: { 200: json(ConnectionSchema, "The disconnected connection."), ...problems(401, 403, 404) },
    }),
    async (c) => {
      const db = controlDb(c.env);
      const row = await connectionOrNotFound(c.env, c.var.auth.workspaceId, c.req.valid("param").id);
      return c.json(connectionJson(await disconnect(c.env, db, row)), 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{id}/test",
      tags,
      security,
      middleware: [admin] as const,
      summary: "Test a connection with GET /me",
      description:
        "`ok: false` with a `detail` when Intercom refuses the token (the connection becomes `revoked`) or fails. " +
        "A successful test of a revoked connection restores it.",
      request: { params: ConnectionIdParams },
      responses: { 200: json(TestResultSchema, "The test result."), ...problems(401, 403, 404, 409) },
    }),
    async (c) => {
      const db = controlDb(c.env);
      const row = await connectionOrNotFound(c.env, c.var.auth.workspaceId, c.req.valid("param").id);
      return c.json(await testConnection(c.env, db, row, onRestored(c.env)), 200);
    },
  );

function changedKeys(patch: z.infer<typeof ConnectionPatchSchema>): string[] {
  const keys: string[] = [];
  if (patch.name !== undefined) keys.push("name");
  for (const key of Object.keys(patch.source ?? {})) keys.push(`source.${key}`);
  for (const [key, value] of Object.entries(patch.destination ?? {})) {
    if (key === "mappings") keys.push(...Object.keys(value as object).map((model) => `destination.mappings.${model}`));
    else keys.push(`destination.${key}`);
  }
  return keys;
}
