/**
 * What the connections API does, apart from HTTP: connect with a verified token, test, disconnect, confirm an
 * uninstall hint, and resolve mapping targets against the workspace's data attributes. Every outcome is one log line;
 * no line carries a token. When a connection becomes usable again, `onRestored` lets its caller resume the work that
 * waited (the destination's parked syncs): this module knows nothing of the directions.
 */
import type { Database } from "../db/client";
import type { FieldMapping, Region } from "../db/schema";
import type { Env } from "../env";
import type { IntercomModel } from "../intercom/attributes";
import { budgetedFetch } from "../intercom/budgeted-fetch";
import { intercomClient } from "../intercom/client";
import { IntercomCallError } from "../intercom/errors";
import { revokeToken } from "../intercom/oauth";
import { rateBudgetObject } from "../intercom/rate-budget";
import {
  createDataAttribute,
  type DataAttributeInfo,
  type IntercomApp,
  identify,
  identifyInRegion,
  listDataAttributes,
} from "../intercom/workspace";
import { describeError, RefusedError } from "../lib/errors";
import { log } from "../lib/log";
import { type MappingPatches, modelsToCheck, planMappings } from "./mapping-plan";
import {
  type ConnectedResult,
  type Connection,
  findByAppId,
  releaseWorkspace,
  saveConnected,
  setStatus,
  WorkspaceTakenError,
} from "./repository";
import { openToken, sealToken } from "./token-vault";
import { connectionToken, markRevoked } from "./tokens";

/** Resumes what waited for a connection to work again; returns how many pieces of work it queued. */
export type OnRestored = (connection: Pick<Connection, "id" | "workspaceId">) => Promise<number>;

export interface ConnectInput {
  workspaceId: string;
  name?: string;
  token: string;
  region?: Region;
  method: "token" | "oauth";
}

/**
 * Verifies `token` with `GET /me`, seals it and stores the connection (new, or the workspace's existing one for the
 * same Intercom workspace). When another CDP workspace's connection holds that Intercom workspace, its own token is
 * checked with `GET /me`: a 401 (the token is dead) lets this workspace take it over; otherwise the connect is
 * refused. Throws IntercomCallError (the token was refused, Intercom failed) or WorkspaceTakenError.
 */
export async function connect(
  env: Env,
  db: Database,
  input: ConnectInput,
  onRestored: OnRestored,
): Promise<ConnectedResult> {
  const started = Date.now();
  const app = await identifyInRegion(env, input.token, input.region);
  const save = () =>
    saveConnected(db, {
      workspaceId: input.workspaceId,
      ...(input.name ? { name: input.name } : {}),
      appId: app.appId,
      appName: app.name,
      region: app.region,
      sealFor: (connectionId) => sealToken(env, input.token, connectionId),
    });
  const refused = (error: WorkspaceTakenError, check: TakeoverCheck | "taken_again") => {
    log({
      level: "warn",
      msg: "connection refused: Intercom workspace taken",
      outcome: "conflict",
      workspace_id: input.workspaceId,
      app_id: app.appId,
      method: input.method,
      holder_connection_id: error.holder?.id ?? null,
      takeover_check: check,
    });
    return error;
  };
  let result: ConnectedResult;
  let takenOverFrom: string | null = null;
  try {
    result = await save();
  } catch (error) {
    if (!(error instanceof WorkspaceTakenError)) throw error;
    const check = error.holder ? await takeOver(env, db, error.holder, input.workspaceId) : "no_token";
    if (check !== "released") throw refused(error, check);
    takenOverFrom = error.holder!.id;
    try {
      result = await save();
    } catch (again) {
      // Someone else connected it in between: decide nothing more here.
      if (again instanceof WorkspaceTakenError) throw refused(again, "taken_again");
      throw again;
    }
  }
  const { row, created, previousStatus } = result;
  log({
    msg: created ? "connection created" : "connection reconnected",
    outcome: created ? "connected" : "reconnected",
    connection_id: row.id,
    workspace_id: row.workspaceId,
    app_id: row.appId,
    region: row.region,
    method: input.method,
    previous_status: previousStatus,
    ...(takenOverFrom ? { taken_over_from: takenOverFrom } : {}),
    duration_ms: Date.now() - started,
  });
  if (previousStatus !== null && previousStatus !== "connected") await resume(row, onRestored);
  return result;
}

/** What checking another CDP workspace's connection found: `released` when its token is dead and it let go. */
type TakeoverCheck =
  | "released"
  | "still_valid"
  | "other_app"
  | "no_token"
  | "token_unreadable"
  | "check_failed"
  | "changed";

const TAKEN_OVER_DETAIL =
  "Intercom workspace taken over by another CDP workspace after Intercom refused this token (401 on GET /me).";

/**
 * Checks the token of `holder` (another CDP workspace's connection of the same Intercom workspace) with `GET /me`,
 * on that workspace's rate budget. Only a 401 releases the Intercom workspace; the token is opened without being
 * re-sealed, so the release applies only if the row still holds the token that was checked.
 */
async function takeOver(env: Env, db: Database, holder: Connection, takerWorkspaceId: string): Promise<TakeoverCheck> {
  if (!holder.tokenJwe || !holder.appId) return "no_token";
  let token: string;
  try {
    token = await openToken(env, holder.tokenJwe, holder.id);
  } catch {
    return "token_unreadable";
  }
  try {
    const app = await identify(env, token, holder.region, budgetedFetch(env, holder.appId));
    // A token that works for another Intercom workspace proves nothing about this one: refused all the same.
    return app.appId === holder.appId ? "still_valid" : "other_app";
  } catch (error) {
    if (!(error instanceof IntercomCallError) || error.failure.kind !== "unauthorized") {
      log({
        level: "warn",
        msg: "takeover check failed",
        outcome: "failed",
        connection_id: holder.id,
        app_id: holder.appId,
        reason:
          error instanceof IntercomCallError ? `${error.failure.kind}: ${error.failure.message}` : describeError(error),
      });
      return "check_failed";
    }
  }
  if (!(await releaseWorkspace(db, holder, TAKEN_OVER_DETAIL))) return "changed";
  log({
    level: "warn",
    msg: "connection taken over by another CDP workspace",
    outcome: "taken_over",
    connection_id: holder.id,
    workspace_id: holder.workspaceId,
    app_id: holder.appId,
    previous_status: holder.status,
    new_workspace_id: takerWorkspaceId,
  });
  return "released";
}

export interface TestResult {
  ok: boolean;
  app?: { id: string; name: string | null; region: Region };
  detail?: string;
}

/**
 * Calls `GET /me` with the stored token. A 401 marks the connection revoked; success on a revoked or errored
 * connection restores it (and resumes its parked work).
 */
export async function testConnection(
  env: Env,
  db: Database,
  row: Connection,
  onRestored: OnRestored,
): Promise<TestResult> {
  const token = await connectionToken(env, db, row);
  if (!token) {
    throw new RefusedError("conflict", "This connection is disconnected and has no access token; connect it again.");
  }
  const started = Date.now();
  let app: IntercomApp;
  try {
    app = await identify(env, token, row.region);
  } catch (error) {
    if (!(error instanceof IntercomCallError)) throw error;
    const detail =
      error.failure.kind === "unauthorized"
        ? "Intercom refused the access token (401): it was revoked or the app was uninstalled; connect again."
        : `Intercom could not be reached or refused the call: ${error.failure.message}`;
    if (error.failure.kind === "unauthorized")
      await markRevoked(db, row, "GET /me answered 401 during a connection test");
    log({
      level: "warn",
      msg: "connection test failed",
      outcome: "failed",
      connection_id: row.id,
      reason: error.failure.kind,
      duration_ms: Date.now() - started,
    });
    return { ok: false, detail };
  }
  if (app.appId !== row.appId) {
    log({
      level: "warn",
      msg: "connection test: token of another Intercom workspace",
      outcome: "failed",
      connection_id: row.id,
      app_id: app.appId,
    });
    return {
      ok: false,
      detail: `The token now belongs to Intercom workspace ${app.appId}, not ${row.appId}; connect again.`,
    };
  }
  if (row.status === "revoked" || row.status === "error") {
    const restored = await setStatus(
      db,
      row.id,
      "connected",
      null,
      row.tokenJwe ? { onlyIfTokenJwe: row.tokenJwe } : {},
    );
    if (restored) {
      log({
        msg: "connection restored by a successful test",
        outcome: "reconnected",
        connection_id: row.id,
        previous_status: row.status,
      });
      await resume(row, onRestored);
    }
  }
  log({
    msg: "connection test passed",
    outcome: "ok",
    connection_id: row.id,
    app_id: app.appId,
    duration_ms: Date.now() - started,
  });
  return { ok: true, app: { id: app.appId, name: app.name, region: row.region } };
}

/**
 * DELETE: uninstalls the app at Intercom with the token (best effort: a failure is logged, not returned), forgets the
 * token and marks the connection disconnected. Captured data stays.
 */
export async function disconnect(env: Env, db: Database, row: Connection): Promise<Connection> {
  if (row.status === "disconnected" && !row.tokenJwe) return row;
  let revoked: string = "no token";
  let token: string | null = null;
  try {
    token = await connectionToken(env, db, row);
  } catch {
    revoked = "token unreadable";
  }
  if (token) {
    try {
      await revokeToken(env, token);
      revoked = "revoked";
    } catch (error) {
      revoked =
        error instanceof IntercomCallError
          ? `not revoked (${error.failure.kind}: ${error.failure.message})`
          : "not revoked";
    }
  }
  const updated = await setStatus(db, row.id, "disconnected", "Disconnected by an admin.", { dropToken: true });
  log({
    msg: "connection disconnected",
    outcome: "disconnected",
    connection_id: row.id,
    workspace_id: row.workspaceId,
    app_id: row.appId,
    intercom_revocation: revoked,
  });
  return updated ?? row;
}

// Uninstall hints are unsigned: anyone can post one. Each is checked with GET /me on the workspace's rate budget, at
// most once per app every 30 s across all isolates (claimed in the workspace's RateBudget object, not in D1: a hint
// writes nothing), so a flood of hints cannot spend that budget.
const UNINSTALL_CHECK_INTERVAL_MS = 30_000;

export type UninstallOutcome =
  | "revoked"
  | "still_valid"
  | "unknown_app"
  | "not_connected"
  | "throttled"
  | "check_failed";

/** Confirms an uninstall hint for `appId`: a 401 on `GET /me` marks the connection revoked, anything else changes nothing. */
export async function confirmUninstall(env: Env, db: Database, appId: string): Promise<UninstallOutcome> {
  const row = await findByAppId(db, appId);
  const finish = (outcome: UninstallOutcome, extra: Record<string, unknown> = {}) => {
    log({
      level: outcome === "revoked" ? "warn" : "info",
      msg: `uninstall hint: ${outcome.replace("_", " ")}`,
      outcome,
      app_id: appId,
      connection_id: row?.id ?? null,
      ...extra,
    });
    return outcome;
  };
  if (!row) return finish("unknown_app");
  if (row.status === "disconnected" || row.status === "revoked" || !row.tokenJwe) return finish("not_connected");
  if (!(await rateBudgetObject(env, appId).claimHintCheck(UNINSTALL_CHECK_INTERVAL_MS))) return finish("throttled");
  let token: string | null;
  try {
    token = await connectionToken(env, db, row);
  } catch {
    return finish("check_failed", { reason: "token unreadable" });
  }
  if (!token) return finish("not_connected");
  try {
    await identify(env, token, row.region, budgetedFetch(env, appId));
    return finish("still_valid");
  } catch (error) {
    if (error instanceof IntercomCallError && error.failure.kind === "unauthorized") {
      await markRevoked(db, row, "Intercom reported an uninstall and GET /me answered 401.");
      return finish("revoked");
    }
    const reason =
      error instanceof IntercomCallError ? `${error.failure.kind}: ${error.failure.message}` : describeError(error);
    return finish("check_failed", { reason });
  }
}

/**
 * The mappings of a PATCH with every `type` filled in (mapping-plan.ts decides), after creating the custom attributes
 * the plan needs. Everything is validated before anything is created; a bad target is a RefusedError("invalid").
 */
export async function resolveMappings(
  env: Env,
  db: Database,
  row: Connection,
  patches: MappingPatches,
): Promise<Partial<Record<IntercomModel, FieldMapping[]>>> {
  const stored = row.destination.mappings;
  const models = modelsToCheck(stored, patches);
  const client = models.length > 0 ? await clientFor(env, db, row) : null;
  const attributes: Partial<Record<IntercomModel, DataAttributeInfo[]>> = {};
  for (const model of models) attributes[model] = await settingsCall(db, row, () => listDataAttributes(client!, model));
  const plan = planMappings(stored, patches, attributes);
  const invalid = () => new RefusedError("invalid", "Some mappings cannot be saved; see `errors`.", plan.errors);
  if (plan.errors.length > 0) throw invalid();
  for (const { model, name, type, path } of plan.toCreate) {
    try {
      await settingsCall(db, row, () => createDataAttribute(client!, model, name, type));
      log({
        msg: "custom data attribute created",
        outcome: "created",
        connection_id: row.id,
        model,
        attribute: name,
        data_type: type,
      });
    } catch (error) {
      if (!(error instanceof IntercomCallError) || error.failure.kind !== "invalid") throw error;
      plan.errors.push({
        path: `${path}.to`,
        message: `Intercom refused to create "${name}": ${error.failure.message}`,
      });
    }
  }
  if (plan.errors.length > 0) throw invalid();
  return plan.resolved;
}

async function clientFor(env: Env, db: Database, row: Connection) {
  const token = await connectionToken(env, db, row);
  if (!token) {
    throw new RefusedError(
      "conflict",
      "A new custom attribute mapping is checked in Intercom, but this connection is disconnected; connect it again first.",
    );
  }
  return intercomClient(env, { token, region: row.region });
}

/** An Intercom call of a settings change: a 401 marks the connection revoked; every failure is logged and rethrown. */
async function settingsCall<T>(db: Database, row: Connection, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof IntercomCallError) {
      if (error.failure.kind === "unauthorized") await markRevoked(db, row, `${error.operation} answered 401`);
      log({
        level: "warn",
        msg: "Intercom call of a settings change failed",
        outcome: "failed",
        connection_id: row.id,
        operation: error.operation,
        reason: error.failure.kind,
      });
    }
    throw error;
  }
}

async function resume(connection: Connection, onRestored: OnRestored): Promise<void> {
  const connectionId = connection.id;
  try {
    const resumed = await onRestored(connection);
    log({ msg: "parked syncs resumed", outcome: "resumed", connection_id: connectionId, resumed });
  } catch (error) {
    log({
      level: "error",
      msg: "resuming parked syncs failed",
      outcome: "failed",
      connection_id: connectionId,
      error: describeError(error),
    });
  }
}
