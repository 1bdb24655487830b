/**
 * The per-invocation budget of the platform-limits layer. Production counts D1 queries and subrequests per Worker
 * invocation (one HTTP request, queue batch, cron run, Durable Object alarm or RPC call), so each entry point runs its
 * work inside `runInvocation`, and the wrapped bindings find the current budget through AsyncLocalStorage: it follows
 * the work through every await, timer and `ctx.waitUntil` promise started inside it, with no budget passed by hand.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { log } from "../lib/log";
import { MAX_CONNECTIONS_WAITING_FOR_HEADERS, PLATFORM_LIMITS, type PlatformLimit, PlatformLimitError } from "./limits";

/** A description, or how to make one: most counted calls never need theirs. */
export type Described = string | (() => string);

const describe = (what: Described) => (typeof what === "string" ? what : what());

/** What one invocation has spent so far. */
export class InvocationBudget {
  queries = 0;
  subrequests = 0;
  /** Fetches started and still waiting for their response headers. */
  waitingFetches = 0;
  peakWaitingFetches = 0;

  constructor(
    /** The entry point, e.g. `fetch`, `queue intercom-inbound`, `ContactSync.alarm`. */
    readonly entry: string,
    /** The Durable Object instance whose method opened this invocation, if any. */
    readonly owner: object | null = null,
  ) {}

  /** Counts `statements` D1 queries (one per statement of a batch); `what` describes them, only when it throws. */
  queried(statements: number, what: Described): void {
    this.queries += statements;
    if (this.queries > PLATFORM_LIMITS["d1.queries"].max) crossed("d1.queries", this.queries, describe(what));
  }

  /** Counts one subrequest: a fetch, a Durable Object call, a D1 or queue call. */
  subrequest(what: Described): void {
    this.subrequests++;
    if (this.subrequests > PLATFORM_LIMITS["workers.subrequests"].max) {
      crossed("workers.subrequests", this.subrequests, describe(what));
    }
  }

  /**
   * A fetch starts waiting for its response headers. Production lets at most 6 wait at once per invocation and
   * queues the 7th until one gets its headers (Cloudflare's 2026-04 change: a connection is freed when headers
   * arrive): a 7th is a delay, not a failure, so it is recorded and logged, never thrown.
   */
  fetchStarted(what: Described): void {
    this.waitingFetches++;
    if (this.waitingFetches <= this.peakWaitingFetches) return;
    this.peakWaitingFetches = this.waitingFetches;
    if (this.peakWaitingFetches === MAX_CONNECTIONS_WAITING_FOR_HEADERS + 1) {
      log({
        level: "warn",
        msg: "more fetches wait for headers than production runs at once: the rest would queue",
        entry: this.entry,
        waiting: this.waitingFetches,
        max: MAX_CONNECTIONS_WAITING_FOR_HEADERS,
        call: describe(what),
      });
    }
  }

  fetchSettled(): void {
    this.waitingFetches--;
  }
}

const storage = new AsyncLocalStorage<InvocationBudget>();

/** The budget of the invocation running now, or undefined outside every wrapped entry point. */
export function currentBudget(): InvocationBudget | undefined {
  return storage.getStore();
}

/** Runs `work` as one invocation with a fresh budget. */
export function runInvocation<T>(entry: string, work: () => T, owner: object | null = null): T {
  return storage.run(new InvocationBudget(entry, owner), work);
}

const VIOLATIONS_KEY = Symbol.for("intercom-connector.platform-limit-violations");

const MAX_RECORDED = 100;

type ViolationLog = { [VIOLATIONS_KEY]?: PlatformLimitError[] };

/**
 * Throws (and records) the error for a crossed limit. The record lets a test fail even where the connector catches
 * the error (a consumer that retries the message, a `waitUntil` task): see `takePlatformLimitViolations`.
 */
export function crossed(limit: PlatformLimit, count: number, what: string): never {
  const error = new PlatformLimitError(limit, count, PLATFORM_LIMITS[limit].max, what);
  const globals = globalThis as ViolationLog;
  globals[VIOLATIONS_KEY] ??= [];
  // Bounded for `npm run dev`, where nothing takes them.
  if (globals[VIOLATIONS_KEY].push(error) > MAX_RECORDED) globals[VIOLATIONS_KEY].shift();
  log({
    level: "error",
    msg: "platform limit crossed",
    limit,
    count,
    max: error.max,
    what,
    entry: storage.getStore()?.entry ?? null,
  });
  throw error;
}

/** The limits crossed in this isolate since the last call, oldest first (tests assert there are none). */
export function takePlatformLimitViolations(): PlatformLimitError[] {
  const globals = globalThis as ViolationLog;
  const taken = globals[VIOLATIONS_KEY] ?? [];
  globals[VIOLATIONS_KEY] = [];
  return taken;
}
