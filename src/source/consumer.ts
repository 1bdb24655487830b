/**
 * The source consumer (Intercom → CDP), the queue shell around `processNotification`: validates each INBOUND
 * message, finds its connection by `app_id`, skips (with a logged reason) what may not be captured, and retries
 * with backoff what failed; after `max_retries` the queue moves it to the dead-letter queue, which records it.
 */
import { type Connection, findByAppId } from "../connections/repository";
import { controlDb, tenantDb } from "../db/placement";
import { wakeLinkedUsers } from "../destination/wake";
import type { Env } from "../env";
import { describeError } from "../lib/errors";
import { log } from "../lib/log";
import { type SyncLogEntry, writeSyncLog } from "../lib/sync-log";
import { startErasure } from "../privacy/erase";
import { erasedContactDigest } from "../privacy/tombstones";
import { InboundMessage } from "./inbound-message";
import { processNotification } from "./process";

/** Seconds before the n-th retry (n = attempts so far): 10 s, 30 s, 1.5 min, 4.5 min, then 10 min. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(10 * 3 ** Math.max(0, attempts - 1), 600);
}

/** Consumes a batch of INBOUND messages, one at a time (in order, so a batch's updates of one object apply in order). */
export async function consumeInbound(batch: MessageBatch, env: Env, _ctx: ExecutionContext): Promise<void> {
  const control = controlDb(env);
  const connections = new Map<string, Promise<Connection | null>>();
  const connectionOf = (appId: string) => {
    let found = connections.get(appId);
    if (!found) {
      found = findByAppId(control, appId);
      connections.set(appId, found);
    }
    return found;
  };
  for (const message of batch.messages) await consumeMessage(env, message, connectionOf);
}

async function consumeMessage(
  env: Env,
  message: Message,
  connectionOf: (appId: string) => Promise<Connection | null>,
): Promise<void> {
  const parsed = InboundMessage.safeParse(message.body);
  let connection: Connection | null = null;
  // The workspace's data database once the connection is known; the control database for notifications of none.
  let db = controlDb(env);
  try {
    // Messages outlive deploys: one this code cannot read goes the retry way, to the dead-letter queue, replayable.
    if (!parsed.success) throw parsed.error;
    const { app_id: appId, notification, origin } = parsed.data;
    connection = await connectionOf(appId);
    if (connection) db = await tenantDb(env, connection.workspaceId);
    const reason = skipReason(connection, appId);
    if (reason || !connection?.appId) {
      await writeSyncLog(db, {
        connectionId: connection?.id ?? null,
        workspaceId: connection?.workspaceId ?? null,
        direction: "in",
        outcome: "skipped",
        objectType: "notification",
        objectId: notification.id,
        action: notification.topic,
        detail: reason ?? "the connection has no Intercom app id",
      });
      message.ack();
      return;
    }
    const linked = connection;
    await processNotification(
      db,
      { ...linked, appId: linked.appId! },
      notification,
      origin,
      Date.now(),
      (users) => wakeLinkedUsers(env, linked, users),
      {
        erasePerson: async (person) =>
          (
            await startErasure(env, linked.workspaceId, person, {
              origin: "intercom",
              requestedBy: `intercom:${linked.id}`,
              quietConnectionId: linked.id,
            })
          ).erasure.id,
        erasedContact: (intercomId) => erasedContactDigest(env, db, linked.id, intercomId),
      },
    );
    message.ack();
  } catch (error) {
    const delaySeconds = retryDelaySeconds(message.attempts);
    const entry: SyncLogEntry = {
      connectionId: connection?.id ?? null,
      workspaceId: connection?.workspaceId ?? null,
      direction: "in",
      outcome: "failed",
      objectType: "notification",
      objectId: parsed.success ? parsed.data.notification.id : message.id,
      action: parsed.success ? parsed.data.notification.topic : null,
      detail: `${describeError(error)}; attempt ${message.attempts}, retrying in ${delaySeconds}s`,
    };
    try {
      await writeSyncLog(db, entry);
    } catch (logError) {
      log({
        level: "error",
        msg: "could not write the sync log of a failed notification",
        error: describeError(logError),
      });
    }
    message.retry({ delaySeconds });
  }
}

/** Why a notification for `appId` is skipped before processing (known app, still installed, source on), or null. */
export function skipReason(connection: Connection | null, appId: string): string | null {
  if (!connection) return `no connection for Intercom app ${appId}`;
  if (connection.status === "disconnected" || connection.status === "revoked")
    return `the connection is ${connection.status}`;
  if (!connection.source.enabled) return "the source is switched off";
  return null;
}
