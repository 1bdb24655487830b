/**
 * Intercom's last known values of the attributes we sync, keyed by Intercom attribute path (`name`,
 * `custom_attributes.plan`): what `intercom_links.remote_state` holds, written by the destination after its writes
 * and by the source after each item. The echo filter of the source compares items against it.
 */
import { sameJson } from "../graph/properties";

export type RemoteState = Record<string, unknown>;

export const CUSTOM_ATTRIBUTE_PREFIX = "custom_attributes.";

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
