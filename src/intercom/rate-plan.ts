/**
 * The rate-budget arithmetic (pure): Intercom allows `limit` calls per fixed window (10 s by default) per workspace
 * and reports `X-RateLimit-Remaining` and `X-RateLimit-Reset` (the window's end, Unix seconds) on every response.
 * Callers reserve a slot before each call: in the current window while the server says there is room (minus calls
 * still in flight), else in the first future window with room, so a burst of waiters spreads over the next windows
 * instead of stampeding into 429s.
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
  /** End of the current window as last reported (Unix ms); 0 when unknown. */
  windowEnd: number;
  /** Window length, learnt from two successive resets (Intercom documents 10 s; the simulator may differ). */
  windowMs: number | null;
  /** Remaining calls the server reported for the current window. */
  serverRemaining: number | null;
  /** Reservations granted in the current window whose responses were not observed yet. */
  inFlight: number;
  /** Reservations per future window, by window start (ms). */
  future: Map<number, number>;
}

/** A fresh state: nothing known, every call allowed until the first response teaches the limit. */
export function initialRateState(): RateState {
  return { limit: null, windowEnd: 0, windowMs: null, serverRemaining: null, inFlight: 0, future: new Map() };
}

export interface Reservation {
  /** Milliseconds to wait before calling (or, with `recheck`, before asking again). */
  waitMs: number;
  /** Start of the window the slot belongs to (Unix ms); 0 for the current window. */
  windowStart: number;
  /** No slot was reserved: the limit is still being learnt; ask again after `waitMs`. */
  recheck: boolean;
}

/** While the limit is unknown, this many calls probe it at once; the rest wait for the first answer. */
export const PROBE_CALLS = 2;
const PROBE_WAIT_MS = 50;

/** Reserves one call at `now`; mutates `state`. */
export function reserve(state: RateState, now: number): Reservation {
  rollWindow(state, now);
  const windowMs = state.windowMs;
  // Not enough known to plan ahead (no limit yet, or a window passed before its length was learnt): probe.
  if (state.limit === null || (windowMs === null && now >= state.windowEnd)) {
    if (state.inFlight >= PROBE_CALLS) return { waitMs: PROBE_WAIT_MS, windowStart: 0, recheck: true };
    state.inFlight++;
    return { waitMs: 0, windowStart: 0, recheck: false };
  }
  const currentRoom = (state.serverRemaining ?? state.limit) - state.inFlight;
  if (now < state.windowEnd && currentRoom > 0) {
    state.inFlight++;
    return { waitMs: 0, windowStart: 0, recheck: false };
  }
  if (windowMs === null) {
    // Full, and the next window's length is unknown: wait for it to begin, then ask again.
    return { waitMs: state.windowEnd - now + 1, windowStart: 0, recheck: true };
  }
  // Room in a future window: the first one not yet fully reserved.
  let start = Math.max(state.windowEnd, now);
  for (;;) {
    const taken = state.future.get(start) ?? 0;
    if (taken < state.limit) {
      state.future.set(start, taken + 1);
      // Spread the window's callers over its first half, so they do not all arrive at once.
      const spread = Math.floor((taken / state.limit) * (windowMs / 2));
      return { waitMs: start - now + spread + 5, windowStart: start, recheck: false };
    }
    start += windowMs;
  }
}

/** Records a response's rate headers for a reservation made for `windowStart` (0 = the window it was made in). */
export function observe(state: RateState, observation: RateObservation, windowStart: number, now: number): void {
  release(state, windowStart);
  if (observation.limit !== null && observation.limit > 0) state.limit = observation.limit;
  const resetAt = observation.resetAt;
  if (resetAt !== null && resetAt > now - 60_000) {
    if (resetAt > state.windowEnd) {
      if (state.windowEnd > 0 && resetAt - state.windowEnd >= 1000) state.windowMs = resetAt - state.windowEnd;
      state.windowEnd = resetAt;
      state.serverRemaining = observation.remaining;
      state.inFlight = takeReservationsBefore(state, resetAt, resetAt - (state.windowMs ?? 0));
    } else if (resetAt === state.windowEnd && observation.remaining !== null) {
      state.serverRemaining = Math.min(state.serverRemaining ?? observation.remaining, observation.remaining);
    }
  }
  if (observation.limited) state.serverRemaining = 0;
}

/** A reservation whose call ended without rate headers (network error): its slot is free again. */
export function release(state: RateState, windowStart: number): void {
  const pending = windowStart === 0 ? undefined : state.future.get(windowStart);
  if (pending !== undefined) {
    if (pending <= 1) state.future.delete(windowStart);
    else state.future.set(windowStart, pending - 1);
  } else {
    state.inFlight = Math.max(0, state.inFlight - 1);
  }
}

/** Drops future reservations of windows before `end`, returning how many belong to the window starting at `start`. */
function takeReservationsBefore(state: RateState, end: number, start: number): number {
  let current = 0;
  for (const [windowStart, count] of state.future) {
    if (windowStart < end) {
      if (windowStart >= start) current += count;
      state.future.delete(windowStart);
    }
  }
  return current;
}

/** Once the current window has passed, the next one starts full (its true end arrives with the next response). */
function rollWindow(state: RateState, now: number): void {
  const windowMs = state.windowMs;
  if (state.windowEnd === 0 || now < state.windowEnd || windowMs === null) return;
  const elapsedWindows = Math.floor((now - state.windowEnd) / windowMs) + 1;
  const nextEnd = state.windowEnd + elapsedWindows * windowMs;
  state.inFlight = takeReservationsBefore(state, nextEnd, nextEnd - windowMs);
  state.windowEnd = nextEnd;
  state.serverRemaining = state.limit;
}
