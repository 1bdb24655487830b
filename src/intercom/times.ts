/**
 * Intercom's times: webhook contact/company items carry ISO-8601 strings (millisecond precision), REST items and
 * envelopes carry Unix seconds. Both are read here, with the precision they have.
 */

/** A point in time as Intercom gave it: `ms` since the epoch, good to `resolutionMs` (1 for ISO, 1000 for seconds). */
export interface IntercomInstant {
  ms: number;
  resolutionMs: number;
}

const NUMERIC = /^\d+(\.\d+)?$/;
const FRACTIONAL_SECONDS = /T\d{2}:\d{2}:\d{2}\.\d+/;

/** Reads an Intercom time: Unix seconds (number or numeric string) or an ISO-8601 string; null when absent or bad. */
export function parseIntercomTime(value: unknown): IntercomInstant | null {
  if (typeof value === "number")
    return Number.isFinite(value) ? { ms: Math.round(value * 1000), resolutionMs: 1000 } : null;
  if (typeof value !== "string" || value.trim() === "") return null;
  const text = value.trim();
  if (NUMERIC.test(text)) return { ms: Math.round(Number(text) * 1000), resolutionMs: 1000 };
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return null;
  return { ms, resolutionMs: FRACTIONAL_SECONDS.test(text) ? 1 : 1000 };
}

/** Unix seconds of an Intercom time (how REST and our remote state hold them), null when absent or bad. */
export function unixSeconds(value: unknown): number | null {
  const instant = parseIntercomTime(value);
  return instant ? Math.floor(instant.ms / 1000) : null;
}

/** ISO-8601 string of Unix seconds (our API's time format). */
export function isoFromSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}
