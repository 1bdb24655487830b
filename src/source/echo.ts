/**
 * The loop-free rules of the source: which parts of an Intercom item are news. Our own writes come back as webhooks
 * (`contact.*.updated`, `company.updated`, `event.created`) and must change nothing; an item older than the state
 * already applied is stale. Both are decided against `intercom_links.remote_state` (Intercom's last known values of
 * the synced attributes, keyed by attribute path: `name`, `custom_attributes.plan`), which the destination writes
 * after its writes and the source after each item, and against the echo keys of the events our actions triggered.
 */
import { eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { actions } from "../db/schema";
import { sameJson } from "../graph/properties";
import type { IntercomInstant } from "../intercom/times";

export type RemoteState = Record<string, unknown>;

export const ECHO_DETAIL = "echo of our own write";
export const OWN_EVENT_DETAIL = "echo of our own event";

/**
 * The paths of `incoming` that Intercom changed since `stored` was recorded, with their new values. A path whose
 * stored value equals the incoming one did not change (our own write's echo, or a field nobody touched) and must not
 * be applied: the CDP may already hold a newer value on its way to Intercom. A `null` for a path never seen before
 * carries no information (Intercom simply has no value) and is not applied either, so it cannot erase CDP data.
 */
export function changedSince(incoming: RemoteState, stored: RemoteState): RemoteState {
  const changed: RemoteState = {};
  for (const [path, value] of Object.entries(incoming)) {
    if (Object.hasOwn(stored, path)) {
      if (!sameJson(stored[path], value)) changed[path] = value;
    } else if (value !== null && value !== undefined) {
      changed[path] = value;
    }
  }
  return changed;
}

/**
 * Whether an item is older than the state recorded at `storedMs`. A seconds-precise time (REST) covers its whole
 * second, so it is older only when that whole second is: the sweep's copy of what a webhook already applied is not
 * mistaken for something newer, nor for something older. Our own writes record the end of Intercom's second.
 */
export function isOlderThan(item: IntercomInstant, storedMs: number | null): boolean {
  if (storedMs === null) return false;
  return item.ms + item.resolutionMs - 1 < storedMs;
}

/**
 * How an item older than the applied state is logged: an older item holding exactly what we last wrote is our echo;
 * anything else is stale.
 */
export function olderItemOutcome(incoming: RemoteState, applied: RemoteState, kind: "contact" | "company") {
  const echo = Object.keys(changedSince(incoming, applied)).length === 0;
  return echo
    ? ({ outcome: "skipped", detail: ECHO_DETAIL } as const)
    : ({ outcome: "stale", detail: `older than the ${kind} state already applied` } as const);
}

/** Whether one of our `trigger_event` actions sent the event with this echo key (`eventEchoKey`). */
export async function isOwnEvent(db: Database, echoKey: string): Promise<boolean> {
  const row = await db.select({ id: actions.id }).from(actions).where(eq(actions.echoKey, echoKey)).get();
  return row !== undefined;
}
