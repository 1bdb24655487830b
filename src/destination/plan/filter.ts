/** The destination's segment filter (pure): empty = every user; otherwise users in at least one listed segment. */

/** Whether a user with `segments` is synced under `filter`. */
export function passesSegmentFilter(segments: readonly string[], filter: readonly string[]): boolean {
  if (filter.length === 0) return true;
  const wanted = new Set(filter);
  return segments.some((segment) => wanted.has(segment));
}
