/** Whether a notification's connection may receive it at all (pure): known app, still installed, source on. */
import type { ConnectionRow } from "./store";

/** Why a notification for `appId` is skipped before processing, or null when it goes ahead. */
export function skipReason(connection: ConnectionRow | null, appId: string): string | null {
  if (!connection) return `no connection for Intercom app ${appId}`;
  if (connection.status === "disconnected" || connection.status === "revoked")
    return `the connection is ${connection.status}`;
  if (!connection.source.enabled) return "the source is switched off";
  return null;
}
