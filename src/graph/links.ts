/** The identity map between CDP users/accounts and Intercom contacts/companies, per connection. */
import { and, desc, eq, inArray, type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { type IntercomObjectType, intercomLinks } from "../db/schema";

export type LinkRow = typeof intercomLinks.$inferSelect;

/** The link of an Intercom object, if known. */
export async function linkByIntercomId(
  db: Database,
  connectionId: string,
  objectType: IntercomObjectType,
  intercomId: string,
): Promise<LinkRow | null> {
  const row = await db
    .select()
    .from(intercomLinks)
    .where(
      and(
        eq(intercomLinks.connectionId, connectionId),
        eq(intercomLinks.objectType, objectType),
        eq(intercomLinks.intercomId, intercomId),
      ),
    )
    .get();
  return row ?? null;
}

/**
 * The links of many Intercom objects in one query, keyed by Intercom id. The ids travel as one JSON parameter, so the
 * statement has the same size and parameter count however many there are (D1 allows 100 parameters).
 */
export async function linksByIntercomIds(
  db: Database,
  connectionId: string,
  objectType: IntercomObjectType,
  intercomIds: readonly string[],
): Promise<Map<string, LinkRow>> {
  if (intercomIds.length === 0) return new Map();
  const rows = await db
    .select()
    .from(intercomLinks)
    // One row-value IN over all three columns of the Intercom-id index: with `intercom_id IN (…)` beside two
    // equalities, SQLite may read every link of the connection through the primary key's (connection_id,
    // object_type) prefix instead (it did while the table was briefly WITHOUT ROWID; the query-plan test checks).
    .where(
      sql`(${intercomLinks.connectionId}, ${intercomLinks.objectType}, ${intercomLinks.intercomId}) IN (SELECT ${connectionId}, ${objectType}, value FROM json_each(${JSON.stringify(intercomIds)}))`,
    );
  return new Map(rows.map((row) => [row.intercomId, row]));
}

/** The link of a CDP user or account, if known. */
export async function linkByLocal(
  db: Database,
  connectionId: string,
  objectType: IntercomObjectType,
  localPk: number,
): Promise<LinkRow | null> {
  const [row] = await selectLinkByLocal(db, connectionId, objectType, localPk);
  return row ?? null;
}

/** The query of `linkByLocal` (zero or one row), to join a batch of reads. */
export function selectLinkByLocal(db: Database, connectionId: string, objectType: IntercomObjectType, localPk: number) {
  return db
    .select()
    .from(intercomLinks)
    .where(
      and(
        eq(intercomLinks.connectionId, connectionId),
        eq(intercomLinks.objectType, objectType),
        eq(intercomLinks.localPk, localPk),
      ),
    )
    .limit(1);
}

/**
 * The Intercom id of a CDP user or account in any of `connectionIds` (a workspace's): the most recently updated link
 * wins (a workspace may have reconnected, or connected more than one Intercom workspace).
 */
export async function intercomIdOfLocal(
  db: Database,
  connectionIds: readonly string[],
  objectType: IntercomObjectType,
  localPk: number,
): Promise<string | null> {
  if (connectionIds.length === 0) return null;
  const row = await db
    .select({ intercomId: intercomLinks.intercomId })
    .from(intercomLinks)
    .where(
      and(
        inArray(intercomLinks.connectionId, [...connectionIds]),
        eq(intercomLinks.objectType, objectType),
        eq(intercomLinks.localPk, localPk),
      ),
    )
    .orderBy(desc(intercomLinks.updatedAt))
    .get();
  return row?.intercomId ?? null;
}

export interface LinkWrite {
  connectionId: string;
  objectType: IntercomObjectType;
  localPk: number;
  intercomId: string;
  /** Unix ms of the Intercom state recorded in `remoteState`; null leaves the stored one. */
  remoteUpdatedAt?: number | null;
  /** Intercom's values of the synced fields, merged over the stored ones. */
  remoteState?: Record<string, unknown>;
}

/**
 * Creates or updates a link (an Intercom object → CDP object, one each way per connection). The remote state
 * is merged key by key in SQL (keeping a known `null`), so two writers of different fields both land.
 */
export function upsertLink(db: Database, link: LinkWrite, now = Date.now()) {
  return db
    .insert(intercomLinks)
    .values({
      connectionId: link.connectionId,
      objectType: link.objectType,
      localPk: link.localPk,
      intercomId: link.intercomId,
      remoteUpdatedAt: link.remoteUpdatedAt ?? null,
      remoteState: link.remoteState ?? {},
      updatedAt: now,
    })
    .onConflictDoUpdate({
      target: [intercomLinks.connectionId, intercomLinks.objectType, intercomLinks.localPk],
      set: {
        intercomId: link.intercomId,
        remoteUpdatedAt:
          link.remoteUpdatedAt == null
            ? sqlKeep("remote_updated_at")
            : sqlMax("remote_updated_at", link.remoteUpdatedAt),
        remoteState: sqlJsonMerge("remote_state", link.remoteState ?? {}),
        updatedAt: now,
      },
    });
}

/** Removes a link by its Intercom id (the Intercom object was deleted or merged away). */
export function deleteLinkByIntercomId(
  db: Database,
  connectionId: string,
  objectType: IntercomObjectType,
  intercomId: string,
) {
  return db
    .delete(intercomLinks)
    .where(
      and(
        eq(intercomLinks.connectionId, connectionId),
        eq(intercomLinks.objectType, objectType),
        eq(intercomLinks.intercomId, intercomId),
      ),
    );
}

function sqlKeep(column: string): SQL {
  return sql.raw(`"intercom_links"."${column}"`);
}

function sqlMax(column: string, value: number): SQL {
  return sql`max(coalesce(${sqlKeep(column)}, 0), ${value})`;
}

/**
 * `column` with `values` merged over it, each top-level key replaced whole, from one JSON parameter: the statement
 * does not grow with the number of keys (D1 allows 32 arguments per SQL function and 100 parameters, and a wide
 * contact has over 100 keys). Not `json_patch`: it would delete the keys whose value is null (RFC 7396) and merge
 * nested objects. `->` with `fullkey` copies each value's JSON text exactly (numbers keep every digit).
 */
function sqlJsonMerge(column: string, values: Record<string, unknown>): SQL {
  const entries = Object.entries(values);
  if (entries.length === 0) return sqlKeep(column);
  const patch = JSON.stringify(Object.fromEntries(entries.map(([key, value]) => [key, value ?? null])));
  const stored = sqlKeep(column);
  return sql`(with patch(doc) as (select json(${patch})) select json_group_object(merged.key, json(merged.value)) from (
    select old.key as key, ${stored} -> old.fullkey as value from json_each(${stored}) as old
      where old.key not in (select key from patch, json_each(patch.doc))
    union all
    select new.key, patch.doc -> new.fullkey from patch, json_each(patch.doc) as new) as merged)`;
}
