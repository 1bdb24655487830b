/**
 * A connection's Intercom access token: opened from its sealed form for a call, re-sealed under the current key on
 * the way, and the connection marked `revoked` when Intercom refuses it. Callers in every direction use these; this
 * module imports nothing from them.
 */
import type { Database } from "../db/client";
import type { Env } from "../env";
import { describeError } from "../lib/errors";
import { log } from "../lib/log";
import { type Connection, replaceSealedToken, setStatus } from "./repository";
import { needsReseal, sealToken, TokenVaultError, unsealToken } from "./token-vault";

/**
 * The clear access token of a connection (null when it has none). A token sealed with an older key, or before tokens
 * were bound to their connection, is sealed again with the current key, bound, on the way (best effort). Throws a
 * TokenVaultError when the stored token cannot be opened (another connection's token copied into this row included).
 */
export async function connectionToken(env: Env, db: Database, row: Connection): Promise<string | null> {
  if (!row.tokenJwe) return null;
  let token: string;
  let bound: boolean;
  try {
    ({ token, bound } = await unsealToken(env, row.tokenJwe, row.id));
  } catch (error) {
    const reason = error instanceof TokenVaultError ? error.message : "unexpected vault error";
    log({
      level: "error",
      msg: "stored token cannot be opened",
      outcome: "vault_error",
      connection_id: row.id,
      reason,
    });
    throw error instanceof TokenVaultError ? error : new TokenVaultError(reason);
  }
  const rotated = needsReseal(env, row.tokenJwe);
  if (rotated || !bound) {
    try {
      const resealed = await sealToken(env, token, row.id);
      if (await replaceSealedToken(db, row.id, row.tokenJwe, resealed)) {
        log({
          msg: "token sealed again",
          outcome: "resealed",
          connection_id: row.id,
          reason: bound ? "older key" : "not bound to its connection",
        });
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
