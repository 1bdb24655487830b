/**
 * An Intercom company into the CDP: the linked account (or the one its `company_id` names, or a new one) gets what
 * Intercom changed since the link's remote state; the link records Intercom's values. Same echo and stale rules as
 * contacts. Relationships that waited for the company are then settled.
 */
import { type AccountRow, findAccount, writeAccount } from "../../graph/accounts";
import { deleteLinkByIntercomId, linkByLocal, upsertLink } from "../../graph/links";
import { parseIntercomTime } from "../../intercom/times";
import { CompanyItem } from "../../intercom/webhook-items";
import type { SyncLogEntry } from "../../lib/sync-log";
import { changedSince, ECHO_DETAIL, isOlderThan, olderItemOutcome } from "../echo";
import { applyPendingOfCompany } from "../pending-links";
import { readAccount, readLink } from "../reads";
import { type Capture, combine, describeWrite, type HandlerContext, type Statement, type Work } from "../work";
import { companyAccountPatch, companyRemoteState } from "./mapping";

/** `company.created|updated` (the caller checked `create_accounts_from_companies`). */
export async function handleCompany(ctx: HandlerContext): Promise<Work> {
  const company = CompanyItem.parse(ctx.notification.item);
  const capture = await captureCompany(ctx, company);
  if (capture.localPk === null) return capture;
  return combine(capture, await applyPendingOfCompany(ctx, company.id, capture.localPk));
}

/** Captures a company as a CDP account (the caller checked `create_accounts_from_companies`). */
export async function captureCompany(ctx: HandlerContext, item: CompanyItem): Promise<Capture> {
  const { db, connection } = ctx;
  const workspaceId = connection.workspaceId;
  const logged = { objectType: "account", intercomId: item.id } as const;
  const updatedAt = parseIntercomTime(item.updated_at);

  const link = await readLink(ctx, "company", item.id);
  const linked = link ? await readAccount(ctx, link.localPk) : null;
  if (link && linked && updatedAt && isOlderThan(updatedAt, link.remoteUpdatedAt)) {
    const older = olderItemOutcome(
      companyRemoteState(item, connection.destination.mappings.company),
      link.remoteState,
      "company",
    );
    return skipped(linked, ctx.entry({ ...logged, ...older, objectId: linked.accountId }));
  }

  const mappings = connection.destination.mappings.company;
  const incoming = companyRemoteState(item, mappings);
  const changes = changedSince(incoming, link && linked ? link.remoteState : {});
  const patch = companyAccountPatch(changes, mappings);
  // A link whose account is gone is dropped, so the company can be linked afresh.
  const statements: Statement[] =
    link && !linked ? [deleteLinkByIntercomId(db, connection.id, "company", item.id)] : [];

  const accountId = linked?.accountId ?? item.company_id ?? null;
  if (!accountId) {
    return skipped(null, ctx.entry({ ...logged, outcome: "skipped", detail: "the company has no company_id" }));
  }
  if (!linked) {
    const candidate = await findAccount(db, workspaceId, accountId);
    const other = candidate ? await linkByLocal(db, connection.id, "company", candidate.pk) : null;
    // `company_id` is unique and immutable in Intercom: another company holding it is gone, so the link moves.
    if (other && other.intercomId !== item.id)
      statements.push(deleteLinkByIntercomId(db, connection.id, "company", other.intercomId));
  }
  const write = await writeAccount(db, workspaceId, accountId, patch, { create: true, now: ctx.now });
  if (!write)
    return skipped(
      null,
      ctx.entry({ ...logged, outcome: "skipped", objectId: accountId, detail: "the account could not be written" }),
    );

  const account = write.account;
  statements.push(
    upsertLink(
      db,
      {
        connectionId: connection.id,
        objectType: "company",
        localPk: account.pk,
        intercomId: item.id,
        remoteUpdatedAt: updatedAt?.ms ?? null,
        remoteState: incoming,
      },
      ctx.now,
    ),
  );
  const paths = Object.keys(changes);
  const entry =
    link && linked && paths.length === 0 && !write.changed
      ? ctx.entry({ ...logged, outcome: "skipped", objectId: account.accountId, detail: ECHO_DETAIL })
      : ctx.entry({ ...logged, outcome: "captured", objectId: account.accountId, detail: describeWrite(write, paths) });
  return { localPk: account.pk, localId: account.accountId, statements, entries: [entry] };
}

function skipped(account: AccountRow | null, entry: SyncLogEntry): Capture {
  return { localPk: account?.pk ?? null, localId: account?.accountId ?? null, statements: [], entries: [entry] };
}
