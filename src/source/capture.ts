/** What capturing one Intercom object (contact or company) yields, and how its outcome reads in the sync log. */
import type { SyncLogEntry } from "../lib/sync-log";
import { changedSince, type RemoteState } from "./echo";
import type { Statement } from "./work";

export const ECHO_DETAIL = "echo of our own write";

/** The result of capturing one Intercom object. */
export interface Capture {
  /** The CDP row the Intercom object is linked to after the batch; null when it was skipped. */
  localPk: number | null;
  /** The CDP id for logs (`user_id`, `account_id`), else null. */
  localId: string | null;
  statements: Statement[];
  entries: SyncLogEntry[];
  /** The Intercom object was linked to `localPk` by this capture (it had no link before). */
  linkedNow?: boolean;
}

/** What a capture did, for the log: ids and attribute paths only, never values. */
export function describeWrite(write: { before: unknown; changed: boolean }, paths: string[]): string {
  if (write.before === null) return "created from Intercom";
  if (!write.changed)
    return paths.length > 0 ? `no change in the CDP (Intercom changed ${paths.join(", ")})` : "linked";
  return paths.length > 0 ? `updated ${paths.join(", ")}` : "updated";
}

/**
 * How an item older than the applied state is logged: our own writes mark their state with the end of Intercom's
 * second, so an older item holding exactly what we last wrote is our echo; anything else is stale.
 */
export function olderItemOutcome(incoming: RemoteState, applied: RemoteState, kind: "contact" | "company") {
  const echo = Object.keys(changedSince(incoming, applied)).length === 0;
  return echo
    ? ({ outcome: "skipped", detail: ECHO_DETAIL } as const)
    : ({ outcome: "stale", detail: `older than the ${kind} state already applied` } as const);
}
