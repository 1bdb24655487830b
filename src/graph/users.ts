/** CDP users in D1: lookup by the CDP's ids and writes of the identity graph, for both directions. */
import { and, eq, isNull, type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { users } from "../db/schema";
import { type Properties, sameJson, sameSegments } from "./properties";
import { checkNotRefused, fitsSql, mergedPropertiesSql } from "./property-merge-sql";
import { firstRow, prepareSql } from "./raw-batch";

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
 * The primary key of the user an identity names, as a scalar SQL subquery (NULL when there is none): by `user_id`
 * first; else by email. With both, a user known only by that email (no `user_id` yet) is the same person; with an
 * email alone, the most recently written user with that email. Null when the identity has neither.
 */
function userPkSql(workspaceId: string, identity: UserIdentity): SQL | null {
  const email = normalizeEmail(identity.email);
  const byUserId = identity.userId
    ? sql`(SELECT pk FROM users WHERE workspace_id = ${workspaceId} AND user_id = ${identity.userId})`
    : null;
  if (byUserId && email) {
    return sql`coalesce(${byUserId}, (SELECT pk FROM users WHERE workspace_id = ${workspaceId} AND email = ${email} AND user_id IS NULL))`;
  }
  if (byUserId) return byUserId;
  if (!email) return null;
  return sql`(SELECT pk FROM users WHERE workspace_id = ${workspaceId} AND email = ${email} ORDER BY updated_at DESC, pk DESC LIMIT 1)`;
}

/**
 * The user an identity names: by `user_id` first; else by email. With both, a user known only by that email (no
 * `user_id` yet) is the same person.
 */
export async function findUser(db: Database, workspaceId: string, identity: UserIdentity): Promise<UserRow | null> {
  const pk = userPkSql(workspaceId, identity);
  if (!pk) return null;
  return (await db.select().from(users).where(eq(users.pk, pk)).get()) ?? null;
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
  const [row] = await selectUser(db, workspaceId, pk);
  return row ?? null;
}

/** The query of `getUser` (zero or one row), to join a batch of reads. */
export function selectUser(db: Database, workspaceId: string, pk: number) {
  return db
    .select()
    .from(users)
    .where(and(eq(users.workspaceId, workspaceId), eq(users.pk, pk)))
    .limit(1);
}

export interface UserPatch {
  /** Sets `user_id` when the user has none yet: the CDP owns its ids, so an existing one is never replaced. */
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

export interface UserWrite {
  user: UserRow;
  /** The state before the write; null when the user was created. */
  before: UserState | null;
  changed: boolean;
}

export interface UserWriteOptions {
  now?: number;
  /** Refuse (`PropertiesTooLargeError`, nothing written) a write whose stored properties would outgrow this. */
  maxPropertiesBytes?: number;
}

/**
 * Applies `patch` to the user named by `identity`, creating the user when `create` allows. The ids written are the
 * identity's, else the patch's (a `user_id` fills a missing one, an email replaces the stored one), so the row stays
 * the one the identity names. One D1 batch (one transaction on the single writer): the state before, the merge done inside the
 * UPDATE itself, the insert when there was no such user, the state after. Concurrent writers therefore serialize in
 * D1, none can lose a key or has to retry, and creation races end in one row. Null when the user does not exist and
 * may not be created.
 */
export async function writeUser(
  db: Database,
  workspaceId: string,
  identity: UserIdentity,
  patch: UserPatch,
  options: UserWriteOptions & { create: boolean },
): Promise<UserWrite | null> {
  const target = userPkSql(workspaceId, identity);
  if (!target) return null;
  const ids = {
    userId: identity.userId || patch.userId || null,
    email: normalizeEmail(identity.email) ?? normalizeEmail(patch.email),
  };
  return applyUserWrite(db, target, { ...patch, ...ids }, options.create ? { workspaceId, ...ids } : null, options);
}

/**
 * Applies `patch` to the user with primary key `pk`, like `writeUser`: for writers that already know which row they
 * mean (an Intercom link), whatever its ids say now. Null when there is no such user in the workspace.
 */
export async function updateUser(
  db: Database,
  workspaceId: string,
  pk: number,
  patch: UserPatch,
  options: UserWriteOptions = {},
): Promise<UserWrite | null> {
  const target = sql`(SELECT pk FROM users WHERE workspace_id = ${workspaceId} AND pk = ${pk})`;
  return applyUserWrite(db, target, patch, null, options);
}

/**
 * The batch behind `writeUser` and `updateUser`. `target` names the row (a scalar subquery, evaluated afresh by each
 * statement: it names the same row throughout, since `updated_at` only grows and ids are only ever added); `create`
 * holds the ids of a row to insert when there is none.
 */
async function applyUserWrite(
  db: Database,
  target: SQL,
  patch: UserPatch,
  create: { workspaceId: string; userId: string | null; email: string | null } | null,
  options: UserWriteOptions,
): Promise<UserWrite | null> {
  const now = options.now ?? Date.now();
  const email = normalizeEmail(patch.email);
  const segments = patch.segments ? JSON.stringify([...new Set(patch.segments)]) : null;
  const merged = mergedPropertiesSql(sql`properties`, patch.properties);
  // The new values are computed once (MATERIALIZED), then written only when they differ and fit.
  const update = sql`WITH next AS MATERIALIZED (
      SELECT pk,
        ${patch.userId ? sql`coalesce(user_id, ${patch.userId})` : sql`user_id`} AS user_id,
        ${email ? sql`${email}` : sql`email`} AS email,
        ${merged} AS properties,
        ${segments === null ? sql`segments` : sql`${segments}`} AS segments
      FROM users WHERE pk = ${target})
    UPDATE users SET user_id = next.user_id, email = next.email, properties = next.properties,
      segments = next.segments, version = users.version + 1, updated_at = max(users.updated_at, ${now})
    FROM next
    WHERE users.pk = next.pk
      AND (next.user_id IS NOT users.user_id OR next.email IS NOT users.email
        OR next.properties IS NOT users.properties OR next.segments IS NOT users.segments)
      AND ${fitsSql(sql`next.properties`, options.maxPropertiesBytes)}`;
  const state = prepareSql(db, sql`SELECT * FROM users WHERE pk = ${target}`);
  const statements = [state, prepareSql(db, update)];
  if (create) {
    const properties = mergedPropertiesSql(sql`'{}'`, patch.properties);
    const insert = sql`INSERT INTO users (workspace_id, user_id, email, properties, segments, version, created_at, updated_at)
      SELECT ${create.workspaceId}, ${create.userId}, ${create.email}, ${properties}, ${segments ?? "[]"}, 0, ${now}, ${now}
      WHERE NOT EXISTS (SELECT 1 FROM users WHERE pk = ${target})
        AND ${fitsSql(properties, options.maxPropertiesBytes)}
      ON CONFLICT DO NOTHING`;
    statements.push(prepareSql(db, insert));
  }
  const results = await db.$client.batch([...statements, state]);
  const before = firstRow(users, results[0]!);
  const after = firstRow(users, results.at(-1)!);
  if (!after) {
    if (!create) return null;
    checkNotRefused({}, patch.properties, options.maxPropertiesBytes);
    throw new Error("user write: the user was neither found nor created");
  }
  if (before && after.version === before.version) {
    checkNotRefused(before.properties, patch.properties, options.maxPropertiesBytes);
  }
  const changed = before === null || !sameUserState(userState(before), userState(after));
  return { user: after, before: before ? userState(before) : null, changed };
}

/** Whether two states hold the same ids, properties and segments (segments as a set). */
export function sameUserState(a: UserState, b: UserState): boolean {
  return (
    a.userId === b.userId &&
    a.email === b.email &&
    sameJson(a.properties, b.properties) &&
    sameSegments(a.segments, b.segments)
  );
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
