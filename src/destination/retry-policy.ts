/** What the destination does after an Intercom failure (pure): retry when, park, or give up with a reason. */
import type { IntercomFailure } from "../intercom/errors";

export type FailureDecision =
  | { kind: "retry"; at: number; countsAsAttempt: boolean; detail: string }
  | { kind: "park"; detail: string }
  /** `exhausted`: retries ran out (the work goes to the dead-letter record), rather than a final answer. */
  | { kind: "fail"; detail: string; exhausted: boolean };

/** 5xx and network failures are retried this many times (with backoff) before the work is given up. */
export const MAX_ATTEMPTS = 8;
const BASE_BACKOFF_MS = 2_000;
const MAX_BACKOFF_MS = 5 * 60_000;
/** When a 429 carries no reset time: Intercom's windows are 10 s long. */
const DEFAULT_RATE_WAIT_MS = 10_000;

/** Decides the next step after `failure` on attempt number `attempt` (1-based); `random` is in [0, 1). */
export function decide(failure: IntercomFailure, attempt: number, now: number, random: number): FailureDecision {
  switch (failure.kind) {
    case "rate_limited": {
      const at = Math.max(failure.resetAt ?? now + DEFAULT_RATE_WAIT_MS, now) + Math.floor(random * 1_000);
      return { kind: "retry", at, countsAsAttempt: false, detail: `Intercom rate limit: ${failure.message}` };
    }
    case "server": {
      if (attempt >= MAX_ATTEMPTS) {
        return { kind: "fail", detail: `gave up after ${attempt} attempts: ${failure.message}`, exhausted: true };
      }
      return { kind: "retry", at: now + backoff(attempt, random), countsAsAttempt: true, detail: failure.message };
    }
    case "unauthorized":
      return { kind: "park", detail: `Intercom rejected the token (401): ${failure.message}` };
    default:
      return { kind: "fail", detail: `Intercom answered ${failure.status}: ${failure.message}`, exhausted: false };
  }
}

/** Exponential backoff with jitter: between half and all of 2 s, 4 s, 8 s … capped at 5 minutes. */
export function backoff(attempt: number, random: number): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.max(0, attempt - 1));
  return Math.floor(ceiling / 2 + (random * ceiling) / 2);
}
