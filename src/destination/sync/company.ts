/**
 * Syncs one CDP account to its Intercom company: create-or-update by `company_id` (one call) when creation is allowed
 * or the company is already there; only the fields Intercom is not known to hold are sent.
 */
import { and, eq, sql } from "drizzle-orm";
import { memberships, users } from "../../db/schema";
import { type AccountRow, getAccount } from "../../graph/accounts";
import { linkByLocal } from "../../graph/links";
import { inSegments } from "../../graph/users";
import { companyFields } from "../../intercom/fields";
import { findCompany, upsertCompany } from "../../intercom/gateway";
import type { SyncContext } from "../context";
import { changedFields, companyPayload } from "../plan/payload";
import { commitWithLog, logOut, type SavedLink, saveLinkStatement } from "./steps";

export type CompanyOutcome =
  | { kind: "synced"; companyId: string; linkedNow: boolean }
  | { kind: "skipped"; companyId: string | null; detail: string };

/** Brings the account's Intercom company up to date; `linkedNow` when the company id was learnt by this sync. */
export async function syncCompany(context: SyncContext, accountPk: number): Promise<CompanyOutcome> {
  const { db, connection } = context;
  const settings = connection.destination;
  const account = await getAccount(db, connection.workspaceId, accountPk);
  if (!account) return skipped(context, null, null, "the account no longer exists");
  if (!(await hasMemberInFilter(context, account, settings.segments))) {
    return skipped(context, account, null, "no member of this account is in the destination's segments");
  }
  const payload = companyPayload(account, settings.mappings.company);
  for (const warning of payload.warnings) {
    await logOut(context, {
      objectId: account.accountId,
      outcome: "skipped",
      objectType: "field",
      action: warning.path,
      detail: `field ${warning.path} not sent: property "${warning.from}" is ${warning.reason}`,
    });
  }
  const subject = { objectId: account.accountId };
  const link = await linkByLocal(db, connection.id, "company", account.pk);
  let known: Record<string, unknown> | null = link?.remoteState ?? null;
  let companyId = link?.intercomId ?? null;
  if (!link && !settings.allow_create) {
    const found = await findCompany(context.client, account.accountId);
    if (!found) return skipped(context, account, null, "not in Intercom; creation is off");
    known = companyFields(found);
    companyId = found.id;
  }
  const changes = known ? changedFields(payload.fields, known) : payload.fields;
  if (Object.keys(changes).length === 0 && companyId) {
    const found: SavedLink = {
      objectType: "company",
      localPk: account.pk,
      intercomId: companyId,
      state: known ?? {},
      updatedAt: null,
    };
    await commitWithLog(context, link ? [] : [saveLinkStatement(context, found)], {
      ...subject,
      intercomId: companyId,
      outcome: "noop",
      objectType: "company",
      action: "update",
      detail: "Intercom already holds these values",
    });
    return { kind: "synced", companyId, linkedNow: !link };
  }
  const company = await upsertCompany(context.client, { ...changes, company_id: account.accountId });
  const written: SavedLink = {
    objectType: "company",
    localPk: account.pk,
    intercomId: company.id,
    state: companyFields(company),
    updatedAt: company.updated_at,
  };
  await commitWithLog(context, [saveLinkStatement(context, written)], {
    ...subject,
    intercomId: company.id,
    outcome: "synced",
    objectType: "company",
    action: link || companyId ? "update" : "create",
    detail: `sent ${Object.keys(changes).join(", ")}`,
  });
  return { kind: "synced", companyId: company.id, linkedNow: !link };
}

/** With a segment filter, a company is synced only while one of its members passes it. */
async function hasMemberInFilter(
  context: SyncContext,
  account: AccountRow,
  segments: readonly string[],
): Promise<boolean> {
  if (segments.length === 0) return true;
  const row = await context.db
    .select({ one: sql<number>`1` })
    .from(memberships)
    .innerJoin(users, eq(users.pk, memberships.userPk))
    .where(and(eq(memberships.accountPk, account.pk), inSegments(segments)))
    .limit(1)
    .get();
  return row !== undefined;
}

async function skipped(
  context: SyncContext,
  account: AccountRow | null,
  companyId: string | null,
  detail: string,
): Promise<CompanyOutcome> {
  await logOut(context, {
    objectId: account?.accountId ?? null,
    intercomId: companyId,
    outcome: "skipped",
    objectType: "company",
    action: "sync",
    detail,
  });
  return { kind: "skipped", companyId, detail };
}
