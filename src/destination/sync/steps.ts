/** Shared plumbing of destination steps: named Intercom calls and sync-log rows of direction `out`. */
import type { IntercomObjectType } from "../../db/schema";
import { upsertLink } from "../../graph/links";
import { classifyError, type IntercomFailure } from "../../intercom/errors";
import { type SyncLogEntry, writeSyncLog } from "../../lib/sync-log";
import type { SyncContext } from "../context";

/** An Intercom call that failed, with the step it belonged to (`search`, `create`, `update`, `attach`, …). */
export class StepFailure extends Error {
  constructor(
    readonly action: string,
    readonly failure: IntercomFailure,
  ) {
    super(`${action}: ${failure.message}`);
    this.name = "StepFailure";
  }
}

/** Runs one Intercom call; a failure is rethrown as a `StepFailure` naming `action`. */
export async function call<T>(action: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new StepFailure(action, classifyError(error));
  }
}

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
