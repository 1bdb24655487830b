/**
 * Admission of the ingest writes (`PUT`/`POST`/`DELETE` under /v1/users, /v1/accounts, /v1/actions): at most
 * `INGEST_CONCURRENCY` run at once in an isolate, the others wait their turn before their body is even read, so a
 * burst costs bounded memory and D1 work however many requests wait. A request that cannot start within 30 s (or
 * finds 2,000 waiting) is a 503 with Retry-After: the connector is genuinely overloaded.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv, Env } from "../../env";
import { Gate, GateFullError } from "../../lib/gate";
import { log } from "../../lib/log";
import { problemResponse } from "../problem";

/** Default of `INGEST_CONCURRENCY`. */
export const DEFAULT_INGEST_CONCURRENCY = 32;
const RETRY_AFTER_S = 2;

/** One gate per isolate (per configured size: a deployment has one). */
const gates = new Map<number, Gate>();

/** The isolate's gate for `INGEST_CONCURRENCY`. */
function ingestGate(env: Pick<Env, "INGEST_CONCURRENCY">): Gate {
  const configured = Number(env.INGEST_CONCURRENCY);
  const limit = Number.isInteger(configured) && configured > 0 ? configured : DEFAULT_INGEST_CONCURRENCY;
  let gate = gates.get(limit);
  if (!gate) {
    gate = new Gate({ limit, maxWaiting: 2_000, maxWaitMs: 30_000, leaseMs: 60_000 });
    gates.set(limit, gate);
  }
  return gate;
}

export const ingestAdmission = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.method === "GET" || c.req.method === "HEAD" || c.req.method === "OPTIONS") return next();
  const admission = ingestGate(c.env);
  try {
    await admission.run(next);
  } catch (error) {
    if (!(error instanceof GateFullError)) throw error;
    log({
      level: "warn",
      msg: "ingest write refused",
      outcome: "overloaded",
      detail: error.reason,
      ...admission.load(),
    });
    return problemResponse(
      503,
      `The connector is busy (${error.reason}); retry after the Retry-After delay.`,
      undefined,
      {
        "Retry-After": String(RETRY_AFTER_S),
      },
    );
  }
});
