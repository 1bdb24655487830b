import { describe, expect, it } from "vitest";
import { initialRateState, observe, type RateState, reserve } from "../src/intercom/rate-plan";

/** A server with fixed windows like Intercom's: `limit` calls per `windowMs`, reset = the window's end. */
function server(limit: number, windowMs: number) {
  const used = new Map<number, number>();
  return (now: number) => {
    const window = Math.floor(now / windowMs);
    const count = (used.get(window) ?? 0) + 1;
    used.set(window, count);
    const resetAt = (window + 1) * windowMs;
    return { limit, remaining: Math.max(0, limit - count), resetAt, limited: count > limit };
  };
}

/** Runs `callers` that each make `calls` sequential calls through the budget; returns calls and 429s. */
function drive(state: RateState, limit: number, windowMs: number, callers: number, calls: number) {
  const answer = server(limit, windowMs);
  // Event loop over virtual time: each caller waits its reservation, then its call takes 20 ms.
  const queue: Array<{ at: number; caller: number; left: number; window?: number; phase: "reserve" | "respond" }> = [];
  for (let caller = 0; caller < callers; caller++) queue.push({ at: 0, caller, left: calls, phase: "reserve" });
  let made = 0;
  let limited = 0;
  let end = 0;
  while (queue.length) {
    queue.sort((a, b) => a.at - b.at);
    const event = queue.shift()!;
    if (event.phase === "reserve") {
      const reservation = reserve(state, event.at);
      if (reservation.recheck) queue.push({ ...event, at: event.at + reservation.waitMs });
      else
        queue.push({ ...event, at: event.at + reservation.waitMs + 20, window: reservation.window, phase: "respond" });
    } else {
      const response = answer(event.at - 20 + 1);
      made++;
      if (response.limited) limited++;
      observe(state, response, event.window ?? 0, event.at);
      end = Math.max(end, event.at);
      const left = response.limited ? event.left : event.left - 1;
      if (left > 0)
        queue.push({
          at: event.at + (response.limited ? response.resetAt - event.at : 0),
          caller: event.caller,
          left,
          phase: "reserve",
        });
    }
  }
  return { made, limited, seconds: end / 1000 };
}

describe("rate budget arithmetic", () => {
  it("keeps a burst of callers within the limit and uses most of it", () => {
    const limit = 100;
    const result = drive(initialRateState(), limit, 1_000, 300, 10);
    const successful = result.made - result.limited;
    expect(successful).toBe(3_000);
    expect(result.limited / result.made).toBeLessThanOrEqual(0.01);
    // 3,000 calls at 100 per second need at least 30 s; the budget should not take much longer.
    expect(30 / result.seconds).toBeGreaterThanOrEqual(0.9);
  });

  it("learns the window length as the smallest gap between resets, also after an idle gap", () => {
    const state = initialRateState();
    observe(state, { limit: 10, remaining: 9, resetAt: 2_000, limited: false }, 0, 1_500);
    observe(state, { limit: 10, remaining: 9, resetAt: 9_000, limited: false }, 0, 8_500);
    expect(state.windowMs).toBe(7_000);
    observe(state, { limit: 10, remaining: 9, resetAt: 10_000, limited: false }, state.windowEnd, 9_500);
    expect(state.windowMs).toBe(1_000);
  });

  it("a late answer from the previous window frees no slot of the current one", () => {
    const state = initialRateState();
    observe(state, { limit: 3, remaining: 2, resetAt: 1_000, limited: false }, 0, 500);
    observe(state, { limit: 3, remaining: 2, resetAt: 2_000, limited: false }, 0, 1_500);
    const previous = reserve(state, 1_600);
    const current = reserve(state, 1_700);
    expect([previous.waitMs, current.waitMs]).toEqual([0, 0]);
    // The window ending at 3,000 starts with one grant; then the two grants of the old window answer late.
    expect(reserve(state, 2_100).waitMs).toBe(0);
    observe(state, { limit: 3, remaining: 0, resetAt: 2_000, limited: false }, previous.window, 2_150);
    observe(state, { limit: 3, remaining: 0, resetAt: 2_000, limited: false }, current.window, 2_160);
    // Two slots are left in the window, not three.
    expect(reserve(state, 2_200).waitMs).toBe(0);
    expect(reserve(state, 2_300).waitMs).toBe(0);
    expect(reserve(state, 2_400).waitMs).toBeGreaterThan(0);
  });

  it("keeps at most the limit in any window when the answers straddle window ends", () => {
    const limit = 100;
    const result = drive(initialRateState(), limit, 1_000, 300, 10);
    expect(result.limited).toBe(0);
  });

  it("asks the first caller past the limit to wait for the next window", () => {
    const state = initialRateState();
    observe(state, { limit: 2, remaining: 0, resetAt: 10_000, limited: false }, 0, 5_000);
    const reservation = reserve(state, 5_000);
    expect(reservation.waitMs).toBeGreaterThanOrEqual(5_000);
  });
});
