/**
 * The rate-budget arithmetic (pure): Intercom allows `limit` calls per fixed window (10 s by default) per workspace
 * and reports `X-RateLimit-Remaining` and `X-RateLimit-Reset` (the window's end, Unix seconds) on every response.
 * Callers reserve a slot before each call: in the current window while the server says there is room (minus calls
 * still in flight), else in the first future window with room, so a burst of waiters spreads over the next windows
 * instead of stampeding into 429s. Every grant is tagged with the end of the window it counts against, so a late
 * answer from an earlier window never frees a slot of the current one.
 *
 * Lanes: a bulk call (resync, import) gets a slot in the current window, or in the next one up to the bulk share of
 * it, or none: then it is told when to ask again (a ticket for a later window, counted so the bulk callers come back
 * spread at the rate they can be served), and holds nothing meanwhile. Only real-time calls book further ahead, so a
 * real-time call never lands behind slots bulk work booked ahead: the next window always keeps room for it. While
 * real-time work was seen recently (or waits), bulk takes at most its share of every window.
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
  /** Bulk-lane grants per window (the current and the next one), by the window's end: what the bulk share caps. */
  bulk: Map<number, number>;
  /**
   * Bulk callers told to ask again in a future window, by the window's end: not bookings (a real-time call may take
   * any slot of that window first), only how many already come back then, so the next one is sent to a later window.
   */
  tickets: Map<number, number>;
  /** Real-time work is waiting until this window's end (Unix ms): a real-time grant had to wait for a later window. */
  realtimeWaitingUntil: number;
  /** The latest real-time reservation (Unix ms): while recent, bulk takes at most its share of every window. */
  realtimeSeenAt: number;
}

/**
 * Which lane a call belongs to: real-time syncs and actions, or bulk work (resync, import). While real-time work is
 * recent or waiting, bulk grants take at most the bulk share of a window; otherwise bulk may use all of it.
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
    tickets: new Map(),
    realtimeWaitingUntil: 0,
    realtimeSeenAt: Number.NEGATIVE_INFINITY,
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
/** Real-time work counts as recent for this many windows after its latest reservation. */
export const REALTIME_RECENT_WINDOWS = 2;
/** Intercom's documented window, for "recent" while the window length is still unknown. */
const DEFAULT_WINDOW_MS = 10_000;

/**
 * Reserves one call of `lane` at `now`; mutates `state`. A real-time call gets the first slot free in the current or a
 * future window (and, when it must wait, marks real-time work as waiting until then). A bulk call gets a slot of the
 * current window (within the bulk share while real-time work is recent or waiting) or of the next one (within the
 * share); else a `recheck` telling it when to ask again.
 */
export function reserve(state: RateState, now: number, lane: Lane = "realtime", share = 1): Reservation {
  rollWindow(state, now);
  if (lane === "realtime") {
    state.realtimeSeenAt = now;
    const reservation = reserveSlot(state, now);
    if (!reservation.recheck && reservation.waitMs > 0) {
      state.realtimeWaitingUntil = Math.max(state.realtimeWaitingUntil, reservation.window);
    }
    return reservation;
  }
  return reserveBulk(state, now, share);
}

function reserveBulk(state: RateState, now: number, share: number): Reservation {
  const limit = state.limit;
  const windowMs = state.windowMs;
  if (limit === null || (windowMs === null && now >= state.windowEnd)) return probe(state);
  const recentMs = REALTIME_RECENT_WINDOWS * (windowMs ?? DEFAULT_WINDOW_MS);
  const realtimeActive = now - state.realtimeSeenAt < recentMs || state.windowEnd <= state.realtimeWaitingUntil;
  const shareCap = share < 1 ? Math.max(1, Math.floor(share * limit)) : limit;
  const cap = realtimeActive ? shareCap : limit;
  const currentRoom = (state.serverRemaining ?? limit) - state.inFlight;
  const bulkHere = state.bulk.get(state.windowEnd) ?? 0;
  if (now < state.windowEnd && currentRoom > 0 && bulkHere < cap) {
    state.inFlight++;
    state.bulk.set(state.windowEnd, bulkHere + 1);
    return { waitMs: 0, window: state.windowEnd, recheck: false };
  }
  if (windowMs === null) {
    // Full, and the next window's length is unknown (a budget relearning after an eviction): ask again once it has
    // begun, `limit` callers per second (windows are at least that long), not all at once.
    const waiting = state.tickets.get(state.windowEnd) ?? 0;
    state.tickets.set(state.windowEnd, waiting + 1);
    const later = Math.floor(waiting / limit) * MIN_WINDOW_MS;
    return { waitMs: state.windowEnd - now + 1 + later, window: state.windowEnd, recheck: true };
  }
  // The next window may be booked up to the share only, always: a real-time call arriving after a bulk flood still
  // finds room there. Later windows are never booked by bulk.
  const next = state.windowEnd + windowMs;
  const nextTaken = state.future.get(next) ?? 0;
  const nextBulk = state.bulk.get(next) ?? 0;
  if (nextBulk < Math.min(cap, shareCap) && nextTaken < limit) {
    state.future.set(next, nextTaken + 1);
    state.bulk.set(next, nextBulk + 1);
    const spread = Math.floor((nextTaken / limit) * (windowMs / 2));
    return { waitMs: next - windowMs - now + spread + 5, window: next, recheck: false };
  }
  // A ticket for the first later window where fewer bulk callers come back than bulk may still get of it (its cap,
  // less bulk bookings and what real-time calls booked there): ask again as it begins, spread over its first half.
  for (let end = next; ; end += windowMs) {
    const tickets = state.tickets.get(end) ?? 0;
    const room = Math.min(cap - (state.bulk.get(end) ?? 0), limit - (state.future.get(end) ?? 0));
    if (tickets < room) {
      state.tickets.set(end, tickets + 1);
      const spread = Math.floor((tickets / limit) * (windowMs / 2));
      return { waitMs: end - windowMs - now + spread + 5, window: end, recheck: true };
    }
  }
}

/** Not enough known to plan ahead (no limit yet, or a window passed before its length was learnt): probe. */
function probe(state: RateState): Reservation {
  if (state.inFlight >= PROBE_CALLS) return { waitMs: PROBE_WAIT_MS, window: state.windowEnd, recheck: true };
  state.inFlight++;
  return { waitMs: 0, window: state.windowEnd, recheck: false };
}

/** A real-time slot: in the current window while the server says there is room, else the first future one with room. */
function reserveSlot(state: RateState, now: number): Reservation {
  const windowMs = state.windowMs;
  if (state.limit === null || (windowMs === null && now >= state.windowEnd)) return probe(state);
  const currentRoom = (state.serverRemaining ?? state.limit) - state.inFlight;
  if (now < state.windowEnd && currentRoom > 0) {
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
    if (taken < state.limit) {
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
      for (const end of state.tickets.keys()) if (end < resetAt) state.tickets.delete(end);
    } else if (observation.remaining !== null) {
      state.serverRemaining = Math.min(state.serverRemaining ?? observation.remaining, observation.remaining);
    }
  } else if (resetAt !== null && resetAt === state.windowEnd && observation.remaining !== null) {
    state.serverRemaining = Math.min(state.serverRemaining ?? observation.remaining, observation.remaining);
  }
  if (observation.limited && (resetAt === null || resetAt === state.windowEnd)) state.serverRemaining = 0;
}

/** A grant of `lane` whose call ended without rate headers (network error, or not sent): its slot is free again. */
export function release(state: RateState, window: number, lane: Lane = "realtime"): void {
  // A bulk grant not used no longer counts against the bulk share of its window either.
  const bulk = state.bulk.get(window);
  if (lane === "bulk" && bulk !== undefined) {
    if (bulk <= 1) state.bulk.delete(window);
    else state.bulk.set(window, bulk - 1);
  }
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
  for (const end of state.tickets.keys()) if (end < nextEnd) state.tickets.delete(end);
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
