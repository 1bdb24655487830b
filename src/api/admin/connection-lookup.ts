/** The connection a route's `:id` names, within the caller's workspace, or a logged 404. */
import { findConnection } from "../../connections/repository";
import { controlDb } from "../../db/placement";
import type { Env } from "../../env";
import { log } from "../../lib/log";
import { ProblemError } from "../problem";

/** Finds connection `id` of `workspaceId`; throws a 404 problem (and logs it) when there is none. */
export async function connectionOrNotFound(env: Env, workspaceId: string, id: string) {
  const connection = await findConnection(controlDb(env), workspaceId, id);
  if (!connection) {
    log({ msg: "connection not found", outcome: "not_found", workspace_id: workspaceId, connection_id: id });
    throw new ProblemError(404, `No connection ${id} in this workspace.`);
  }
  return connection;
}
