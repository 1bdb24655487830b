/** Shared plumbing of destination steps: recording what Intercom holds, and sync-log rows of direction `out`. */
import type { IntercomObjectType } from "../../db/schema";
import { upsertLink } from "../../graph/links";
import { type SyncLogEntry, writeSyncLog } from "../../lib/sync-log";
import type { SyncContext } from "../context";

/**
 * Records which Intercom object a CDP user/account is and what Intercom holds for it. `updatedAt` (Unix seconds, as
 * Intercom's REST answers give it) marks that state's age as the end of its second: webhook items carry milliseconds,
 * and the echo of an earlier write made in the same second must count as older, not replace this state.
 */
export async function saveLink(
  context: Pick<SyncContext, "db" | "connection">,
  link: {
    objectType: IntercomObjectType;
    localPk: number;
    intercomId: string;
    state: Record<string, unknown>;
    updatedAt: number | null;
  },
): Promise<void> {
  await upsertLink(context.db, {
    connectionId: context.connection.id,
    objectType: link.objectType,
    localPk: link.localPk,
    intercomId: link.intercomId,
    remoteUpdatedAt: link.updatedAt ? link.updatedAt * 1000 + 999 : null,
    remoteState: link.state,
  });
}

/** Writes a sync-log row (direction `out`) for this connection, and its console twin. */
export async function logOut(
  context: Pick<SyncContext, "db" | "connection">,
  entry: Omit<SyncLogEntry, "connectionId" | "workspaceId" | "direction">,
): Promise<void> {
  await writeSyncLog(context.db, {
    ...entry,
    connectionId: context.connection.id,
    workspaceId: context.connection.workspaceId,
    direction: "out",
  });
}

/** How logs name a user: the CDP's id, else its row (an email is personal data: it goes in the email column only). */
export function userRef(user: { userId: string | null; pk: number }): string {
  return user.userId ?? `user#${user.pk}`;
}
