/**
 * Tombstones of erased persons' Intercom contacts (`erased_contacts`): written by the erasure before it archives or
 * deletes a contact, read by the source so that contact's notifications (the echo of the archive/delete, an update
 * already on its way, a redelivery) are not captured again and are logged under the person's digest only.
 */
import { eq, inArray, lt } from "drizzle-orm";
import type { Database } from "../db/client";
import { erasedContacts } from "../db/schema";
import type { Env } from "../env";
import { keyedDigest } from "./digest";

/** How long a tombstone holds: far longer than Intercom's redeliveries (2 h) and the sweep's lag. */
export const TOMBSTONE_TTL_MS = 30 * 86_400_000;

async function contactKey(env: Env, connectionId: string, intercomId: string): Promise<string> {
  return keyedDigest(env, `contact\u0000${connectionId}\u0000${intercomId}`);
}

/** Records the contacts of an erased person on one connection. */
export async function recordErasedContacts(
  env: Env,
  db: Database,
  entry: { connectionId: string; contactIds: readonly string[]; personDigest: string; erasureId: string },
): Promise<void> {
  if (entry.contactIds.length === 0) return;
  const now = Date.now();
  const rows = await Promise.all(
    entry.contactIds.map(async (intercomId) => ({
      key: await contactKey(env, entry.connectionId, intercomId),
      personDigest: entry.personDigest,
      erasureId: entry.erasureId,
      createdAt: now,
    })),
  );
  // 4 parameters a row: 20 rows a statement stay under D1's 100 bound parameters.
  for (let start = 0; start < rows.length; start += 20) {
    await db
      .insert(erasedContacts)
      .values(rows.slice(start, start + 20))
      .onConflictDoNothing();
  }
}

/** The digest of the erased person whose contact `intercomId` was, or null. */
export async function erasedContactDigest(
  env: Env,
  db: Database,
  connectionId: string,
  intercomId: string,
): Promise<string | null> {
  const row = await db
    .select({ personDigest: erasedContacts.personDigest })
    .from(erasedContacts)
    .where(eq(erasedContacts.key, await contactKey(env, connectionId, intercomId)))
    .get();
  return row?.personDigest ?? null;
}

/** The digests of the erased persons whose contacts some of `intercomIds` were, by contact id: one read per 90 ids. */
export async function erasedContactDigests(
  env: Env,
  db: Database,
  connectionId: string,
  intercomIds: readonly string[],
): Promise<Map<string, string>> {
  const unique = [...new Set(intercomIds)];
  const idOfKey = new Map(
    await Promise.all(unique.map(async (id) => [await contactKey(env, connectionId, id), id] as const)),
  );
  const keys = [...idOfKey.keys()];
  const found = new Map<string, string>();
  for (let start = 0; start < keys.length; start += 90) {
    const rows = await db
      .select({ key: erasedContacts.key, personDigest: erasedContacts.personDigest })
      .from(erasedContacts)
      .where(inArray(erasedContacts.key, keys.slice(start, start + 90)));
    for (const row of rows) found.set(idOfKey.get(row.key)!, row.personDigest);
  }
  return found;
}

/** Housekeeping: deletes tombstones older than their TTL (bounded). */
export async function expireTombstones(db: Database, now: number): Promise<number> {
  const old = db
    .select({ key: erasedContacts.key })
    .from(erasedContacts)
    .where(lt(erasedContacts.createdAt, now - TOMBSTONE_TTL_MS))
    .limit(1000);
  const result = await db.delete(erasedContacts).where(inArray(erasedContacts.key, old)).run();
  return result.meta.changes;
}
