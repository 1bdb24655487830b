/** The simulator's configuration: defaults, and validated partial updates (`POST /_sim/config`, `sim.configure`). */
import { IntercomError } from "./errors";
import type { ConfigPatch, SearchLag, SimConfig } from "./types";

/** Intercom's documented default: 1000 calls a minute spread over 10-second windows is 166; 10,000 a minute is 1666. */
export const DEFAULT_CONFIG: SimConfig = {
  client_id: "sim-client-id",
  client_secret: "sim-client-secret",
  webhook_url: "https://connector.test/webhooks/intercom",
  webhook_delivery: "manual",
  webhooks_enabled: true,
  webhook_topics: null,
  search_lag_ms: 0,
  rate_limit: { limit: 1666, window_ms: 10_000 },
  faults: { error_rate: 0, rate_limit_rate: 0, latency_ms: { min: 0, max: 0 }, fault_phase: "before" },
  oauth_deny: false,
  oauth_app_id: null,
  seed: 1,
};

const fail = (message: string) => new IntercomError(400, "parameter_invalid", message);

function check(ok: boolean, message: string): void {
  if (!ok) throw fail(message);
}

const isRate = (v: unknown): v is number => typeof v === "number" && v >= 0 && v <= 1;
const isCount = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;

/** Returns `base` with `patch` applied; throws a 400 IntercomError naming the first bad key. */
export function applyConfigPatch(base: SimConfig, patch: unknown): SimConfig {
  check(typeof patch === "object" && patch !== null && !Array.isArray(patch), "config must be an object");
  const p = patch as ConfigPatch & Record<string, unknown>;
  const next: SimConfig = structuredClone(base);
  for (const [key, value] of Object.entries(p)) {
    switch (key) {
      case "client_id":
      case "client_secret":
      case "webhook_url":
        check(typeof value === "string" && value !== "", `${key} must be a non-empty string`);
        next[key] = value as string;
        break;
      case "webhook_delivery":
        check(value === "auto" || value === "manual", "webhook_delivery must be auto or manual");
        next.webhook_delivery = value as SimConfig["webhook_delivery"];
        break;
      case "webhooks_enabled":
      case "oauth_deny":
        check(typeof value === "boolean", `${key} must be a boolean`);
        next[key] = value as boolean;
        break;
      case "webhook_topics":
        check(
          value === null || (Array.isArray(value) && value.every((t) => typeof t === "string")),
          "webhook_topics must be null or a list of topics",
        );
        next.webhook_topics = value as string[] | null;
        break;
      case "search_lag_ms":
        next.search_lag_ms = checkSearchLag(value);
        break;
      case "oauth_app_id":
        check(value === null || typeof value === "string", "oauth_app_id must be a string or null");
        next.oauth_app_id = value as string | null;
        break;
      case "seed":
        check(Number.isInteger(value), "seed must be an integer");
        next.seed = value as number;
        break;
      case "rate_limit":
        next.rate_limit = mergeRateLimit(next.rate_limit, value);
        break;
      case "faults":
        next.faults = mergeFaults(next.faults, value);
        break;
      default:
        throw fail(`unknown config key '${key}'`);
    }
  }
  return next;
}

/** A search lag is a number of milliseconds ≥ 0, or a range `{min, max}` with 0 ≤ min ≤ max (no partial merge). */
function checkSearchLag(value: unknown): SearchLag {
  if (typeof value === "number") {
    check(isCount(value), "search_lag_ms must be a number ≥ 0");
    return value;
  }
  check(
    typeof value === "object" && value !== null && !Array.isArray(value),
    "search_lag_ms must be a number or {min, max}",
  );
  const { min, max, ...rest } = value as Record<string, unknown>;
  check(Object.keys(rest).length === 0, "search_lag_ms takes only min and max");
  check(isCount(min) && isCount(max) && (min as number) <= (max as number), "search_lag_ms needs 0 ≤ min ≤ max");
  return { min: min as number, max: max as number };
}

/** The lag of one write: the fixed lag, or a draw in [min, max] from `random`. */
export function drawSearchLag(lag: SearchLag, random: () => number): number {
  if (typeof lag === "number") return lag;
  return lag.min === lag.max ? lag.min : Math.round(lag.min + random() * (lag.max - lag.min));
}

/** Merges a partial rate limit; used by the global config and by per-workspace overrides. */
export function mergeRateLimit(base: SimConfig["rate_limit"], patch: unknown): SimConfig["rate_limit"] {
  check(typeof patch === "object" && patch !== null, "rate_limit must be an object");
  const { limit = base.limit, window_ms = base.window_ms, ...rest } = patch as Record<string, unknown>;
  check(Object.keys(rest).length === 0, "rate_limit takes only limit and window_ms");
  check(Number.isInteger(limit) && (limit as number) >= 0, "rate_limit.limit must be an integer ≥ 0");
  check(Number.isInteger(window_ms) && (window_ms as number) > 0, "rate_limit.window_ms must be an integer > 0");
  return { limit: limit as number, window_ms: window_ms as number };
}

function mergeFaults(base: SimConfig["faults"], patch: unknown): SimConfig["faults"] {
  check(typeof patch === "object" && patch !== null, "faults must be an object");
  const {
    error_rate = base.error_rate,
    rate_limit_rate = base.rate_limit_rate,
    latency_ms,
    fault_phase = base.fault_phase,
    ...rest
  } = patch as Record<string, unknown>;
  check(Object.keys(rest).length === 0, "faults takes only error_rate, rate_limit_rate, latency_ms and fault_phase");
  check(isRate(error_rate), "faults.error_rate must be between 0 and 1");
  check(isRate(rate_limit_rate), "faults.rate_limit_rate must be between 0 and 1");
  check(
    (error_rate as number) + (rate_limit_rate as number) <= 1,
    "faults.error_rate + faults.rate_limit_rate must not exceed 1",
  );
  check(fault_phase === "before" || fault_phase === "after", "faults.fault_phase must be before or after");
  let latency = base.latency_ms;
  if (latency_ms !== undefined) {
    check(typeof latency_ms === "object" && latency_ms !== null, "faults.latency_ms must be {min, max}");
    const { min = latency.min, max = latency.max } = latency_ms as Record<string, unknown>;
    check(isCount(min) && isCount(max) && (min as number) <= (max as number), "faults.latency_ms needs 0 ≤ min ≤ max");
    latency = { min: min as number, max: max as number };
  }
  return {
    error_rate: error_rate as number,
    rate_limit_rate: rate_limit_rate as number,
    latency_ms: latency,
    fault_phase: fault_phase as SimConfig["faults"]["fault_phase"],
  };
}
