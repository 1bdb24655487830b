/**
 * Subrequests of the platform-limits layer: the global `fetch` (which the Intercom SDK, the OAuth calls and the JWKS
 * client all use) and the Durable Object stubs, counted per invocation; fetches waiting for headers are tracked too.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { currentBudget, type InvocationBudget } from "./invocation";

/** The budget whose fetch is in progress: a fetch made by another fetch (a test's msw passing through) is one. */
const fetchInProgress = new AsyncLocalStorage<InvocationBudget>();

/** Scheme, host and path of a request: its query string can carry personal data, so it is left out. */
function describeRequest(input: RequestInfo | URL, init?: RequestInit): string {
  const request = input instanceof Request ? input : null;
  const method = init?.method ?? request?.method ?? "GET";
  try {
    const url = new URL(request ? request.url : String(input));
    return `fetch ${method} ${url.origin}${url.pathname}`;
  } catch {
    return `fetch ${method}`;
  }
}

const counters = new WeakMap<typeof fetch, typeof fetch>();
const originals = new WeakMap<typeof fetch, typeof fetch>();

/** `fetch` counted against the current invocation: one subrequest, and one connection until its headers arrive. */
function countingFetch(target: typeof fetch): typeof fetch {
  const known = counters.get(target);
  if (known) return known;
  const counted = new Proxy(target, {
    apply(fn, self, args: Parameters<typeof fetch>) {
      const budget = currentBudget();
      if (!budget || fetchInProgress.getStore() === budget) return Reflect.apply(fn, self, args);
      const what = () => describeRequest(...args);
      let pending: Promise<Response>;
      try {
        budget.subrequest(what);
        budget.fetchStarted(what);
      } catch (error) {
        // fetch() fails by rejecting, never by throwing.
        return Promise.reject(error);
      }
      try {
        pending = fetchInProgress.run(budget, () => Reflect.apply(fn, self, args) as Promise<Response>);
      } catch (error) {
        budget.fetchSettled();
        throw error;
      }
      return pending.finally(() => budget.fetchSettled());
    },
  });
  counters.set(target, counted);
  originals.set(counted, target);
  return counted;
}

let installed = false;

/**
 * Makes the global `fetch` a counted one, once per isolate. It stays counted when something assigns another `fetch`
 * later (msw in tests does, and restores the previous one): the property becomes an accessor that counts whatever
 * was assigned last. Outside an invocation the counted fetch is the plain one.
 */
export function countGlobalFetch(): void {
  if (installed) return;
  installed = true;
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, "fetch");
  let current: typeof fetch = globalThis.fetch;
  if (!descriptor?.configurable) {
    globalThis.fetch = countingFetch(current);
    return;
  }
  Object.defineProperty(globalThis, "fetch", {
    configurable: true,
    enumerable: descriptor.enumerable ?? false,
    get: () => countingFetch(current),
    set: (next: typeof fetch) => {
      current = originals.get(next) ?? next;
    },
  });
}

/** A Durable Object stub whose calls (RPC methods and `fetch`) each count as a subrequest. */
function countedStub<T extends object>(stub: T, binding: string): T {
  return new Proxy(stub, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function" || property === "then") return value;
      const what = `${binding}.${String(property)}`;
      return (...args: unknown[]) => {
        try {
          currentBudget()?.subrequest(what);
        } catch (error) {
          // A stub call fails by rejecting.
          return Promise.reject(error);
        }
        return Reflect.apply(value, target, args);
      };
    },
  });
}

/**
 * A Durable Object namespace whose stubs count their calls. Production counts calls to Durable Objects among an
 * invocation's subrequests, so the layer does too.
 */
export function limitedNamespace<T extends object>(namespace: T, binding: string): T {
  return new Proxy(namespace, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      if (property === "get" || property === "getByName") {
        return (...args: unknown[]) => countedStub(Reflect.apply(value, target, args) as object, binding);
      }
      if (property === "jurisdiction") {
        return (...args: unknown[]) => limitedNamespace(Reflect.apply(value, target, args) as object, binding);
      }
      return value.bind(target);
    },
  });
}
