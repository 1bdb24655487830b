/** CDP users in D1: lookup by the CDP's ids and writes of the identity graph, for both directions. */
import { and, desc, eq, isNull, type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { users } from "../db/schema";
import { retryOnConflict } from "./cas";
import { mergeProperties, type Properties, sameJson, sameSegments } from "./properties";

export type UserRow = typeof users.$inferSelect;

export interface UserIdentity {
  userId?: string | null;
  email?: string | null;
}

/** Lower-cases and trims an email; empty means none. */
export function normalizeEmail(email: string | null | undefined): string | null {
  const trimmed = email?.trim().toLowerCase();
  return trimmed ? trimmed : null;
}

/**
 * The user an identity names: by `user_id` first; else by email. With both, a user known only by that email (no
 * `user_id` yet) is the same person.
 */
export async function findUser(db: Database, workspaceId: string, identity: UserIdentity): Promise<UserRow | null> {
  const email = normalizeEmail(identity.email);
  if (identity.userId) {
    const byId = await db
      .select()
      .from(users)
      .where(and(eq(users.workspaceId, workspaceId), eq(users.userId, identity.userId)))
      .get();
    if (byId || !email) return byId ?? null;
    const byEmail = await db
      .select()
      .from(users)
      .where(and(eq(users.workspaceId, workspaceId), eq(users.email, email), isNull(users.userId)))
      .orderBy(desc(users.updatedAt))
      .get();
    return byEmail ?? null;
  }
  if (!email) return null;
  const byEmail = await db
    .select()
    .from(users)
    .where(and(eq(users.workspaceId, workspaceId), eq(users.email, email)))
    .orderBy(desc(users.updatedAt))
    .get();
  return byEmail ?? null;
}

/** The user known only by this email (no `user_id`), if any: at most one per workspace. */
export async function findEmailOnlyUser(db: Database, workspaceId: string, email: string): Promise<UserRow | null> {
  const row = await db
    .select()
    .from(users)
    .where(and(eq(users.workspaceId, workspaceId), eq(users.email, email), isNull(users.userId)))
    .get();
  return row ?? null;
}

/** A user by primary key, within a workspace. */
export async function getUser(db: Database, workspaceId: string, pk: number): Promise<UserRow | null> {
  const row = await db
    .select()
    .from(users)
    .where(and(eq(users.workspaceId, workspaceId), eq(users.pk, pk)))
    .get();
  return row ?? null;
}

export interface UserPatch {
  userId?: string | null;
  email?: string | null;
  /** Merged into the stored properties; `null` removes a key. */
  properties?: Record<string, unknown>;
  /** Replaces the membership of segments when given. */
  segments?: string[];
}

export interface UserState {
  userId: string | null;
  email: string | null;
  properties: Properties;
  segments: string[];
}

/** What the user becomes after `patch` (pure), and whether anything changed. */
export function applyUserPatch(current: UserState | null, patch: UserPatch): { next: UserState; changed: boolean } {
  const base: UserState = current ?? { userId: null, email: null, properties: {}, segments: [] };
  const next: UserState = {
    userId: patch.userId ?? base.userId,
    email: patch.email === undefined ? base.email : (normalizeEmail(patch.email) ?? base.email),
    properties: patch.properties ? mergeProperties(base.properties, patch.properties) : base.properties,
    segments: patch.segments ? [...new Set(patch.segments)] : base.segments,
  };
  const changed =
    current === null ||
    next.userId !== base.userId ||
    next.email !== base.email ||
    !sameJson(next.properties, base.properties) ||
    !sameSegments(next.segments, base.segments);
  return { next, changed };
}

export interface UserWrite {
  user: UserRow;
  /** The state before the write; null when the user was created. */
  before: UserState | null;
  changed: boolean;
}

/**
 * Finds the user named by `identity` and applies the patch that `patchOf` derives from its current state, creating
 * the user when `create` allows. Concurrent writers compare-and-set on `version` and retry, so none is lost.
 * Returns null when the user does not exist and may not be created.
 */
export async function writeUser(
  db: Database,
  workspaceId: string,
  identity: UserIdentity,
  patchOf: (current: UserRow | null) => UserPatch,
  options: { create: boolean; now?: number },
): Promise<UserWrite | null> {
  return casWriteUser(db, workspaceId, () => findUser(db, workspaceId, identity), patchOf, options);
}

/**
 * Applies the patch `patchOf` derives from the current state of the user with primary key `pk` (compare-and-set on
 * `version`, like `writeUser`). For writers that already know which row they mean (an Intercom link), whatever its
 * ids say now. Null when there is no such user in the workspace.
 */
export async function updateUser(
  db: Database,
  workspaceId: string,
  pk: number,
  patchOf: (current: UserRow) => UserPatch,
  options: { now?: number } = {},
): Promise<UserWrite | null> {
  return casWriteUser(
    db,
    workspaceId,
    () => getUser(db, workspaceId, pk),
    (current) => patchOf(current!),
    {
      create: false,
      ...options,
    },
  );
}

/** The compare-and-set loop behind `writeUser` and `updateUser`: `find` names the row, `create` allows inserting. */
async function casWriteUser(
  db: Database,
  workspaceId: string,
  find: () => Promise<UserRow | null>,
  patchOf: (current: UserRow | null) => UserPatch,
  options: { create: boolean; now?: number },
): Promise<UserWrite | null> {
  const now = options.now ?? Date.now();
  return retryOnConflict(`user write`, async () => {
    const current = await find();
    if (!current && !options.create) return null;
    const before = current ? userState(current) : null;
    const { next, changed } = applyUserPatch(before, patchOf(current));
    if (!changed && current) return { user: current, before, changed: false };
    if (!current) {
      const [inserted] = await db
        .insert(users)
        .values({ workspaceId, ...next, version: 0, createdAt: now, updatedAt: now })
        .onConflictDoNothing()
        .returning();
      if (inserted) return { user: inserted, before: null, changed: true };
      return undefined; // another writer created it first: apply the patch to theirs
    }
    const [updated] = await db
      .update(users)
      .set({ ...next, version: current.version + 1, updatedAt: now })
      .where(and(eq(users.pk, current.pk), eq(users.version, current.version)))
      .returning();
    return updated ? { user: updated, before, changed: true } : undefined;
  });
}

/** The stored state of a row. */
export function userState(row: UserRow): UserState {
  return { userId: row.userId, email: row.email, properties: row.properties, segments: row.segments };
}

/** Users in at least one of `segments` (every user when empty), evaluated in SQL over the JSON column. */
export function inSegments(segments: readonly string[]): SQL | undefined {
  if (segments.length === 0) return undefined;
  return sql`exists (select 1 from json_each(${users.segments}) where json_each.value in (select value from json_each(${JSON.stringify(segments)})))`;
}
