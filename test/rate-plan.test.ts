import { describe, expect, it } from "vitest";
import { initialRateState, type Lane, observe, type RateState, release, reserve } from "../src/intercom/rate-plan";

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

interface Caller {
  lane: Lane;
  /** When the caller first asks (ms). */
  start: number;
  calls: number;
  /** Pause between two of its calls (ms): a real-time trickle; 0 for bulk work going as fast as allowed. */
  every?: number;
}

interface Call {
  lane: Lane;
  /** When the caller asked for this call, and when the call reached the server (ms). */
  askedAt: number;
  at: number;
  limited: boolean;
}

/** Like `drive`, with lanes: every call's lane, when it was asked for and when it reached the server. */
function driveLanes(state: RateState, limit: number, windowMs: number, callers: Caller[], share: number): Call[] {
  const answer = server(limit, windowMs);
  type Event = { at: number; caller: number; left: number; askedAt: number; window?: number; phase: string };
  const queue: Event[] = callers.map((caller, index) => ({
    at: caller.start,
    caller: index,
    left: caller.calls,
    askedAt: caller.start,
    phase: "reserve",
  }));
  const calls: Call[] = [];
  while (queue.length) {
    queue.sort((a, b) => a.at - b.at || a.caller - b.caller);
    const event = queue.shift()!;
    const caller = callers[event.caller]!;
    if (event.phase === "reserve") {
      const reservation = reserve(state, event.at, caller.lane, share);
      if (reservation.recheck) queue.push({ ...event, at: event.at + reservation.waitMs });
      else
        queue.push({ ...event, at: event.at + reservation.waitMs + 20, window: reservation.window, phase: "respond" });
      continue;
    }
    const sentAt = event.at - 20 + 1;
    const response = answer(sentAt);
    calls.push({ lane: caller.lane, askedAt: event.askedAt, at: sentAt, limited: response.limited });
    observe(state, response, event.window ?? 0, event.at);
    const left = response.limited ? event.left : event.left - 1;
    if (left <= 0) continue;
    const next = response.limited ? response.resetAt : event.at + (caller.every ?? 0);
    queue.push({
      at: next,
      caller: event.caller,
      left,
      askedAt: response.limited ? event.askedAt : next,
      phase: "reserve",
    });
  }
  return calls;
}

/** A state that has learnt `limit` per `windowMs` and is at the start of the window ending at `windowEnd`. */
function learnt(limit: number, windowMs: number, windowEnd: number): RateState {
  const state = initialRateState();
  observe(
    state,
    { limit, remaining: limit, resetAt: windowEnd - windowMs, limited: false },
    0,
    windowEnd - 2 * windowMs,
  );
  observe(state, { limit, remaining: limit, resetAt: windowEnd, limited: false }, 0, windowEnd - windowMs);
  return state;
}

describe("rate budget lanes", () => {
  it("bulk gets slots of the current window and at most its share of the next one, and books nothing further", () => {
    const state = learnt(10, 1_000, 10_000);
    const grants = Array.from({ length: 200 }, () => reserve(state, 9_000, "bulk", 0.5));
    expect(grants.filter((grant) => !grant.recheck).map((grant) => grant.window)).toEqual([
      ...Array(10).fill(10_000),
      ...Array(5).fill(11_000),
    ]);
    expect([...state.future]).toEqual([[11_000, 5]]);
    // The rest are told to come back, about as many per window as a window serves, not all at once.
    const comeBack = grants.filter((grant) => grant.recheck).map((grant) => grant.window);
    const perWindow = new Map<number, number>();
    for (const window of comeBack) perWindow.set(window, (perWindow.get(window) ?? 0) + 1);
    expect(Math.max(...perWindow.values())).toBeLessThanOrEqual(10);
    expect(Math.max(...comeBack)).toBeGreaterThanOrEqual(10_000 + 18 * 1_000);
  });

  it("after a bulk flood, a real-time call gets a slot within the current or the next window", () => {
    const state = learnt(10, 1_000, 10_000);
    for (let i = 0; i < 3_000; i++) reserve(state, 9_000 + (i % 900), "bulk", 0.5);
    const realtime = reserve(state, 9_950, "realtime", 0.5);
    expect(realtime.recheck).toBe(false);
    expect(realtime.window).toBeLessThanOrEqual(10_000 + 1_000);
    expect(realtime.waitMs).toBeLessThanOrEqual(1_100);
    // The next window holds bulk's share (5 of 10) and this call.
    expect(state.future.get(11_000)).toBe(6);
  });

  it("bulk callers waiting for a window of unknown length come back spread, not all at once", () => {
    const state = initialRateState();
    observe(state, { limit: 10, remaining: 0, resetAt: 10_000, limited: false }, 0, 9_000);
    const waits = Array.from({ length: 25 }, () => reserve(state, 9_000, "bulk", 0.5).waitMs);
    expect(waits.slice(0, 10)).toEqual(Array(10).fill(1_001));
    expect(waits.slice(10, 20)).toEqual(Array(10).fill(2_001));
    expect(waits.slice(20)).toEqual(Array(5).fill(3_001));
  });

  it("a bulk grant given back frees its share of the window too", () => {
    const state = learnt(10, 1_000, 10_000);
    for (let i = 0; i < 15; i++) reserve(state, 9_000, "bulk", 0.5);
    const next = reserve(state, 9_000, "bulk", 0.5);
    expect(next.recheck).toBe(true);
    // A booked caller of the next window gives its slot back (it would have waited too long in place).
    release(state, 11_000, "bulk");
    expect(reserve(state, 9_000, "bulk", 0.5)).toMatchObject({ window: 11_000, recheck: false });
  });

  it("bulk work alone fills the windows with few 429s", () => {
    const limit = 100;
    const callers = Array.from({ length: 300 }, (): Caller => ({ lane: "bulk", start: 0, calls: 10 }));
    const calls = driveLanes(initialRateState(), limit, 1_000, callers, 0.5);
    const accepted = calls.filter((call) => !call.limited);
    expect(accepted).toHaveLength(3_000);
    expect((calls.length - accepted.length) / calls.length).toBeLessThanOrEqual(0.01);
    const seconds = Math.ceil(Math.max(...calls.map((call) => call.at)) / 1_000);
    // 3,000 calls at 100 per second need 30 windows.
    expect(30 / seconds).toBeGreaterThanOrEqual(0.9);
  });

  it("while real-time work is recent, bulk takes at most its share of every window and real-time waits at most a window", () => {
    const limit = 20;
    const share = 0.5;
    const bulk = Array.from({ length: 200 }, (): Caller => ({ lane: "bulk", start: 0, calls: 5 }));
    // Real-time calls every 100 ms from 5 s to 25 s: 10 a second, half the limit.
    const realtime: Caller = { lane: "realtime", start: 5_000, calls: 200, every: 100 };
    const calls = driveLanes(initialRateState(), limit, 1_000, [...bulk, realtime], share);
    const accepted = calls.filter((call) => !call.limited);
    expect(accepted).toHaveLength(1_200);
    const bulkPerWindow = new Map<number, number>();
    for (const call of accepted) {
      if (call.lane !== "bulk") continue;
      const window = Math.floor(call.at / 1_000);
      bulkPerWindow.set(window, (bulkPerWindow.get(window) ?? 0) + 1);
    }
    // Windows 6 to 24 (real-time seen in the last two windows): bulk within its share.
    for (let window = 6; window <= 24; window++) {
      expect(bulkPerWindow.get(window) ?? 0).toBeLessThanOrEqual(share * limit);
    }
    // Before real-time work started, and once it is gone, bulk uses the whole window.
    expect(bulkPerWindow.get(2)).toBe(limit);
    expect(Math.max(...[...bulkPerWindow.entries()].filter(([w]) => w >= 28).map(([, n]) => n))).toBe(limit);
    const waits = calls.filter((call) => call.lane === "realtime").map((call) => call.at - call.askedAt);
    expect(Math.max(...waits)).toBeLessThanOrEqual(1_100);
  });
});
