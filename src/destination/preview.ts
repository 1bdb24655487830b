/**
 * Preview: the Intercom requests a sync of one user would send now, computed from the identity map and D1 only
 * (nothing is sent, not even a search). The payload, the diff, the company moves and the request bodies come from the
 * same planning functions the sync uses (plan/, intercom/gateway.ts), so the two cannot disagree.
 */

import type { Connection } from "../connections/repository";
import { tenantDb } from "../db/placement";
import type { Env } from "../env";
import { linkByLocal } from "../graph/links";
import { accountsOfUser } from "../graph/memberships";
import { findUser } from "../graph/users";
import { apiBase } from "../intercom/client";
import { requestBody } from "../intercom/fields";
import { createContactBody, identitySearchBody } from "../intercom/gateway";
import { RefusedError } from "../lib/errors";
import { attachedCompanies, companyMoves, contactUpdate, passesSegmentFilter } from "./plan/contact-plan";
import { clearedFields, contactPayload, type FieldWarning } from "./plan/payload";

export interface PreviewRequest {
  method: "GET" | "POST" | "PUT" | "DELETE";
  url: string;
  body?: Record<string, unknown>;
  /** Set when the request depends on an earlier answer (e.g. what the search finds). */
  when?: string;
}

export interface Preview {
  user_id: string | null;
  email: string | null;
  intercom_contact_id: string | null;
  requests: PreviewRequest[];
  notes: string[];
  warnings: FieldWarning[];
}

/** What syncing `userId` on `connection` would send now. */
export async function previewContactSync(env: Env, connection: Connection, userId: string): Promise<Preview> {
  const db = await tenantDb(env, connection.workspaceId);
  const user = await findUser(db, connection.workspaceId, { userId });
  if (!user) throw new RefusedError("not_found", `No user with user_id "${userId}".`);
  const base = apiBase(env, connection.region);
  const settings = connection.destination;
  const payload = contactPayload(user, settings.mappings.contact);
  const link = await linkByLocal(db, connection.id, "contact", user.pk);
  const preview: Preview = {
    user_id: user.userId,
    email: user.email,
    intercom_contact_id: link?.intercomId ?? null,
    requests: [],
    notes: [],
    warnings: payload.warnings,
  };
  if (!settings.enabled) preview.notes.push("the destination is switched off: nothing is sent until it is on");
  if (!passesSegmentFilter(user.segments, settings.segments)) {
    preview.notes.push("the user is not in the destination's segments: a sync sends nothing");
    return preview;
  }
  const contactUrl = `${base}/contacts/${link?.intercomId ?? "{contact id}"}`;
  if (link) {
    const changes = contactUpdate(payload.fields, link.remoteState, { convertLead: false });
    const clears = settings.clear_removed ? clearedFields(payload.absent, link.remoteState) : [];
    if (Object.keys(changes).length === 0 && clears.length === 0)
      preview.notes.push("Intercom already holds these values: no contact update");
    else preview.requests.push({ method: "PUT", url: contactUrl, body: requestBody(changes, clears) });
  } else {
    const search = identitySearchBody({ userId: user.userId, email: user.email });
    if (search) preview.requests.push({ method: "POST", url: `${base}/contacts/search`, body: search });
    preview.requests.push({
      method: "PUT",
      url: `${base}/contacts/{id of the match}`,
      body: requestBody(payload.fields),
      when: "the search finds the contact (only the fields Intercom does not hold yet are sent)",
    });
    if (settings.allow_create) {
      preview.requests.push({
        method: "POST",
        url: `${base}/contacts`,
        body: createContactBody(payload.fields),
        when: "the search finds no contact",
      });
    } else {
      preview.notes.push("if the search finds no contact, nothing more is sent: creation is off");
    }
  }
  const wanted = new Map<string, string>();
  for (const account of await accountsOfUser(db, user.pk)) {
    const company = await linkByLocal(db, connection.id, "company", account.pk);
    if (company) wanted.set(company.intercomId, account.accountId);
    else {
      preview.notes.push(
        settings.allow_create
          ? `company ${account.accountId} is created (POST ${base}/companies) then attached`
          : `company ${account.accountId} is attached once it exists in Intercom (creation is off)`,
      );
    }
  }
  const moves = companyMoves(wanted, attachedCompanies(link?.remoteState ?? {}));
  for (const [companyId] of moves.attach) {
    preview.requests.push({ method: "POST", url: `${contactUrl}/companies`, body: { id: companyId } });
  }
  for (const companyId of moves.detach) {
    preview.requests.push({ method: "DELETE", url: `${contactUrl}/companies/${companyId}` });
  }
  return preview;
}
