/** Shared plumbing of destination steps: recording what Intercom holds, and sync-log rows of direction `out`. */
import type { BatchItem } from "drizzle-orm/batch";
import type { IntercomObjectType } from "../../db/schema";
import { upsertLink } from "../../graph/links";
import { logSyncOutcome, type SyncLogEntry, syncLogStatements, writeSyncLog } from "../../lib/sync-log";
import type { SyncContext } from "../context";

export interface SavedLink {
  objectType: IntercomObjectType;
  localPk: number;
  intercomId: string;
  state: Record<string, unknown>;
  updatedAt: number | null;
}

/**
 * Records which Intercom object a CDP user/account is and what Intercom holds for it. `updatedAt` (Unix seconds, as
 * Intercom's REST answers give it) marks that state's age as the end of its second: webhook items carry milliseconds,
 * and the echo of an earlier write made in the same second must count as older, not replace this state. A statement,
 * to run in one batch with the sync-log row of its outcome (`commitWithLog`).
 */
export function saveLinkStatement(context: Pick<SyncContext, "db" | "connection">, link: SavedLink) {
  return upsertLink(context.db, {
    connectionId: context.connection.id,
    objectType: link.objectType,
    localPk: link.localPk,
    intercomId: link.intercomId,
    remoteUpdatedAt: link.updatedAt ? link.updatedAt * 1000 + 999 : null,
    remoteState: link.state,
  });
}

type OutEntry = Omit<SyncLogEntry, "connectionId" | "workspaceId" | "direction">;

/** Writes a sync-log row (direction `out`) for this connection, and its console twin. */
export async function logOut(context: Pick<SyncContext, "db" | "connection">, entry: OutEntry): Promise<void> {
  await writeSyncLog(context.db, outEntry(context, entry));
}

/** Runs `statements` and the sync-log row of their outcome in one D1 round trip, then prints the console twin. */
export async function commitWithLog(
  context: Pick<SyncContext, "db" | "connection">,
  statements: BatchItem<"sqlite">[],
  entry: OutEntry,
): Promise<void> {
  const full = outEntry(context, entry);
  await context.db.batch([...statements, ...syncLogStatements(context.db, full)] as [
    BatchItem<"sqlite">,
    ...BatchItem<"sqlite">[],
  ]);
  logSyncOutcome(full);
}

function outEntry(context: Pick<SyncContext, "connection">, entry: OutEntry): SyncLogEntry {
  return {
    ...entry,
    connectionId: context.connection.id,
    workspaceId: context.connection.workspaceId,
    direction: "out",
  };
}

/** How logs name a user: the CDP's id, else its row (an email is personal data: it goes in the email column only). */
export function userRef(user: { userId: string | null; pk: number }): string {
  return user.userId ?? `user#${user.pk}`;
}
