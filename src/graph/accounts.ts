/** CDP accounts in D1: lookup by `account_id` and compare-and-set writes, for both directions. */
import { and, eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { accounts } from "../db/schema";
import { retryOnConflict } from "./cas";
import { mergeProperties, type Properties, sameJson } from "./properties";

export type AccountRow = typeof accounts.$inferSelect;

export interface AccountState {
  name: string | null;
  properties: Properties;
}

export interface AccountPatch {
  /** `null` clears the name; `undefined` keeps it. */
  name?: string | null;
  /** Merged; `null` removes a key. */
  properties?: Record<string, unknown>;
}

/** An account by the CDP's `account_id`. */
export async function findAccount(db: Database, workspaceId: string, accountId: string): Promise<AccountRow | null> {
  const row = await db
    .select()
    .from(accounts)
    .where(and(eq(accounts.workspaceId, workspaceId), eq(accounts.accountId, accountId)))
    .get();
  return row ?? null;
}

/** An account by primary key, within a workspace. */
export async function getAccount(db: Database, workspaceId: string, pk: number): Promise<AccountRow | null> {
  const row = await db
    .select()
    .from(accounts)
    .where(and(eq(accounts.workspaceId, workspaceId), eq(accounts.pk, pk)))
    .get();
  return row ?? null;
}

/** What the account becomes after `patch` (pure), and whether anything changed. */
export function applyAccountPatch(
  current: AccountState | null,
  patch: AccountPatch,
): { next: AccountState; changed: boolean } {
  const base: AccountState = current ?? { name: null, properties: {} };
  const next: AccountState = {
    name: patch.name === undefined ? base.name : patch.name,
    properties: patch.properties ? mergeProperties(base.properties, patch.properties) : base.properties,
  };
  const changed = current === null || next.name !== base.name || !sameJson(next.properties, base.properties);
  return { next, changed };
}

export interface AccountWrite {
  account: AccountRow;
  before: AccountState | null;
  changed: boolean;
}

/**
 * Applies the patch `patchOf` derives from the account's current state, creating it when `create` allows;
 * compare-and-set on `version` so concurrent writers lose nothing. Null when absent and not created.
 */
export async function writeAccount(
  db: Database,
  workspaceId: string,
  accountId: string,
  patchOf: (current: AccountRow | null) => AccountPatch,
  options: { create: boolean; now?: number },
): Promise<AccountWrite | null> {
  const now = options.now ?? Date.now();
  return retryOnConflict(`account write`, async () => {
    const current = await findAccount(db, workspaceId, accountId);
    if (!current && !options.create) return null;
    const before = current ? { name: current.name, properties: current.properties } : null;
    const { next, changed } = applyAccountPatch(before, patchOf(current));
    if (!changed && current) return { account: current, before, changed: false };
    if (!current) {
      const [inserted] = await db
        .insert(accounts)
        .values({ workspaceId, accountId, ...next, version: 0, createdAt: now, updatedAt: now })
        .onConflictDoNothing()
        .returning();
      if (inserted) return { account: inserted, before: null, changed: true };
      return undefined;
    }
    const [updated] = await db
      .update(accounts)
      .set({ ...next, version: current.version + 1, updatedAt: now })
      .where(and(eq(accounts.pk, current.pk), eq(accounts.version, current.version)))
      .returning();
    return updated ? { account: updated, before, changed: true } : undefined;
  });
}
