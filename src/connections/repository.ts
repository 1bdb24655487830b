/**
 * Connection rows in D1. Settings writes compare-and-set on `version` (concurrent PATCHes lose no field); status
 * and token writes touch only their own columns, so they never undo a settings write or the reverse.
 */
import { and, asc, eq, inArray, ne } from "drizzle-orm";
import type { Database } from "../db/client";
import {
  type ConnectionStatus,
  connections,
  type DestinationSettings,
  type Region,
  type SourceSettings,
} from "../db/schema";
import { DEFAULT_DESTINATION_SETTINGS, DEFAULT_SOURCE_SETTINGS } from "./defaults";

export type Connection = typeof connections.$inferSelect;

/** An Intercom workspace already connected to another CDP workspace. */
export class WorkspaceTakenError extends Error {
  constructor(
    readonly appId: string,
    /** The other CDP workspace's connection that holds it. */
    readonly holder?: Connection,
  ) {
    super(`Intercom workspace ${appId} is already connected to another CDP workspace.`);
    this.name = "WorkspaceTakenError";
  }
}

/** A connection of `workspaceId` (null for another workspace's: the caller answers 404 either way). */
export async function findConnection(db: Database, workspaceId: string, id: string): Promise<Connection | null> {
  const row = await db.query.connections.findFirst({
    where: and(eq(connections.id, id), eq(connections.workspaceId, workspaceId)),
  });
  return row ?? null;
}

/** A connection by id, whatever its workspace (queue consumers and Durable Objects). */
export async function findConnectionById(db: Database, id: string): Promise<Connection | null> {
  return (await db.query.connections.findFirst({ where: eq(connections.id, id) })) ?? null;
}

/** The workspace's connections, oldest first. */
export async function listConnections(db: Database, workspaceId: string): Promise<Connection[]> {
  return db.query.connections.findMany({
    where: eq(connections.workspaceId, workspaceId),
    orderBy: [asc(connections.createdAt), asc(connections.id)],
  });
}

/** The connection holding an Intercom workspace (webhook `app_id`), if any. */
export async function findByAppId(db: Database, appId: string): Promise<Connection | null> {
  return (await db.query.connections.findFirst({ where: eq(connections.appId, appId) })) ?? null;
}

/** The workspace's connections in any of `statuses` (the caller filters by settings: rows are few per workspace). */
export async function connectionsOfWorkspace(
  db: Database,
  workspaceId: string,
  statuses: readonly ConnectionStatus[],
): Promise<Connection[]> {
  return db
    .select()
    .from(connections)
    .where(and(eq(connections.workspaceId, workspaceId), inArray(connections.status, [...statuses])))
    .orderBy(asc(connections.createdAt), asc(connections.id));
}

/** Every connection in `status` (the sweep's cron reads the connected ones; indexed by status). */
export async function connectionsWithStatus(db: Database, status: ConnectionStatus): Promise<Connection[]> {
  return db.select().from(connections).where(eq(connections.status, status));
}

/** The ids of the workspace's connections (any status), for queries of per-connection tables. */
export async function connectionIdsOfWorkspace(db: Database, workspaceId: string): Promise<string[]> {
  const rows = await db
    .select({ id: connections.id })
    .from(connections)
    .where(eq(connections.workspaceId, workspaceId));
  return rows.map((row) => row.id);
}

/** Saves where the next sweep starts (unless the connection was disconnected meanwhile). */
export async function saveSweepBound(
  db: Database,
  id: string,
  bound: { sweptUntil: number } | { companiesSweptUntil: number },
): Promise<void> {
  await db
    .update(connections)
    .set(bound)
    .where(and(eq(connections.id, id), eq(connections.status, "connected")));
}

export interface ConnectedInput {
  workspaceId: string;
  /** Kept as is on a reconnect when absent. */
  name?: string;
  appId: string;
  appName: string | null;
  region: Region;
  /** Seals the access token for the connection that will hold it (its id is known only once this is decided). */
  sealFor: (connectionId: string) => Promise<string>;
}

export interface ConnectedResult {
  row: Connection;
  created: boolean;
  /** The status before a reconnect (null for a new connection). */
  previousStatus: ConnectionStatus | null;
}

/**
 * Stores a verified token for an Intercom workspace: a new connection, or, when this CDP workspace already has one
 * for it, the same connection with the token replaced and status back to `connected`. An Intercom workspace belongs
 * to one CDP workspace at a time; a `disconnected` connection no longer holds it.
 */
export async function saveConnected(db: Database, input: ConnectedInput, now = Date.now()): Promise<ConnectedResult> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await findByAppId(db, input.appId);
    if (existing && existing.workspaceId === input.workspaceId) {
      const [row] = await db
        .update(connections)
        .set({
          tokenJwe: await input.sealFor(existing.id),
          status: "connected",
          statusDetail: null,
          appName: input.appName,
          region: input.region,
          ...(input.name ? { name: input.name } : {}),
          updatedAt: now,
        })
        .where(and(eq(connections.id, existing.id), eq(connections.appId, input.appId)))
        .returning();
      if (row) return { row, created: false, previousStatus: existing.status };
      continue; // released meanwhile: start over
    }
    if (existing) {
      if (existing.status !== "disconnected") throw new WorkspaceTakenError(input.appId, existing);
      // A disconnected connection keeps its captured data but lets the Intercom workspace go.
      await db
        .update(connections)
        .set({ appId: null })
        .where(
          and(
            eq(connections.id, existing.id),
            eq(connections.status, "disconnected"),
            eq(connections.appId, input.appId),
          ),
        );
    }
    const id = crypto.randomUUID();
    const tokenJwe = await input.sealFor(id);
    try {
      const [row] = await db
        .insert(connections)
        .values({
          id,
          workspaceId: input.workspaceId,
          name: input.name ?? input.appName ?? "Intercom",
          status: "connected",
          appId: input.appId,
          appName: input.appName,
          region: input.region,
          tokenJwe,
          source: DEFAULT_SOURCE_SETTINGS,
          destination: DEFAULT_DESTINATION_SETTINGS,
          createdAt: now,
          updatedAt: now,
        })
        .returning();
      return { row: row!, created: true, previousStatus: null };
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      // Someone connected the same Intercom workspace at the same moment: decide again against their row.
    }
  }
  throw new Error(`could not store the connection for Intercom workspace ${input.appId} after 3 attempts`);
}

/**
 * Makes a connection let its Intercom workspace go after Intercom refused its token, so another CDP workspace can
 * connect it: status `revoked` with `detail`, no app id, no token (captured data stays). Only while the row still
 * holds the token that was checked and is not disconnected; returns whether it did.
 */
export async function releaseWorkspace(
  db: Database,
  holder: Connection,
  detail: string,
  now = Date.now(),
): Promise<boolean> {
  if (!holder.appId || !holder.tokenJwe) return false;
  const result = await db
    .update(connections)
    .set({ status: "revoked", statusDetail: detail, appId: null, tokenJwe: null, updatedAt: now })
    .where(
      and(
        eq(connections.id, holder.id),
        eq(connections.appId, holder.appId),
        eq(connections.tokenJwe, holder.tokenJwe),
        ne(connections.status, "disconnected"),
      ),
    )
    .run();
  return result.meta.changes > 0;
}

export interface Settings {
  name: string;
  source: SourceSettings;
  destination: DestinationSettings;
}

/**
 * Applies `change` to the current settings and writes them if nobody wrote in between (compare-and-set on
 * `version`); otherwise re-reads and applies `change` again. Returns null when the connection is not the workspace's.
 */
export async function updateSettings(
  db: Database,
  workspaceId: string,
  id: string,
  change: (current: Connection) => Settings,
  now = Date.now(),
): Promise<Connection | null> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const current = await findConnection(db, workspaceId, id);
    if (!current) return null;
    const next = change(current);
    const [row] = await db
      .update(connections)
      .set({ ...next, version: current.version + 1, updatedAt: Math.max(now, current.updatedAt) })
      .where(and(eq(connections.id, id), eq(connections.version, current.version)))
      .returning();
    if (row) return row;
  }
  throw new Error(`connection ${id}: settings kept changing under 10 attempts of compare-and-set`);
}

/** Sets the status (and why); with `dropToken`, forgets the sealed token too. Only these columns are written. */
export async function setStatus(
  db: Database,
  id: string,
  status: ConnectionStatus,
  detail: string | null,
  options: { dropToken?: boolean; onlyIfTokenJwe?: string; now?: number } = {},
): Promise<Connection | null> {
  const conditions = [eq(connections.id, id)];
  if (options.onlyIfTokenJwe !== undefined) conditions.push(eq(connections.tokenJwe, options.onlyIfTokenJwe));
  const [row] = await db
    .update(connections)
    .set({
      status,
      statusDetail: detail,
      ...(options.dropToken ? { tokenJwe: null } : {}),
      updatedAt: options.now ?? Date.now(),
    })
    .where(and(...conditions))
    .returning();
  return row ?? null;
}

/** Replaces a sealed token by the same token sealed again (current key, bound), unless it changed meanwhile. */
export async function replaceSealedToken(db: Database, id: string, oldJwe: string, newJwe: string): Promise<boolean> {
  const result = await db
    .update(connections)
    .set({ tokenJwe: newJwe })
    .where(and(eq(connections.id, id), eq(connections.tokenJwe, oldJwe)))
    .run();
  return result.meta.changes > 0;
}

function isUniqueViolation(error: unknown): boolean {
  const text =
    error instanceof Error ? `${error.message} ${String((error as { cause?: unknown }).cause ?? "")}` : String(error);
  return /UNIQUE constraint failed/i.test(text);
}
