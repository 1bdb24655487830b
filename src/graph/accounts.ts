/** CDP accounts in D1: lookup by `account_id` and writes that merge inside the database, for both directions. */
import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { accounts } from "../db/schema";
import { type Properties, sameJson } from "./properties";
import { checkNotRefused, fitsSql, mergedPropertiesSql } from "./property-merge-sql";
import { firstRow, prepareSql } from "./raw-batch";

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

export interface AccountWrite {
  account: AccountRow;
  before: AccountState | null;
  changed: boolean;
}

/**
 * Applies `patch` to the account, creating it when `create` allows: one D1 batch (the state before, the merge done
 * inside the UPDATE, the insert when absent, the state after), so concurrent writers serialize in D1 and none loses a
 * key or retries. Null when absent and not created; `PropertiesTooLargeError` (nothing written) when the stored
 * properties would outgrow `maxPropertiesBytes`.
 */
export async function writeAccount(
  db: Database,
  workspaceId: string,
  accountId: string,
  patch: AccountPatch,
  options: { create: boolean; now?: number; maxPropertiesBytes?: number },
): Promise<AccountWrite | null> {
  const now = options.now ?? Date.now();
  const merged = mergedPropertiesSql(sql`properties`, patch.properties);
  const update = sql`WITH next AS MATERIALIZED (
      SELECT pk, ${patch.name === undefined ? sql`name` : sql`${patch.name}`} AS name, ${merged} AS properties
      FROM accounts WHERE workspace_id = ${workspaceId} AND account_id = ${accountId})
    UPDATE accounts SET name = next.name, properties = next.properties, version = accounts.version + 1,
      updated_at = max(accounts.updated_at, ${now})
    FROM next
    WHERE accounts.pk = next.pk
      AND (next.name IS NOT accounts.name OR next.properties IS NOT accounts.properties)
      AND ${fitsSql(sql`next.properties`, options.maxPropertiesBytes)}`;
  const state = prepareSql(
    db,
    sql`SELECT * FROM accounts WHERE workspace_id = ${workspaceId} AND account_id = ${accountId}`,
  );
  const statements = [state, prepareSql(db, update)];
  if (options.create) {
    const properties = mergedPropertiesSql(sql`'{}'`, patch.properties);
    const insert = sql`INSERT INTO accounts (workspace_id, account_id, name, properties, version, created_at, updated_at)
      SELECT ${workspaceId}, ${accountId}, ${patch.name ?? null}, ${properties}, 0, ${now}, ${now}
      WHERE NOT EXISTS (SELECT 1 FROM accounts WHERE workspace_id = ${workspaceId} AND account_id = ${accountId})
        AND ${fitsSql(properties, options.maxPropertiesBytes)}
      ON CONFLICT DO NOTHING`;
    statements.push(prepareSql(db, insert));
  }
  const results = await db.$client.batch([...statements, state]);
  const before = firstRow(accounts, results[0]!);
  const after = firstRow(accounts, results.at(-1)!);
  if (!after) {
    if (!options.create) return null;
    checkNotRefused({}, patch.properties, options.maxPropertiesBytes);
    throw new Error("account write: the account was neither found nor created");
  }
  if (before && after.version === before.version) {
    checkNotRefused(before.properties, patch.properties, options.maxPropertiesBytes);
  }
  const state0 = before ? accountState(before) : null;
  const changed = state0 === null || !sameAccountState(state0, accountState(after));
  return { account: after, before: state0, changed };
}

/** Whether two states hold the same name and properties. */
export function sameAccountState(a: AccountState, b: AccountState): boolean {
  return a.name === b.name && sameJson(a.properties, b.properties);
}

/** The stored state of a row. */
export function accountState(row: AccountRow): AccountState {
  return { name: row.name, properties: row.properties };
}
