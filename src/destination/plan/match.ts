/**
 * Which Intercom contact a CDP user is, from search results (pure). Precedence: `external_id` equal to the user's
 * id, then a user with the email (and no other external id), then a lead with the email. Two candidates at the same
 * level are a conflict: the connector never picks `data[0]`.
 */
import type { ContactSummary } from "../../intercom/objects";

export type MatchLevel = "external_id" | "email_user" | "email_lead";

export type ContactMatch =
  | { kind: "found"; contact: ContactSummary; via: MatchLevel }
  | { kind: "none" }
  | { kind: "ambiguous"; ids: string[]; via: MatchLevel };

/** Chooses the contact for `identity` among `candidates`. */
export function chooseContact(
  candidates: readonly ContactSummary[],
  identity: { userId: string | null; email: string | null },
): ContactMatch {
  const email = identity.email?.toLowerCase() ?? null;
  const levels: Array<[MatchLevel, ContactSummary[]]> = [
    [
      "external_id",
      identity.userId ? candidates.filter((c) => c.external_id === identity.userId && c.role !== "lead") : [],
    ],
    [
      "email_user",
      email
        ? candidates.filter(
            (c) => c.role !== "lead" && c.email === email && (identity.userId === null || c.external_id === null),
          )
        : [],
    ],
    ["email_lead", email ? candidates.filter((c) => c.role === "lead" && c.email === email) : []],
  ];
  for (const [via, matches] of levels) {
    if (matches.length === 1) return { kind: "found", contact: matches[0]!, via };
    if (matches.length > 1) return { kind: "ambiguous", ids: matches.map((c) => c.id), via };
  }
  return { kind: "none" };
}
