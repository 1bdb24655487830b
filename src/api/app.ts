/** The HTTP app: one sub-app per resource, one error handler that answers problem+json, one OpenAPI document. */
import { methodNotAllowed } from "hono/method-not-allowed";
import { describeError, isTransientPlatformError } from "../lib/errors";
import { log } from "../lib/log";
import { connectionsApi } from "./admin/connections";
import { deadLettersApi } from "./admin/dead-letters";
import { destinationAdmin } from "./admin/destination-admin";
import { eraseUser, erasuresApi } from "./admin/erasures";
import { importsApi } from "./admin/imports";
import { connectionLogs } from "./admin/logs";
import { oauthCallback, oauthStart } from "./admin/oauth";
import { connectionSummary } from "./admin/summary";
import { apiBodyLimit } from "./body-limit";
import { consoleApp } from "./console";
import { docs } from "./docs";
import { health } from "./health";
import { accounts } from "./ingest/accounts";
import { actionsApi } from "./ingest/actions";
import { ingestAdmission } from "./ingest/admission";
import { users } from "./ingest/users";
import { webhooks } from "./intercom-webhook/route";
import { uninstall } from "./intercom-webhook/uninstall";
import { problemOf, problemResponse } from "./problem";
import { router } from "./router";
import { noSniff } from "./security-headers";

/** The answer to a request the platform could not serve right now (D1, a queue or an object overloaded). */
const OVERLOADED_DETAIL =
  "The connector is busy right now; retry after the Retry-After delay (ingest writes and keyed actions are idempotent).";
const OVERLOADED_RETRY_AFTER_S = 2;

const api = router();
api.use(noSniff);
// A path that exists, asked with another method: 405 with `Allow`, rather than the 404 of a path that does not.
api.use(
  methodNotAllowed({
    app: api,
    onMethodNotAllowed: (_c, methods) =>
      problemResponse(405, `This route answers ${methods.join(", ")}.`, undefined, { Allow: methods.join(", ") }),
  }),
);
api.use("/v1/*", apiBodyLimit);
// `/x/*` matches `/x` too: each path once, or a request would pass the gate twice.
for (const path of ["/v1/users/*", "/v1/accounts/*", "/v1/actions/*"]) api.use(path, ingestAdmission);
api.use("/webhooks/intercom/uninstall", apiBodyLimit);

export const app = api
  .route("/", health)
  .route("/", docs)
  .route("/console", consoleApp)
  .route("/v1/connections", oauthStart)
  .route("/v1/connections", connectionsApi)
  .route("/v1/connections", connectionLogs)
  .route("/v1/connections", destinationAdmin)
  .route("/v1/connections", importsApi)
  .route("/v1/connections", deadLettersApi)
  .route("/v1/connections", connectionSummary)
  .route("/oauth/intercom", oauthCallback)
  .route("/webhooks/intercom/uninstall", uninstall)
  .route("/webhooks/intercom", webhooks)
  .route("/v1/users", users)
  .route("/v1/users", eraseUser)
  .route("/v1/erasures", erasuresApi)
  .route("/v1/accounts", accounts)
  .route("/v1/actions", actionsApi)
  .notFound(() => problemResponse(404, "No such route."))
  .onError((err, c) => {
    const problem = problemOf(err);
    if (problem) return problemResponse(problem.status, problem.message || undefined, problem.errors, problem.headers);
    if (isTransientPlatformError(err)) {
      log({
        level: "warn",
        msg: "overloaded",
        route: c.req.routePath,
        method: c.req.method,
        error: describeError(err),
      });
      return problemResponse(503, OVERLOADED_DETAIL, undefined, { "Retry-After": String(OVERLOADED_RETRY_AFTER_S) });
    }
    // Described without values: a failed query's message carries its parameters (personal data, sealed tokens).
    log({
      level: "error",
      msg: "unhandled error",
      route: c.req.routePath,
      method: c.req.method,
      error: describeError(err),
    });
    return problemResponse(500, "An unexpected error occurred; it has been logged.");
  });

app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
  type: "http",
  scheme: "bearer",
  bearerFormat: "JWT",
  description: "A JWT with `workspace_id` and `scope` (`admin`, `ingest`) claims; see README, Authentication.",
});

app.doc31("/openapi.json", {
  openapi: "3.1.0",
  info: {
    title: "Intercom Connector",
    version: "1.0.0",
    description: "Two-way sync between the CDP and Intercom. Errors are application/problem+json (RFC 9457).",
  },
});
