/**
 * What a contact sync does (pure): whether the user passes the destination's segment filter (empty = every user;
 * otherwise users in at least one listed segment), the fields Intercom is not known to hold, and the companies to
 * attach and detach. The sync and its dry run (preview) both plan with these functions.
 */
import type { Fields } from "../../intercom/fields";
import { changedFields } from "./payload";

/** The key of `remote_state` listing the Intercom company ids this connector attached to the contact. */
export const ATTACHED_COMPANIES = "companies";

/**
 * The fields of a `PUT /contacts/{id}` for a contact Intercom holds `known` for: what differs, plus `role: user` when a
 * lead found by email is the CDP user being converted. Empty: nothing to send.
 */
export function contactUpdate(
  desired: Fields,
  known: Record<string, unknown>,
  options: { convertLead: boolean },
): Fields {
  const changes = changedFields(desired, known);
  if (options.convertLead) changes.role = "user";
  return changes;
}

/** The Intercom company ids recorded as attached by this connector. */
export function attachedCompanies(known: Record<string, unknown>): string[] {
  const list = known[ATTACHED_COMPANIES];
  return Array.isArray(list) ? list.filter((id): id is string => typeof id === "string") : [];
}

export interface CompanyMoves {
  /** `[Intercom company id, CDP account id]` to attach. */
  attach: Array<[string, string]>;
  /** Intercom company ids this connector attached that no account of the user names any more. */
  detach: string[];
}

/** Attaches what the user's accounts want and the contact lacks; detaches what only this connector attached. */
export function companyMoves(wanted: ReadonlyMap<string, string>, attached: Iterable<string>): CompanyMoves {
  const have = new Set(attached);
  return {
    attach: [...wanted].filter(([companyId]) => !have.has(companyId)),
    detach: [...have].filter((companyId) => !wanted.has(companyId)),
  };
}

/** Whether a user with `segments` is synced under `filter`. */
export function passesSegmentFilter(segments: readonly string[], filter: readonly string[]): boolean {
  if (filter.length === 0) return true;
  const wanted = new Set(filter);
  return segments.some((segment) => wanted.has(segment));
}
