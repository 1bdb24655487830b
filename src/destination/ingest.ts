/**
 * CDP writes (identify, account upsert, link/unlink) into the D1 identity graph, and the OUTBOUND work they cause:
 * only a write that changes what Intercom should hold for a connection (its mapped fields, or the user entering its
 * segment filter, or a membership) enqueues a sync there. A write that changes nothing enqueues nothing.
 */
import { connectionsOfWorkspace } from "../connections/repository";
import { controlDb, tenantDb } from "../db/placement";
import type { DestinationSettings } from "../db/schema";
import type { Env } from "../env";
import { type AccountRow, type AccountState, findAccount, writeAccount } from "../graph/accounts";
import { addMembership, removeMembership } from "../graph/memberships";
import { sameJson } from "../graph/properties";
import { MAX_STORED_PROPERTIES_BYTES, PropertiesTooLargeError } from "../graph/property-merge-sql";
import { findUser, type UserRow, type UserState, writeUser } from "../graph/users";
import { describeError, RefusedError } from "../lib/errors";
import { log } from "../lib/log";
import { contactSyncObject } from "./contact-sync";
import { type SyncMessage, syncObjectName } from "./outbound-message";
import { passesSegmentFilter } from "./plan/contact-plan";
import { companyPayload, contactPayload } from "./plan/payload";

export interface IdentifyInput {
  user_id?: string;
  email?: string;
  properties?: Record<string, unknown>;
  segments?: string[];
}

export interface WriteResult<T> {
  row: T;
  created: boolean;
  changed: boolean;
  /** OUTBOUND messages sent (one per connection that needs a sync). */
  queued: number;
}

/** Identify: finds or creates the user, merges properties (`null` removes), replaces segments when given. */
export async function identifyUser(env: Env, workspaceId: string, input: IdentifyInput): Promise<WriteResult<UserRow>> {
  const db = await tenantDb(env, workspaceId);
  const write = await refusedAs422(() =>
    writeUser(
      db,
      workspaceId,
      { userId: input.user_id ?? null, email: input.email ?? null },
      { properties: input.properties, segments: input.segments },
      { create: true, maxPropertiesBytes: MAX_STORED_PROPERTIES_BYTES },
    ),
  );
  const { user, before, changed } = write!;
  const queued = changed ? await enqueueUserSyncs(env, workspaceId, user, before) : 0;
  log({
    msg: "user identified",
    workspace_id: workspaceId,
    object_type: "user",
    object_id: user.userId,
    outcome: changed ? "changed" : "unchanged",
    queued,
  });
  return { row: user, created: before === null, changed, queued };
}

/** Upserts an account by `account_id`. */
export async function upsertAccount(
  env: Env,
  workspaceId: string,
  accountId: string,
  input: { name?: string | null; properties?: Record<string, unknown> },
): Promise<WriteResult<AccountRow>> {
  const db = await tenantDb(env, workspaceId);
  const write = await refusedAs422(() =>
    writeAccount(
      db,
      workspaceId,
      accountId,
      { name: input.name, properties: input.properties },
      { create: true, maxPropertiesBytes: MAX_STORED_PROPERTIES_BYTES },
    ),
  );
  const { account, before, changed } = write!;
  let queued = 0;
  if (changed) {
    for (const connection of await destinationConnections(env, workspaceId)) {
      if (!companyChanged(connection.destination, account, before)) continue;
      await sendSync(env, { kind: "account", connection_id: connection.id, local_pk: account.pk });
      queued++;
    }
  }
  log({
    msg: "account upserted",
    workspace_id: workspaceId,
    object_type: "account",
    object_id: accountId,
    outcome: changed ? "changed" : "unchanged",
    queued,
  });
  return { row: account, created: before === null, changed, queued };
}

/** Runs a graph write; a write refused for the size of the stored properties is refused as invalid input. */
async function refusedAs422<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (!(error instanceof PropertiesTooLargeError)) throw error;
    throw new RefusedError("invalid", "The request is not valid; see `errors`.", [
      { path: "properties", message: error.message },
    ]);
  }
}

/** Links (or unlinks) a user and an account; either missing is refused as not found. */
export async function setMembership(
  env: Env,
  workspaceId: string,
  accountId: string,
  userId: string,
  linked: boolean,
): Promise<{ changed: boolean; queued: number }> {
  const db = await tenantDb(env, workspaceId);
  const user = await findUser(db, workspaceId, { userId });
  if (!user) throw new RefusedError("not_found", `No user with user_id "${userId}".`);
  const account = await findAccount(db, workspaceId, accountId);
  if (!account) throw new RefusedError("not_found", `No account with account_id "${accountId}".`);
  const result = linked
    ? await addMembership(db, workspaceId, user.pk, account.pk).run()
    : await removeMembership(db, user.pk, account.pk).run();
  const changed = result.meta.changes > 0;
  let queued = 0;
  if (changed) {
    for (const connection of await destinationConnections(env, workspaceId)) {
      if (!passesSegmentFilter(user.segments, connection.destination.segments)) continue;
      await sendSync(env, { kind: "user", connection_id: connection.id, local_pk: user.pk });
      queued++;
    }
  }
  log({
    msg: linked ? "user linked to account" : "user unlinked from account",
    workspace_id: workspaceId,
    object_type: "membership",
    object_id: `${accountId}/${userId}`,
    outcome: changed ? "changed" : "unchanged",
    queued,
  });
  return { changed, queued };
}

/** Queues the user's sync on every connection whose Intercom copy this change affects. */
async function enqueueUserSyncs(
  env: Env,
  workspaceId: string,
  user: UserRow,
  before: UserState | null,
): Promise<number> {
  let queued = 0;
  for (const connection of await destinationConnections(env, workspaceId)) {
    if (!contactChanged(connection.destination, user, before)) continue;
    await sendSync(env, { kind: "user", connection_id: connection.id, local_pk: user.pk });
    queued++;
  }
  return queued;
}

/**
 * Whether a user write changes what this destination should hold: the user passes the filter now and either did not
 * before (or is new), or a mapped field changed.
 */
export function contactChanged(settings: DestinationSettings, after: UserState, before: UserState | null): boolean {
  if (!passesSegmentFilter(after.segments, settings.segments)) return false;
  if (!before || !passesSegmentFilter(before.segments, settings.segments)) return true;
  const mappings = settings.mappings.contact;
  return !sameJson(contactPayload(after, mappings).fields, contactPayload(before, mappings).fields);
}

/** Whether an account write changes the company fields this destination sends. */
export function companyChanged(settings: DestinationSettings, after: AccountRow, before: AccountState | null): boolean {
  if (!before) return true;
  const mappings = settings.mappings.company;
  const input = (state: AccountState) => ({ accountId: after.accountId, ...state });
  return !sameJson(companyPayload(input(after), mappings).fields, companyPayload(input(before), mappings).fields);
}

/** The workspace's connections whose destination is on (a revoked one too: its work parks until reconnect). */
async function destinationConnections(env: Env, workspaceId: string) {
  const rows = await connectionsOfWorkspace(controlDb(env), workspaceId, ["connected", "revoked"]);
  return rows.filter((row) => row.destination.enabled);
}

/** Queues a sync; when OUTBOUND refuses, hands it to its object directly (what the OUTBOUND consumer would do). */
async function sendSync(env: Env, message: SyncMessage): Promise<void> {
  try {
    await env.OUTBOUND.send(message);
  } catch (error) {
    // The change is stored already: a client's retry would find nothing to change and queue nothing.
    log({
      level: "warn",
      msg: "outbound send failed; sync handed to its object",
      connection_id: message.connection_id,
      object_type: message.kind,
      outcome: "retrying",
      error: describeError(error),
    });
    await contactSyncObject(env, syncObjectName(message)).enqueue(message);
  }
}
