/** User ↔ account membership. */
import { and, eq } from "drizzle-orm";
import type { Database } from "../db/client";
import { accounts, memberships, users } from "../db/schema";

/** Links a user to an account (no-op when linked); to run alone or in a batch. */
export function addMembership(db: Database, workspaceId: string, userPk: number, accountPk: number, now = Date.now()) {
  return db.insert(memberships).values({ workspaceId, userPk, accountPk, createdAt: now }).onConflictDoNothing();
}

/** Unlinks a user from an account (no-op when not linked). */
export function removeMembership(db: Database, userPk: number, accountPk: number) {
  return db.delete(memberships).where(and(eq(memberships.userPk, userPk), eq(memberships.accountPk, accountPk)));
}

/** The CDP `account_id`s (and pks) a user belongs to. */
export async function accountsOfUser(db: Database, userPk: number): Promise<Array<{ pk: number; accountId: string }>> {
  return selectAccountsOfUser(db, userPk);
}

/** The query of `accountsOfUser`, to join a batch of reads. */
export function selectAccountsOfUser(db: Database, userPk: number) {
  return db
    .select({ pk: accounts.pk, accountId: accounts.accountId })
    .from(memberships)
    .innerJoin(accounts, eq(accounts.pk, memberships.accountPk))
    .where(eq(memberships.userPk, userPk))
    .orderBy(accounts.accountId);
}

/** The CDP `user_id`s (null for email-only users) and pks of an account's members. */
export async function usersOfAccount(
  db: Database,
  accountPk: number,
): Promise<Array<{ pk: number; userId: string | null; email: string | null }>> {
  return db
    .select({ pk: users.pk, userId: users.userId, email: users.email })
    .from(memberships)
    .innerJoin(users, eq(users.pk, memberships.userPk))
    .where(eq(memberships.accountPk, accountPk))
    .orderBy(users.pk);
}
