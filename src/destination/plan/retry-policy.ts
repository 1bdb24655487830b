/** What the destination does after an Intercom failure (pure): retry when, park, or give up with a reason. */
import type { IntercomFailure } from "../../intercom/errors";

export type FailureDecision =
  /** `paced`: the connector's rate budget held the call back (bulk pacing): logged to the console, not a row. */
  | { kind: "retry"; at: number; countsAsAttempt: boolean; detail: string; paced?: boolean }
  | { kind: "park"; detail: string }
  /** `exhausted`: retries ran out (the work goes to the dead-letter record), rather than a final answer. */
  | { kind: "fail"; detail: string; exhausted: boolean };

export interface RetryLimits {
  /** 5xx and network failures are retried until this many attempts, then the work is given up (dead letter). */
  maxAttempts: number;
  /** First backoff; each next one doubles (with jitter), capped at 5 minutes. */
  baseBackoffMs: number;
}

export const DEFAULT_RETRY_LIMITS: RetryLimits = { maxAttempts: 8, baseBackoffMs: 2_000 };
const MAX_BACKOFF_MS = 5 * 60_000;

/** The limits from `SYNC_MAX_ATTEMPTS` and `SYNC_BACKOFF_BASE_MS`, defaults where unset or invalid. */
export function retryLimits(env: { SYNC_MAX_ATTEMPTS?: string; SYNC_BACKOFF_BASE_MS?: string }): RetryLimits {
  const positive = (value: string | undefined, fallback: number) => {
    const number = Number(value);
    return Number.isInteger(number) && number > 0 ? number : fallback;
  };
  return {
    maxAttempts: positive(env.SYNC_MAX_ATTEMPTS, DEFAULT_RETRY_LIMITS.maxAttempts),
    baseBackoffMs: positive(env.SYNC_BACKOFF_BASE_MS, DEFAULT_RETRY_LIMITS.baseBackoffMs),
  };
}
/** When a 429 carries no reset time: Intercom's windows are 10 s long. */
const DEFAULT_RATE_WAIT_MS = 10_000;

/** Decides the next step after `failure` on attempt number `attempt` (1-based); `random` is in [0, 1). */
export function decide(
  failure: IntercomFailure,
  attempt: number,
  now: number,
  random: number,
  limits: RetryLimits = DEFAULT_RETRY_LIMITS,
): FailureDecision {
  switch (failure.kind) {
    case "rate_limited": {
      const at = Math.max(failure.resetAt ?? now + DEFAULT_RATE_WAIT_MS, now) + Math.floor(random * 1_000);
      if (failure.heldBack) return { kind: "retry", at, countsAsAttempt: false, detail: failure.message, paced: true };
      return { kind: "retry", at, countsAsAttempt: false, detail: `Intercom rate limit: ${failure.message}` };
    }
    case "server": {
      if (attempt >= limits.maxAttempts) {
        return { kind: "fail", detail: `gave up after ${attempt} attempts: ${failure.message}`, exhausted: true };
      }
      return {
        kind: "retry",
        at: now + backoff(attempt, random, limits.baseBackoffMs),
        countsAsAttempt: true,
        detail: failure.message,
      };
    }
    case "unauthorized":
      return { kind: "park", detail: `Intercom rejected the token (401): ${failure.message}` };
    default:
      return { kind: "fail", detail: `Intercom answered ${failure.status}: ${failure.message}`, exhausted: false };
  }
}

/** Exponential backoff with jitter: between half and all of base, 2 × base, 4 × base … capped at 5 minutes. */
export function backoff(attempt: number, random: number, baseMs = DEFAULT_RETRY_LIMITS.baseBackoffMs): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(ceiling / 2 + (random * ceiling) / 2);
}
