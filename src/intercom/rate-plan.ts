/**
 * The rate-budget arithmetic (pure): Intercom allows `limit` calls per fixed window (10 s by default) per workspace
 * and reports `X-RateLimit-Remaining` and `X-RateLimit-Reset` (the window's end, Unix seconds) on every response.
 * Callers reserve a slot before each call: in the current window while the server says there is room (minus calls
 * still in flight), else in the first future window with room, so a burst of waiters spreads over the next windows
 * instead of stampeding into 429s. Every grant is tagged with the end of the window it counts against, so a late
 * answer from an earlier window never frees a slot of the current one.
 */

export interface RateObservation {
  limit: number | null;
  remaining: number | null;
  /** Window end, Unix ms. */
  resetAt: number | null;
  /** The response was a 429. */
  limited: boolean;
}

export interface RateState {
  limit: number | null;
  /** End of the current window (Unix ms): the server's last reset, rolled forward by `windowMs`; 0 when unknown. */
  windowEnd: number;
  /**
   * Window length: the smallest gap between two resets the server reported (resets are multiples of the window,
   * so the minimum converges on it after any idle gap). Intercom documents 10 s; the simulator may differ.
   */
  windowMs: number | null;
  /** The latest reset the server reported (Unix ms). */
  lastReset: number;
  /** Remaining calls the server reported for the current window. */
  serverRemaining: number | null;
  /** Grants counted against the current window whose answers were not observed yet. */
  inFlight: number;
  /** Grants per future window, by the window's end (ms). */
  future: Map<number, number>;
  /** Bulk-lane grants per window (current and future), by the window's end: what the bulk share caps. */
  bulk: Map<number, number>;
  /** Real-time work is waiting until this window's end (Unix ms): a real-time grant had to wait for a later window. */
  realtimeWaitingUntil: number;
}

/**
 * Which lane a call belongs to: real-time syncs and actions, or bulk work (resync). While real-time work is waiting,
 * bulk grants take at most the bulk share of a window; otherwise bulk may use all of it.
 */
export type Lane = "realtime" | "bulk";

/** Default share of a window bulk work may take while real-time work waits (`RESYNC_BUDGET_SHARE`). */
export const DEFAULT_BULK_SHARE = 0.5;

/** The bulk share from `RESYNC_BUDGET_SHARE`: a number in (0, 1], else the default. */
export function bulkShare(value: string | undefined): number {
  const share = Number(value);
  return value !== undefined && value !== "" && Number.isFinite(share) && share > 0 && share <= 1
    ? share
    : DEFAULT_BULK_SHARE;
}

/** A fresh state: nothing known; the first calls probe the limit. */
export function initialRateState(): RateState {
  return {
    limit: null,
    windowEnd: 0,
    windowMs: null,
    lastReset: 0,
    serverRemaining: null,
    inFlight: 0,
    future: new Map(),
    bulk: new Map(),
    realtimeWaitingUntil: 0,
  };
}

export interface Reservation {
  /** Milliseconds to wait before calling (or, with `recheck`, before asking again). */
  waitMs: number;
  /** End of the window the grant counts against (Unix ms): pass it back with the answer. */
  window: number;
  /** No slot was granted (the limit or window is still being learnt): ask again after `waitMs`. */
  recheck: boolean;
}

/** While the limit is unknown, this many calls probe it at once; the rest wait for the first answer. */
export const PROBE_CALLS = 2;
const PROBE_WAIT_MS = 50;
/** Resets closer than this are the same window seen twice (Intercom's resets have second precision). */
const MIN_WINDOW_MS = 1_000;

/**
 * Reserves one call of `lane` at `now`; mutates `state`. A bulk call skips windows where bulk grants already reached
 * `share` of the limit while real-time work waits for them; a real-time call that must wait marks real-time work as
 * waiting until its window.
 */
export function reserve(state: RateState, now: number, lane: Lane = "realtime", share = 1): Reservation {
  rollWindow(state, now);
  const limit = state.limit;
  const cap = limit === null || share >= 1 ? Number.POSITIVE_INFINITY : Math.max(1, Math.floor(share * limit));
  const allowed = (end: number) =>
    lane === "realtime" || end > state.realtimeWaitingUntil || (state.bulk.get(end) ?? 0) < cap;
  const reservation = reserveSlot(state, now, allowed);
  if (!reservation.recheck) {
    if (lane === "bulk") state.bulk.set(reservation.window, (state.bulk.get(reservation.window) ?? 0) + 1);
    else if (reservation.waitMs > 0) {
      state.realtimeWaitingUntil = Math.max(state.realtimeWaitingUntil, reservation.window);
    }
  }
  return reservation;
}

function reserveSlot(state: RateState, now: number, allowed: (windowEnd: number) => boolean): Reservation {
  const windowMs = state.windowMs;
  // Not enough known to plan ahead (no limit yet, or a window passed before its length was learnt): probe.
  if (state.limit === null || (windowMs === null && now >= state.windowEnd)) {
    if (state.inFlight >= PROBE_CALLS) return { waitMs: PROBE_WAIT_MS, window: state.windowEnd, recheck: true };
    state.inFlight++;
    return { waitMs: 0, window: state.windowEnd, recheck: false };
  }
  const currentRoom = (state.serverRemaining ?? state.limit) - state.inFlight;
  if (now < state.windowEnd && currentRoom > 0 && allowed(state.windowEnd)) {
    state.inFlight++;
    return { waitMs: 0, window: state.windowEnd, recheck: false };
  }
  if (windowMs === null) {
    // Full, and the next window's length is unknown: wait for it to begin, then ask again.
    return { waitMs: state.windowEnd - now + 1, window: state.windowEnd, recheck: true };
  }
  // Room in a future window: the first one not yet fully reserved.
  for (let end = state.windowEnd + windowMs; ; end += windowMs) {
    const taken = state.future.get(end) ?? 0;
    if (taken < state.limit && allowed(end)) {
      state.future.set(end, taken + 1);
      // Spread the window's callers over its first half, so they do not all arrive at once.
      const spread = Math.floor((taken / state.limit) * (windowMs / 2));
      return { waitMs: end - windowMs - now + spread + 5, window: end, recheck: false };
    }
  }
}

/** Records a response's rate headers for a grant of `window`. */
export function observe(state: RateState, observation: RateObservation, window: number, now: number): void {
  release(state, window);
  if (observation.limit !== null && observation.limit > 0) state.limit = observation.limit;
  const resetAt = observation.resetAt;
  if (resetAt !== null && resetAt > state.lastReset && resetAt > now - 60_000) {
    const gap = resetAt - state.lastReset;
    if (state.lastReset > 0 && gap >= MIN_WINDOW_MS) state.windowMs = Math.min(state.windowMs ?? gap, gap);
    state.lastReset = resetAt;
    if (resetAt !== state.windowEnd) {
      // The server is in another window than we thought: adopt its end; grants of that window are now current.
      state.windowEnd = resetAt;
      state.serverRemaining = observation.remaining;
      state.inFlight = state.future.get(resetAt) ?? 0;
      for (const end of state.future.keys()) if (end <= resetAt) state.future.delete(end);
    } else if (observation.remaining !== null) {
      state.serverRemaining = Math.min(state.serverRemaining ?? observation.remaining, observation.remaining);
    }
  } else if (resetAt !== null && resetAt === state.windowEnd && observation.remaining !== null) {
    state.serverRemaining = Math.min(state.serverRemaining ?? observation.remaining, observation.remaining);
  }
  if (observation.limited && (resetAt === null || resetAt === state.windowEnd)) state.serverRemaining = 0;
}

/** A grant whose call ended without rate headers (network error, or not sent): its slot is free again. */
export function release(state: RateState, window: number): void {
  if (window === state.windowEnd) {
    state.inFlight = Math.max(0, state.inFlight - 1);
    return;
  }
  const pending = state.future.get(window);
  if (pending !== undefined) {
    if (pending <= 1) state.future.delete(window);
    else state.future.set(window, pending - 1);
  }
  // A grant of a window already past frees nothing.
}

/** Once the current window has passed, the next one starts full (its true end arrives with the next response). */
function rollWindow(state: RateState, now: number): void {
  const windowMs = state.windowMs;
  if (state.windowEnd === 0 || now < state.windowEnd || windowMs === null) return;
  const elapsedWindows = Math.floor((now - state.windowEnd) / windowMs) + 1;
  const nextEnd = state.windowEnd + elapsedWindows * windowMs;
  state.inFlight = state.future.get(nextEnd) ?? 0;
  for (const end of state.future.keys()) if (end <= nextEnd) state.future.delete(end);
  for (const end of state.bulk.keys()) if (end < nextEnd) state.bulk.delete(end);
  state.windowEnd = nextEnd;
  state.serverRemaining = state.limit;
}

/** How much of a workspace's rate budget the latest window used, as the connection summary shows it. */
export interface RateUsage {
  /** Calls allowed per window; null until an Intercom response has told. */
  limit: number | null;
  /** Calls left in that window (the server's last figure, less calls still in flight). */
  remaining: number | null;
  /** Share of the window's calls used, 0–1. */
  usedShare: number | null;
  /** End of the window (Unix ms); in the past when no call was made since. */
  windowEnd: number | null;
  windowMs: number | null;
}

/** The latest window's use (pure, reads only: reserving nothing, rolling nothing). */
export function rateUsage(state: RateState): RateUsage {
  const { limit } = state;
  if (limit === null || state.windowEnd === 0) {
    return { limit, remaining: null, usedShare: null, windowEnd: null, windowMs: state.windowMs };
  }
  const remaining = Math.max(0, Math.min(limit, (state.serverRemaining ?? limit) - state.inFlight));
  return {
    limit,
    remaining,
    usedShare: (limit - remaining) / limit,
    windowEnd: state.windowEnd,
    windowMs: state.windowMs,
  };
}
