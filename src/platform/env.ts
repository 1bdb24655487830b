/** The Worker's bindings as the platform-limits layer hands them to the code: D1, queues and Durable Objects wrapped. */
import type { Env } from "../env";
import { limitedD1 } from "./d1";
import { countGlobalFetch, limitedNamespace } from "./outbound";
import { limitedQueue } from "./queue";

/** Whether the layer is on: `PLATFORM_LIMITS = "enforce"` (tests and `npm run dev`); unset in production. */
export function limitsEnforced(env: { PLATFORM_LIMITS?: string }): boolean {
  return env.PLATFORM_LIMITS === "enforce";
}

const limitedOf = new WeakMap<object, object>();
const limitedEnvs = new WeakSet<object>();

/**
 * `env` with its D1, queue and Durable Object bindings checked against production's limits (the same object for the
 * same `env`), and the global `fetch` counted. Call it only when `limitsEnforced(env)`.
 */
export function limitedEnv<E extends Env>(env: E): E {
  if (limitedEnvs.has(env)) return env;
  const known = limitedOf.get(env);
  if (known) return known as E;
  countGlobalFetch();
  const limited: E = {
    ...env,
    DB: limitedD1(env.DB),
    INBOUND: limitedQueue(env.INBOUND, "INBOUND"),
    OUTBOUND: limitedQueue(env.OUTBOUND, "OUTBOUND"),
    CONTACT_SYNC: limitedNamespace(env.CONTACT_SYNC, "CONTACT_SYNC"),
    RATE_BUDGET: limitedNamespace(env.RATE_BUDGET, "RATE_BUDGET"),
  };
  limitedOf.set(env, limited);
  limitedEnvs.add(limited);
  return limited;
}
