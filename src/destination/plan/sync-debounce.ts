/** How long a quiet ContactSync object waits after its first change before it runs (`SYNC_DEBOUNCE_MS`). */

/** Default of `SYNC_DEBOUNCE_MS`: short enough to be unnoticed, long enough to gather a burst's writes. */
export const DEFAULT_SYNC_DEBOUNCE_MS = 250;

/** `SYNC_DEBOUNCE_MS` in milliseconds (0 allowed, at most 10 s); the default where unset or invalid. */
export function syncDebounceMs(env: { SYNC_DEBOUNCE_MS?: string }): number {
  const raw = env.SYNC_DEBOUNCE_MS?.trim();
  const value = Number(raw);
  return raw && Number.isInteger(value) && value >= 0 ? Math.min(value, 10_000) : DEFAULT_SYNC_DEBOUNCE_MS;
}
