/** Work parked while a connection's token is revoked, and its resumption on reconnect. */
import { and, eq, inArray } from "drizzle-orm";
import { database } from "../db/client";
import { parkedSyncs } from "../db/schema";
import type { Env } from "../env";
import { log } from "../lib/log";
import type { SyncMessage } from "./outbound-message";

const PAGE = 500;

/** Re-queues every sync parked for `connectionId` (called when the connection is connected again); returns how many. */
export async function resumeParkedSyncs(env: Env, connectionId: string): Promise<number> {
  const db = database(env.DB);
  let resumed = 0;
  for (;;) {
    const parked = await db.select().from(parkedSyncs).where(eq(parkedSyncs.connectionId, connectionId)).limit(PAGE);
    if (parked.length === 0) break;
    const messages = parked.map((row) => ({
      body: {
        kind: row.kind as SyncMessage["kind"],
        connection_id: connectionId,
        local_pk: row.localPk,
      } satisfies SyncMessage,
    }));
    for (let i = 0; i < messages.length; i += 100) await env.OUTBOUND.sendBatch(messages.slice(i, i + 100));
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
