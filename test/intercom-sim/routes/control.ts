/** The control API under /_sim: JSON, no auth, each route a thin wrapper over a Simulator method. */
import { type Context, Hono } from "hono";
import { IntercomError, invalid } from "../errors";
import { rejectUnknownKeys, type SimEnv } from "../http";
import type { Simulator } from "../simulator";
import type { EmitRequest, WorkspaceInit } from "../types";
import type { WideWorkspaceOptions } from "../wide/seed";

/** The JSON object body of a control request ({} when empty). */
async function controlBody(c: Context<SimEnv>): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (text === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid("The body must be JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw invalid("The body must be a JSON object");
  return value as Record<string, unknown>;
}

const WORKSPACE_KEYS = new Set(["app_id", "name", "region", "token", "rate_limit"]);

function workspaceInit(body: Record<string, unknown>): WorkspaceInit {
  rejectUnknownKeys(body, WORKSPACE_KEYS);
  for (const key of ["app_id", "name", "region", "token"]) {
    if (body[key] !== undefined && (typeof body[key] !== "string" || body[key] === ""))
      throw invalid(`${key} must be a non-empty string`);
  }
  if (body.rate_limit !== undefined && (typeof body.rate_limit !== "object" || body.rate_limit === null))
    throw invalid("rate_limit must be an object");
  return body as WorkspaceInit;
}

/** The routes mounted under /_sim. */
export function controlRoutes(sim: Omit<Simulator, "app">) {
  return new Hono<SimEnv>()
    .post("/reset", (c) => {
      sim.reset();
      return c.json({ ok: true });
    })
    .get("/config", (c) => c.json(sim.config))
    .post("/config", async (c) => c.json(sim.configure(await controlBody(c))))
    .get("/workspaces", (c) => c.json({ workspaces: sim.workspaces() }))
    .post("/workspaces", async (c) => c.json(sim.createWorkspace(workspaceInit(await controlBody(c))), 201))
    .patch("/workspaces/:app_id", async (c) => {
      const body = await controlBody(c);
      rejectUnknownKeys(body, new Set(["rate_limit"]));
      if (body.rate_limit !== null && (typeof body.rate_limit !== "object" || body.rate_limit === undefined)) {
        throw invalid("rate_limit must be an object or null");
      }
      sim.setWorkspaceRateLimit(c.req.param("app_id"), body.rate_limit as Record<string, number> | null);
      return c.json(sim.workspaces().find((ws) => ws.app_id === c.req.param("app_id")));
    })
    .post("/workspaces/:app_id/tokens", (c) => c.json({ token: sim.issueToken(c.req.param("app_id")) }, 201))
    .post("/workspaces/:app_id/revoke", (c) => {
      sim.revokeTokens(c.req.param("app_id"));
      return c.json({ ok: true });
    })
    .post("/workspaces/:app_id/seed-wide", async (c) => {
      const body = await controlBody(c);
      rejectUnknownKeys(body, new Set(["contacts", "leads", "companies", "attributes", "seed"]));
      return c.json(sim.seedWideWorkspace(c.req.param("app_id"), body as WideWorkspaceOptions), 201);
    })
    .post("/search/settle", (c) => {
      sim.settleSearch();
      return c.json({ ok: true });
    })
    .get("/journal", (c) => {
      const since = Number(c.req.query("since") ?? 0);
      if (!Number.isInteger(since)) throw invalid("since must be an integer seq");
      return c.json({ entries: sim.journal({ since, app_id: c.req.query("app_id") }) });
    })
    .delete("/journal", (c) => {
      sim.clearJournal();
      return c.json({ ok: true });
    })
    .get("/state", (c) => {
      const appId = c.req.query("app_id");
      return c.json(appId === undefined ? { workspaces: sim.workspaces() } : sim.state(appId));
    })
    .post("/webhooks/emit", async (c) => {
      const notification = sim.emit((await controlBody(c)) as unknown as EmitRequest);
      return c.json({ notification }, notification ? 201 : 200);
    })
    .post("/webhooks/deliver", async (c) => c.json({ statuses: await sim.deliverWebhooks() }))
    .get("/webhooks", (c) => c.json({ pending: sim.pendingWebhooks(), delivered: sim.deliveries() }))
    .all("*", () => {
      throw new IntercomError(404, "not_found", "No such control route");
    });
}
