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
 * `env` with every D1, queue and Durable Object binding checked against production's limits (the same object for the
 * same `env`), and the global `fetch` counted. Bindings are recognised by their shape, so every data database and
 * queue is covered, whatever its name; every other value (vars, secrets) is read through from `env` as it is now.
 * Call it only when `limitsEnforced(env)`.
 */
export function limitedEnv<E extends Env>(env: E): E {
  if (limitedEnvs.has(env)) return env;
  const known = limitedOf.get(env);
  if (known) return known as E;
  countGlobalFetch();
  const wrapped = new Map<PropertyKey, unknown>();
  const limited = new Proxy(env, {
    get(target, key, receiver) {
      if (wrapped.has(key)) return wrapped.get(key);
      const value = Reflect.get(target, key, receiver);
      const binding = typeof key === "string" ? limitedBinding(key, value) : undefined;
      if (binding === undefined) return value;
      wrapped.set(key, binding);
      return binding;
    },
  });
  limitedOf.set(env, limited);
  limitedEnvs.add(limited);
  return limited;
}

/** The checked version of a binding (D1 database, queue producer, Durable Object namespace), or undefined. */
function limitedBinding(name: string, value: unknown): unknown {
  if (typeof value !== "object" || value === null) return undefined;
  const has = (method: string) => typeof (value as Record<string, unknown>)[method] === "function";
  if (has("prepare") && has("batch")) return limitedD1(value as D1Database);
  if (has("send") && has("sendBatch")) return limitedQueue(value as Queue<never>, name);
  if (has("idFromName") && has("get")) return limitedNamespace(value, name);
  return undefined;
}
