/**
 * The destination's part when the source links a CDP user to an Intercom contact for the first time: relationships
 * the user already has in the CDP could not be attached while the contact was missing, so the user's sync runs now.
 * Only users with memberships are queued: anything else is already what Intercom holds, and an echo of our own
 * write never links anew (our object linked it first), so this cannot loop.
 */
import { inArray } from "drizzle-orm";
import type { Connection } from "../connections/repository";
import { tenantDb } from "../db/placement";
import { memberships } from "../db/schema";
import type { Env } from "../env";
import { sendAll } from "../lib/queue-batches";
import type { SyncMessage } from "./outbound-message";

/** Queues the syncs that waited for these users' contacts to exist in Intercom. */
export async function wakeLinkedUsers(
  env: Env,
  connection: Pick<Connection, "id" | "workspaceId" | "status" | "destination">,
  userPks: number[],
): Promise<void> {
  if (!connection.destination.enabled || connection.status !== "connected" || userPks.length === 0) return;
  const rows = await (await tenantDb(env, connection.workspaceId))
    .selectDistinct({ userPk: memberships.userPk })
    .from(memberships)
    .where(inArray(memberships.userPk, userPks));
  await sendAll(
    env.OUTBOUND,
    rows.map((row): SyncMessage => ({ kind: "user", connection_id: connection.id, local_pk: row.userPk })),
  );
}
