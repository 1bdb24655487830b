/** Fixed-window request counting per workspace, with the numbers Intercom puts in its X-RateLimit-* headers. */
import type { RateLimitConfig } from "./types";

export interface WindowCounter {
  /** Start of the current window, milliseconds since the epoch (a multiple of window_ms). */
  start: number;
  count: number;
}

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Unix seconds at which the window ends, rounded up. */
  reset: number;
}

/** Counts one request in `counter` (mutated) and says whether it fits the window's budget. */
export function consume(counter: WindowCounter, limit: RateLimitConfig, nowMs: number): RateDecision {
  const start = Math.floor(nowMs / limit.window_ms) * limit.window_ms;
  if (counter.start !== start) {
    counter.start = start;
    counter.count = 0;
  }
  counter.count += 1;
  return {
    allowed: counter.count <= limit.limit,
    limit: limit.limit,
    remaining: Math.max(0, limit.limit - counter.count),
    reset: Math.ceil((start + limit.window_ms) / 1000),
  };
}

/** The headers Intercom sends on every authenticated response. */
export function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  return {
    "X-RateLimit-Limit": String(decision.limit),
    "X-RateLimit-Remaining": String(decision.remaining),
    "X-RateLimit-Reset": String(decision.reset),
  };
}

/** Intercom's 429 message, e.g. "Exceeded rate limit of 167 in 10_seconds". */
export function rateLimitMessage(limit: RateLimitConfig): string {
  return `Exceeded rate limit of ${limit.limit} in ${limit.window_ms / 1000}_seconds`;
}
