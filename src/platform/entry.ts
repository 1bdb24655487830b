/**
 * The invocation boundaries of the platform-limits layer: the Worker's handlers and the Durable Objects' methods each
 * run as one invocation with a fresh budget and the limited `env`. Whether the layer is on is decided once, when the
 * module loads, from the Worker's vars: with it off (production) the handlers and classes are returned untouched, so
 * production runs exactly the code it would run without the layer.
 */
import { DurableObject, env as workerEnv } from "cloudflare:workers";
import type { Env } from "../env";
import { limitedEnv, limitsEnforced } from "./env";
import { crossed, currentBudget, runInvocation } from "./invocation";
import { PLATFORM_LIMITS } from "./limits";

const enforced = limitsEnforced(workerEnv as { PLATFORM_LIMITS?: string });

/** The Worker's handlers, each call one invocation with the limited `env` (or `handler` itself when off). */
export function limitedWorker<H extends ExportedHandler<Env>>(handler: H): H {
  if (!enforced) return handler;
  const { fetch, queue, scheduled } = handler;
  const limited: ExportedHandler<Env> = {
    ...handler,
    ...(fetch && {
      fetch: (request, env, ctx) => runInvocation("fetch", () => fetch(request, limitedEnv(env), ctx)),
    }),
    ...(queue && {
      queue: (batch, env, ctx) =>
        runInvocation(`queue ${batch.queue}`, async () => {
          const size = batch.messages.length;
          if (size > PLATFORM_LIMITS["queues.consumer_batch"].max) {
            crossed("queues.consumer_batch", size, `consumer batch of ${batch.queue}`);
          }
          return queue(batch, limitedEnv(env), ctx);
        }),
    }),
    ...(scheduled && {
      scheduled: (controller, env, ctx) =>
        runInvocation(`scheduled ${controller.cron}`, () => scheduled(controller, limitedEnv(env), ctx)),
    }),
  };
  return limited as H;
}

type DurableObjectClass = new (ctx: DurableObjectState, env: Env) => object;

/** Every method a Durable Object class defines (its own and its ancestors' up to `DurableObject`). */
function methodsOf(prototype: object): Map<string, (...args: unknown[]) => unknown> {
  const methods = new Map<string, (...args: unknown[]) => unknown>();
  for (let p = prototype; p && p !== DurableObject.prototype && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const name of Object.getOwnPropertyNames(p)) {
      const value = Object.getOwnPropertyDescriptor(p, name)?.value;
      if (name !== "constructor" && typeof value === "function" && !methods.has(name)) methods.set(name, value);
    }
  }
  return methods;
}

/**
 * A Durable Object class whose instances get the limited `env` and whose every call from outside (an RPC method,
 * `alarm`, `fetch`) is one invocation. Methods are wrapped generically, private helpers included (TypeScript's
 * `private` does not exist at run time): a call made while this object's own invocation runs joins it rather than
 * starting a new budget. `Base` itself when the layer is off.
 */
export function limitedDurableObject<C extends DurableObjectClass>(Base: C): C {
  if (!enforced) return Base;
  const Limited = class extends (Base as DurableObjectClass) {
    constructor(ctx: DurableObjectState, env: Env) {
      super(ctx, limitedEnv(env));
    }
  };
  for (const [name, method] of methodsOf(Base.prototype)) {
    const entry = `${Base.name}.${name}`;
    Object.defineProperty(Limited.prototype, name, {
      configurable: true,
      writable: true,
      value: function (this: { ctx?: object }, ...args: unknown[]) {
        // The state object identifies the instance even where the test pool hands out a proxy of it.
        const owner = this.ctx ?? this;
        if (currentBudget()?.owner === owner) return method.apply(this, args);
        return runInvocation(entry, () => method.apply(this, args), owner);
      },
    });
  }
  Object.defineProperty(Limited, "name", { value: Base.name });
  return Limited as unknown as C;
}
