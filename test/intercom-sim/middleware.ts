/** The REST pipeline around every Intercom route: journal, bearer auth and region, rate limit, fault injection, auto delivery. */
import type { MiddlewareHandler } from "hono";
import type { SimCore } from "./core";
import { errorResponse } from "./errors";
import { drawFault, drawLatency } from "./faults";
import { parseBody, type SimEnv } from "./http";
import { consume, rateLimitHeaders, rateLimitMessage } from "./rate-limit";
import type { Region } from "./types";
import type { Workspace } from "./workspace";

const utf8 = new TextDecoder();

/** Splits `/eu/contacts` into region EU and path `/contacts`; the US host has no prefix. */
export function splitRegion(pathname: string): { region: Region | null; path: string } {
  const match = /^\/(eu|au)(\/.*)?$/.exec(pathname);
  if (!match) return { region: null, path: pathname };
  return { region: match[1] === "eu" ? "EU" : "AU", path: match[2] ?? "/" };
}

/** Hono `getPath`: routes see the path without its region prefix, so one set of routes serves every region. */
export function regionlessPath(request: Request): string {
  return splitRegion(new URL(request.url).pathname).path;
}

function headerRegion(value: string | undefined): Region {
  const upper = value?.toUpperCase();
  return upper === "EU" || upper === "AU" ? upper : "US";
}

/** Records every REST request; also resolves the region and parses the body once for the handlers. */
export function journal(core: SimCore): MiddlewareHandler<SimEnv> {
  return async (c, next) => {
    const url = new URL(c.req.url);
    const { region: prefixRegion, path } = splitRegion(url.pathname);
    const region = prefixRegion ?? headerRegion(c.req.header("x-sim-region"));
    // Bytes, not .text(): workerd warns when .text() reads a form-encoded body.
    const body = parseBody(utf8.decode(await c.req.arrayBuffer()), c.req.header("content-type"));
    c.set("region", region);
    c.set("body", body);
    const entry = core.openJournalEntry({
      at: core.now(),
      app_id: null,
      region,
      method: c.req.method,
      path,
      query: Object.fromEntries(url.searchParams),
      intercom_version: c.req.header("intercom-version") ?? null,
      request_body: body.ok ? (body.value ?? null) : body.raw,
    });
    await next();
    entry.status = c.res.status;
    entry.app_id = (c.get("ws") as Workspace | undefined)?.appId ?? null;
  };
}

/** 401 unless the bearer token is live and belongs to a workspace of the host's region (as Intercom's regional hosts). */
export function authenticate(core: SimCore): MiddlewareHandler<SimEnv> {
  return async (c, next) => {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "")?.[1];
    const appId = token === undefined ? undefined : core.tokens.get(token);
    const ws = appId === undefined ? undefined : core.workspaces.get(appId);
    if (!ws || ws.region !== c.get("region")) return errorResponse(401, "unauthorized", "Access Token Invalid");
    c.set("ws", ws);
    await next();
  };
}

/** Counts the request in its workspace's window; every authenticated response carries the X-RateLimit-* headers. */
export function rateLimit(core: SimCore): MiddlewareHandler<SimEnv> {
  return async (c, next) => {
    const ws = c.get("ws");
    const limit = core.rateLimitOf(ws);
    const decision = consume(ws.window, limit, core.now());
    const headers = rateLimitHeaders(decision);
    if (!decision.allowed) return errorResponse(429, "rate_limit_exceeded", rateLimitMessage(limit), headers);
    await next();
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
  };
}

/** Latency, spontaneous 5xx and 429; with fault_phase "after" the handler runs first, like a response lost on the way. */
export function injectFaults(core: SimCore): MiddlewareHandler<SimEnv> {
  return async (c, next) => {
    const faults = core.config.faults;
    const latency = drawLatency(faults, core.random);
    if (latency > 0) await core.sleep(latency);
    const fault = drawFault(faults, core.random);
    if (!fault) return next();
    if (faults.fault_phase === "after") await next();
    const message = fault.status === 429 ? rateLimitMessage(core.rateLimitOf(c.get("ws"))) : fault.message;
    c.res = errorResponse(fault.status, fault.code, message);
  };
}

/** With webhook_delivery "auto", POSTs the notifications a request produced once its response is out. */
export function autoDeliver(core: SimCore): MiddlewareHandler<SimEnv> {
  return async (c, next) => {
    await next();
    if (core.config.webhook_delivery !== "auto" || core.outbox.size === 0) return;
    const delivery = core.deliverPending();
    try {
      c.executionCtx.waitUntil(delivery);
    } catch {
      // In-process there is no ExecutionContext: the delivery simply runs on, detached.
    }
  };
}
