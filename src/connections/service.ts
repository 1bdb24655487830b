/**
 * What the connections API does, apart from HTTP: connect with a verified token, open a stored token, test,
 * disconnect, confirm an uninstall hint, and resolve mapping targets against the workspace's data attributes.
 * Every outcome is one log line; no line carries a token.
 */

import { ProblemError, type ProblemFieldError } from "../api/problem";
import type { Database } from "../db/client";
import type { FieldMapping, Region } from "../db/schema";
import { resumeParkedSyncs } from "../destination/parking";
import type { Env } from "../env";
import { type AttributeType, CUSTOM_PREFIX, checkTarget, type IntercomModel } from "../intercom/attributes";
import { intercomClient } from "../intercom/client";
import { revokeToken } from "../intercom/oauth";
import {
  createDataAttribute,
  type DataAttributeInfo,
  type IntercomApp,
  IntercomCallError,
  identify,
  identifyInRegion,
  listDataAttributes,
} from "../intercom/workspace";
import { describeError } from "../lib/errors";
import { log } from "../lib/log";
import {
  type ConnectedResult,
  type Connection,
  findByAppId,
  replaceSealedToken,
  saveConnected,
  setStatus,
  WorkspaceTakenError,
} from "./repository";
import { MAPPING_TYPES, type MappingPatch, typesCompatible } from "./settings";
import { needsReseal, openToken, sealToken, TokenVaultError } from "./token-vault";

export interface ConnectInput {
  workspaceId: string;
  name?: string;
  token: string;
  region?: Region;
  method: "token" | "oauth";
}

/**
 * Verifies `token` with `GET /me`, seals it and stores the connection (new, or the workspace's existing one for the
 * same Intercom workspace). Throws IntercomCallError (the token was refused, Intercom failed) or WorkspaceTakenError.
 */
export async function connect(env: Env, db: Database, input: ConnectInput): Promise<ConnectedResult> {
  const started = Date.now();
  const app = await identifyInRegion(env, input.token, input.region);
  const tokenJwe = await sealToken(env, input.token);
  let result: ConnectedResult;
  try {
    result = await saveConnected(db, {
      workspaceId: input.workspaceId,
      ...(input.name ? { name: input.name } : {}),
      appId: app.appId,
      appName: app.name,
      region: app.region,
      tokenJwe,
    });
  } catch (error) {
    if (error instanceof WorkspaceTakenError) {
      log({
        level: "warn",
        msg: "connection refused: Intercom workspace taken",
        outcome: "conflict",
        workspace_id: input.workspaceId,
        app_id: app.appId,
        method: input.method,
      });
    }
    throw error;
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
    duration_ms: Date.now() - started,
  });
  if (previousStatus !== null && previousStatus !== "connected") {
    try {
      const resumed = await resumeParkedSyncs(env, row.id);
      log({ msg: "parked syncs resumed", outcome: "resumed", connection_id: row.id, resumed });
    } catch (error) {
      log({
        level: "error",
        msg: "resuming parked syncs failed",
        outcome: "failed",
        connection_id: row.id,
        error: describeError(error),
      });
    }
  }
  return result;
}

/**
 * The clear access token of a connection (null when it has none). A token sealed with an older key is sealed again
 * with the current one on the way (best effort).
 */
export async function connectionToken(env: Env, db: Database, row: Connection): Promise<string | null> {
  if (!row.tokenJwe) return null;
  let token: string;
  try {
    token = await openToken(env, row.tokenJwe);
  } catch (error) {
    const reason = error instanceof TokenVaultError ? error.message : "unexpected vault error";
    log({
      level: "error",
      msg: "stored token cannot be opened",
      outcome: "vault_error",
      connection_id: row.id,
      reason,
    });
    throw new ProblemError(500, `The connection's stored token cannot be decrypted: ${reason}`);
  }
  if (needsReseal(env, row.tokenJwe)) {
    try {
      const resealed = await sealToken(env, token);
      if (await replaceSealedToken(db, row.id, row.tokenJwe, resealed)) {
        log({ msg: "token sealed with the current key", outcome: "resealed", connection_id: row.id });
      }
    } catch (error) {
      log({
        level: "warn",
        msg: "resealing the token failed",
        outcome: "failed",
        connection_id: row.id,
        error: describeError(error),
      });
    }
  }
  return token;
}

/** The problem for a failed Intercom call made with a connection's stored token. */
export function intercomProblem(error: IntercomCallError): ProblemError {
  const { failure } = error;
  switch (failure.kind) {
    case "unauthorized":
      return new ProblemError(409, "Intercom no longer accepts this connection's access token; connect it again.");
    case "rate_limited": {
      const seconds = failure.resetAt ? Math.max(1, Math.ceil((failure.resetAt - Date.now()) / 1000)) : 10;
      return new ProblemError(503, `Intercom is rate limiting this workspace; retry in ${seconds} s.`, undefined, {
        "Retry-After": String(seconds),
      });
    }
    case "server":
      return new ProblemError(502, `Intercom did not answer ${error.operation} (${failure.message}); try again.`);
    default:
      return new ProblemError(502, `Intercom refused ${error.operation}: ${failure.message}`);
  }
}

/** Marks a connection revoked after Intercom refused its token (kept: a later test may find it working again). */
export async function markRevoked(db: Database, row: Connection, reason: string): Promise<void> {
  if (row.status === "revoked" || row.status === "disconnected") return;
  const updated = await setStatus(db, row.id, "revoked", reason, row.tokenJwe ? { onlyIfTokenJwe: row.tokenJwe } : {});
  if (updated) {
    log({
      level: "warn",
      msg: "connection revoked",
      outcome: "revoked",
      connection_id: row.id,
      workspace_id: row.workspaceId,
      reason,
    });
  }
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
export async function testConnection(env: Env, db: Database, row: Connection): Promise<TestResult> {
  const token = await connectionToken(env, db, row);
  if (!token) throw new ProblemError(409, "This connection is disconnected and has no access token; connect it again.");
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
      await resumeParkedSyncs(env, row.id).catch((error: unknown) =>
        log({
          level: "error",
          msg: "resuming parked syncs failed",
          outcome: "failed",
          connection_id: row.id,
          error: describeError(error),
        }),
      );
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

// Uninstall hints are unsigned: anyone can post one. Each is checked with GET /me, at most once per app every 30 s
// in an isolate, so a flood of hints cannot spend the workspace's rate budget.
const UNINSTALL_CHECK_INTERVAL_MS = 30_000;
const lastUninstallCheck = new Map<string, number>();

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
  const now = Date.now();
  const last = lastUninstallCheck.get(appId);
  if (last !== undefined && now - last < UNINSTALL_CHECK_INTERVAL_MS) return finish("throttled");
  lastUninstallCheck.set(appId, now);
  let token: string | null;
  try {
    token = await connectionToken(env, db, row);
  } catch {
    return finish("check_failed", { reason: "token unreadable" });
  }
  if (!token) return finish("not_connected");
  try {
    await identify(env, token, row.region);
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

/** Forgets the uninstall throttle (tests). */
export function clearUninstallThrottle(): void {
  lastUninstallCheck.clear();
}

// ---------------------------------------------------------------------------------------------------------------
// Mapping targets. A custom attribute mapped for the first time (or with a new type) is checked against the
// workspace's data attributes: created with the declared type when missing, refused when its type clashes or it is
// archived. Everything is validated before anything is created.

type MappingPatches = Partial<Record<IntercomModel, MappingPatch[]>>;

/** The mappings of a PATCH with every `type` filled in; creates missing custom attributes; 422 on a bad target. */
export async function resolveMappings(
  env: Env,
  db: Database,
  row: Connection,
  patches: MappingPatches,
): Promise<Partial<Record<IntercomModel, FieldMapping[]>>> {
  const resolved: Partial<Record<IntercomModel, FieldMapping[]>> = {};
  const errors: ProblemFieldError[] = [];
  const toCreate: Array<{ model: IntercomModel; name: string; type: AttributeType; path: string }> = [];
  const models = (Object.keys(patches) as IntercomModel[]).filter((model) => patches[model] !== undefined);
  let client: ReturnType<typeof intercomClient> | null = null;

  for (const model of models) {
    const list = patches[model]!;
    const stored = new Map(row.destination.mappings[model].map((m) => [m.to, m.type]));
    const out: FieldMapping[] = [];
    const pending: Array<{ index: number; name: string; type: AttributeType | undefined }> = [];
    list.forEach((mapping, index) => {
      const target = checkTarget(model, mapping.to);
      if (!target.ok) return; // already refused by the schema
      if (target.kind === "standard") {
        out[index] = { from: mapping.from, to: mapping.to, type: mapping.type ?? target.type };
        return;
      }
      const storedType = stored.get(mapping.to);
      if (storedType && (mapping.type === undefined || mapping.type === storedType)) {
        out[index] = { from: mapping.from, to: mapping.to, type: storedType };
        return;
      }
      pending.push({ index, name: target.name, type: mapping.type });
    });

    if (pending.length > 0) {
      client ??= await clientFor(env, db, row);
      let attributes: DataAttributeInfo[];
      try {
        attributes = await listDataAttributes(client, model);
      } catch (error) {
        throw await failedCall(db, row, error);
      }
      const customByName = new Map(
        attributes.filter((a) => a.custom || a.fullName.startsWith(CUSTOM_PREFIX)).map((a) => [a.name, a]),
      );
      for (const { index, name, type } of pending) {
        const path = `destination.mappings.${model}.${index}`;
        const mapping = list[index]!;
        const existing = customByName.get(name);
        if (existing) {
          if (existing.archived) {
            errors.push({
              path: `${path}.to`,
              message: `the Intercom ${model} attribute "${name}" is archived; unarchive it in Intercom or pick another name`,
            });
          } else if (!existing.apiWritable) {
            errors.push({
              path: `${path}.to`,
              message: `the Intercom ${model} attribute "${name}" cannot be written through the API`,
            });
          } else if (type && !typesCompatible(type, existing.dataType)) {
            errors.push({
              path: `${path}.type`,
              message: `the Intercom ${model} attribute "${name}" is of type ${existing.dataType}, not ${type}`,
            });
          } else {
            const effective = type ?? asMappingType(existing.dataType);
            if (!effective) {
              errors.push({
                path: `${path}.type`,
                message: `the Intercom attribute "${name}" has type ${existing.dataType}; give a mapping type`,
              });
            } else out[index] = { from: mapping.from, to: mapping.to, type: effective };
          }
        } else if (!type) {
          errors.push({
            path: `${path}.type`,
            message: `"${name}" does not exist in Intercom yet: give its type so it can be created`,
          });
        } else {
          toCreate.push({ model, name, type, path });
          out[index] = { from: mapping.from, to: mapping.to, type };
        }
      }
    }
    resolved[model] = out;
  }

  if (errors.length > 0) throw new ProblemError(422, "Some mappings cannot be saved; see `errors`.", errors);

  for (const { model, name, type, path } of toCreate) {
    try {
      await createDataAttribute(client!, model, name, type);
      log({
        msg: "custom data attribute created",
        outcome: "created",
        connection_id: row.id,
        model,
        attribute: name,
        data_type: type,
      });
    } catch (error) {
      if (error instanceof IntercomCallError && error.failure.kind === "invalid") {
        errors.push({ path: `${path}.to`, message: `Intercom refused to create "${name}": ${error.failure.message}` });
        continue;
      }
      throw await failedCall(db, row, error);
    }
  }
  if (errors.length > 0) throw new ProblemError(422, "Some mappings cannot be saved; see `errors`.", errors);
  return resolved;
}

function asMappingType(dataType: string): FieldMapping["type"] | null {
  if (dataType === "options") return "string";
  return (MAPPING_TYPES as readonly string[]).includes(dataType) ? (dataType as FieldMapping["type"]) : null;
}

async function clientFor(env: Env, db: Database, row: Connection) {
  const token = await connectionToken(env, db, row);
  if (!token) {
    throw new ProblemError(
      409,
      "A new custom attribute mapping is checked in Intercom, but this connection is disconnected; connect it again first.",
    );
  }
  return intercomClient(env, { token, region: row.region });
}

async function failedCall(db: Database, row: Connection, error: unknown): Promise<unknown> {
  if (!(error instanceof IntercomCallError)) return error;
  if (error.failure.kind === "unauthorized") await markRevoked(db, row, `${error.operation} answered 401`);
  log({
    level: "warn",
    msg: "Intercom call of a settings change failed",
    outcome: "failed",
    connection_id: row.id,
    operation: error.operation,
    reason: error.failure.kind,
  });
  return intercomProblem(error);
}
