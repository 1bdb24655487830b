/**
 * A `fetch` for the Intercom SDK that spends the workspace's shared rate budget: it waits for a reserved slot
 * before each call and reports the response's `X-RateLimit-*` headers after it.
 */
import type { Env } from "../env";
import { HELD_BACK_HEADER } from "./errors";
import { rateBudgetObject } from "./rate-budget";
import type { Lane, RateObservation } from "./rate-plan";

/** Waits adding up to more than this are not slept through in place: the caller reschedules instead. */
export const MAX_IN_PLACE_WAIT_MS = 15_000;

/**
 * The answer when the budget asks for a longer wait than `MAX_IN_PLACE_WAIT_MS`: a 429 made here, shaped like
 * Intercom's, so callers handle a spent budget exactly like a rate-limited call (retry at the reset time).
 */
export function budgetSpentResponse(retryAt: number): Response {
  const body = {
    type: "error.list",
    errors: [
      {
        code: "rate_limit_exceeded",
        message: "the workspace's rate budget is spent (held back by the connector, not sent)",
      },
    ],
  };
  return new Response(JSON.stringify(body), {
    status: 429,
    headers: {
      "content-type": "application/json",
      "x-ratelimit-reset": String(Math.ceil(retryAt / 1000)),
      [HELD_BACK_HEADER]: "1",
    },
  });
}

/** The rate headers of a response. */
export function rateObservation(response: Response): RateObservation {
  const number = (name: string) => {
    const value = Number(response.headers.get(name));
    return response.headers.has(name) && Number.isFinite(value) ? value : null;
  };
  const reset = number("x-ratelimit-reset");
  return {
    limit: number("x-ratelimit-limit"),
    remaining: number("x-ratelimit-remaining"),
    resetAt: reset === null ? null : reset * 1000,
    limited: response.status === 429,
  };
}

/** A fetch bound to the rate budget of Intercom workspace `appId`, for calls of `lane` (bulk: a resync's syncs). */
export function budgetedFetch(env: Pick<Env, "RATE_BUDGET">, appId: string, lane: Lane = "realtime"): typeof fetch {
  const budget = rateBudgetObject(env, appId);
  return async (input, init) => {
    const asked = Date.now();
    let reservation = await budget.reserve(lane);
    // A bulk call without a slot now is told when to ask again (it holds no booking meanwhile): nearby, it asks again
    // in place; further off, the 429 below sends it back to its object's or queue's retry at that time. The waits in
    // place add up to at most MAX_IN_PLACE_WAIT_MS, well within the SDK's request timeout.
    const inPlace = (waitMs: number) => Date.now() - asked + waitMs <= MAX_IN_PLACE_WAIT_MS;
    while (reservation.recheck && inPlace(reservation.waitMs)) {
      await sleep(reservation.waitMs);
      reservation = await budget.reserve(lane);
    }
    if (reservation.recheck) return budgetSpentResponse(Date.now() + reservation.waitMs);
    if (!inPlace(reservation.waitMs)) {
      await budget.report(reservation.window, null, lane);
      return budgetSpentResponse(Date.now() + reservation.waitMs);
    }
    if (reservation.waitMs > 0) await sleep(reservation.waitMs);
    let response: Response;
    try {
      response = await fetch(input, init);
    } catch (error) {
      await budget.report(reservation.window, null, lane);
      throw error;
    }
    await budget.report(reservation.window, rateObservation(response));
    return response;
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
