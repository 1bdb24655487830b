/**
 * Work parked while a connection's token is revoked (`parked_syncs`: every statement on that table is here), and its
 * resumption when the connection works again.
 */
import { and, eq, inArray } from "drizzle-orm";
import type { Connection } from "../connections/repository";
import { markRevoked } from "../connections/tokens";
import type { Database } from "../db/client";
import { tenantDb } from "../db/placement";
import { parkedSyncs } from "../db/schema";
import type { Env } from "../env";
import { log } from "../lib/log";
import { sendAll } from "../lib/queue-batches";
import type { SyncMessage } from "./outbound-message";

const PAGE = 500;

/** What waits: a user's or an account's sync object. */
export interface ParkedWork {
  kind: SyncMessage["kind"];
  localPk: number;
}

/** Records that `work` waits for the connection to be restored. */
export async function park(db: Database, connectionId: string, work: ParkedWork): Promise<void> {
  await db
    .insert(parkedSyncs)
    .values({ connectionId, kind: work.kind, localPk: work.localPk, createdAt: Date.now() })
    .onConflictDoNothing();
}

/**
 * Marks the connection revoked (Intercom answered 401) and parks `work` until it is connected again. A connection
 * reconnected meanwhile (another token) is not undone.
 */
export async function revokeAndPark(
  dbs: { db: Database; control: Database },
  connection: Connection,
  work: ParkedWork,
  detail: string,
): Promise<void> {
  await markRevoked(dbs.control, connection, detail);
  await park(dbs.db, connection.id, work);
}

/** Re-queues every sync parked for the connection (called when it works again); returns how many. */
export async function resumeParkedSyncs(env: Env, connection: Pick<Connection, "id" | "workspaceId">): Promise<number> {
  const connectionId = connection.id;
  const db = await tenantDb(env, connection.workspaceId);
  let resumed = 0;
  for (;;) {
    const parked = await db.select().from(parkedSyncs).where(eq(parkedSyncs.connectionId, connectionId)).limit(PAGE);
    if (parked.length === 0) break;
    await sendAll(
      env.OUTBOUND,
      parked.map(
        (row): SyncMessage => ({
          kind: row.kind as SyncMessage["kind"],
          connection_id: connectionId,
          local_pk: row.localPk,
        }),
      ),
    );
    for (const kind of new Set(parked.map((row) => row.kind))) {
      const pks = parked.filter((row) => row.kind === kind).map((row) => row.localPk);
      await db
        .delete(parkedSyncs)
        .where(
          and(
            eq(parkedSyncs.connectionId, connectionId),
            eq(parkedSyncs.kind, kind),
            inArray(parkedSyncs.localPk, pks),
          ),
        );
    }
    resumed += parked.length;
  }
  log({ msg: "parked syncs resumed", connection_id: connectionId, outcome: "resumed", count: resumed });
  return resumed;
}

/** The destination's reaction to a connection that works again (`OnRestored` of the connections service). */
export function resumeOnRestore(env: Env): (connection: Pick<Connection, "id" | "workspaceId">) => Promise<number> {
  return (connection) => resumeParkedSyncs(env, connection);
}
