/**
 * The erasure of one person on one connection, run inside that person's ContactSync object (so it waits for a sync
 * or action already under way, and nothing queued before it is sent after it): the linked Intercom contacts are
 * archived or deleted as `destination.on_erase` says, and the person's links, queued actions and pending
 * relationships on that connection are removed. Logs name the person by digest only.
 */
import { and, eq, inArray } from "drizzle-orm";
import { findConnectionById } from "../connections/repository";
import { connectionToken } from "../connections/tokens";
import { controlDb, tenantDb } from "../db/placement";
import { actions, intercomLinks, pendingLinks } from "../db/schema";
import type { Env } from "../env";
import { budgetedFetch } from "../intercom/budgeted-fetch";
import { intercomClient } from "../intercom/client";
import { failureOf, isRetryable } from "../intercom/errors";
import { archiveContact, deleteContact } from "../intercom/gateway";
import { writeSyncLog } from "../lib/sync-log";
import { recordErasedContacts } from "./tombstones";

/** What the job asks of one person's ContactSync object. */
export interface ContactErasure {
  erasureId: string;
  workspaceId: string;
  connectionId: string;
  localPk: number;
  /** Contacts linked when the erasure began (the object adds any linked since). */
  contactIds: string[];
  digest: string;
  /** The contact's deletion in Intercom started this erase: nothing is sent back for it. */
  quiet?: boolean;
}

/** What the object answers across the RPC boundary (errors would lose their type there). */
export type ContactErasureResult =
  | { ok: true; contacts: number; detail: string }
  | { ok: false; retryable: boolean; detail: string };

/**
 * Erases the person on this connection. `done` holds the contacts already archived/deleted by an earlier attempt
 * (kept by the object until the whole erase succeeds), so a retry after a partial failure sends nothing twice.
 */
export async function eraseOnConnection(
  env: Env,
  request: ContactErasure,
  done: Set<string>,
  onDone: (contactId: string) => Promise<void>,
): Promise<ContactErasureResult> {
  const control = controlDb(env);
  const connection = await findConnectionById(control, request.connectionId);
  const db = await tenantDb(env, request.workspaceId);
  const linked = await db
    .select({ intercomId: intercomLinks.intercomId })
    .from(intercomLinks)
    .where(
      and(
        eq(intercomLinks.connectionId, request.connectionId),
        eq(intercomLinks.objectType, "contact"),
        eq(intercomLinks.localPk, request.localPk),
      ),
    );
  const contactIds = [...new Set([...request.contactIds, ...linked.map((link) => link.intercomId)])];
  // Before anything is sent: the echo of the archive/delete may arrive while this still runs.
  await recordErasedContacts(env, db, {
    connectionId: request.connectionId,
    contactIds,
    personDigest: request.digest,
    erasureId: request.erasureId,
  });
  const onErase = request.quiet ? "none" : (connection?.destination.on_erase ?? "none");
  let acted = 0;
  let detail = "no linked contact";
  if (contactIds.length > 0) {
    detail = request.quiet
      ? "the contact was deleted in Intercom: nothing sent back"
      : `on_erase is ${onErase}: the Intercom contact is left as is`;
  }
  if (connection && onErase !== "none" && contactIds.length > 0) {
    if (connection.status !== "connected" || !connection.tokenJwe) {
      detail = `the connection is ${connection.status}: the Intercom contact was not ${onErase}d`;
    } else {
      const token = await connectionToken(env, control, connection);
      const client = token
        ? intercomClient(env, {
            token,
            region: connection.region,
            fetch: connection.appId ? budgetedFetch(env, connection.appId) : undefined,
          })
        : null;
      detail = `${onErase}: no token`;
      let refused: string | null = null;
      for (const contactId of contactIds) {
        if (!client || done.has(contactId)) continue;
        try {
          if (onErase === "archive") await archiveContact(client, contactId);
          else await deleteContact(client, contactId);
          acted++;
        } catch (error) {
          const failure = failureOf(error);
          // Retried by the job (rate limit, Intercom down); contacts already done are not sent again.
          if (isRetryable(failure)) return { ok: false, retryable: true, detail: `${onErase} failed: ${failure.kind}` };
          // Already gone (deleted, merged, archived before) holds the erase's goal; anything else is final.
          if (failure.kind !== "not_found" && failure.kind !== "gone") refused = `${onErase} refused: ${failure.kind}`;
        }
        await onDone(contactId);
      }
      if (client) detail = `${acted} Intercom contact(s) ${onErase}d${refused ? `; ${refused}` : ""}`;
    }
  }
  await db.batch([
    db
      .delete(intercomLinks)
      .where(
        and(
          eq(intercomLinks.connectionId, request.connectionId),
          eq(intercomLinks.objectType, "contact"),
          eq(intercomLinks.localPk, request.localPk),
        ),
      ),
    db
      .delete(actions)
      .where(
        and(
          eq(actions.connectionId, request.connectionId),
          eq(actions.userPk, request.localPk),
          eq(actions.status, "queued"),
        ),
      ),
    ...(contactIds.length > 0
      ? [
          db
            .delete(pendingLinks)
            .where(
              and(
                eq(pendingLinks.connectionId, request.connectionId),
                inArray(pendingLinks.intercomContactId, contactIds.slice(0, 90)),
              ),
            ),
        ]
      : []),
  ]);
  if (connection) {
    await writeSyncLog(db, {
      connectionId: connection.id,
      workspaceId: connection.workspaceId,
      direction: "out",
      outcome: acted > 0 ? "synced" : "skipped",
      objectType: "contact",
      objectId: request.digest,
      intercomId: contactIds.length > 0 ? request.digest : null,
      action: "erase",
      detail: `erasure ${request.erasureId}: ${detail}`,
    });
  }
  return { ok: true, contacts: acted, detail };
}
