/**
 * What a connection that works again resumes (`OnRestored` of the connections service): the destination's parked
 * syncs and actions, and an import that waited for the reconnect (it continues from its recorded page).
 */
import type { OnRestored } from "../../connections/service";
import { resumeOnRestore } from "../../destination/parking";
import type { Env } from "../../env";
import { describeError } from "../../lib/errors";
import { log } from "../../lib/log";
import { resumeImport } from "../../source/import/run";

export function onRestored(env: Env): OnRestored {
  const parked = resumeOnRestore(env);
  return async (connection) => {
    const resumed = await parked(connection);
    try {
      await resumeImport(env, connection);
    } catch (error) {
      log({
        level: "error",
        msg: "resuming the import failed",
        outcome: "failed",
        connection_id: connection.id,
        error: describeError(error),
      });
    }
    return resumed;
  };
}
