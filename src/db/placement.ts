/**
 * The data plane's seam: every tenant-data query goes to the D1 database that holds its CDP workspace. The control
 * database (binding `DB`) keeps connections, app-id lookup, OAuth state and the placements; tenant data (users,
 * accounts, memberships, events, identity links, sync logs, actions, dead letters…) lives in one of the data
 * databases listed in `DATA_DATABASES` (default: `DB` alone, so one database does both). A workspace is placed on
 * its first use, by a stable hash over `DATA_DATABASES_OPEN` (the databases taking new tenants; default: all), and
 * the placement row then decides for good, until an operator moves the workspace (README, "Scaling past one database").
 */
import { eq } from "drizzle-orm";
import type { Env } from "../env";
import { type Database, database } from "./client";
import { placements } from "./schema";

/** How long an isolate trusts a placement it read (a moved workspace is followed within this time). */
const PLACEMENT_CACHE_MS = 60_000;

const cache = new Map<string, { binding: string; until: number }>();

/** A data database binding is missing or is not a D1 database: a deployment mistake, named. */
export class PlacementError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PlacementError";
  }
}

/** The control database: connections, OAuth state, placements. */
export function controlDb(env: Pick<Env, "DB">): Database {
  return database(env.DB);
}

/** The data databases' binding names (`DATA_DATABASES`, comma-separated; default `DB`). */
export function dataDatabases(env: Pick<Env, "DATA_DATABASES">): string[] {
  const names = listOf(env.DATA_DATABASES);
  return names.length > 0 ? names : ["DB"];
}

/** The databases new workspaces are placed on (`DATA_DATABASES_OPEN`; default all of `DATA_DATABASES`). */
export function openDataDatabases(env: Pick<Env, "DATA_DATABASES" | "DATA_DATABASES_OPEN">): string[] {
  const all = dataDatabases(env);
  const open = listOf(env.DATA_DATABASES_OPEN).filter((name) => all.includes(name));
  return open.length > 0 ? open : all;
}

/** Where a new workspace goes (pure): a stable hash (FNV-1a) of its id over the open databases. */
export function placementFor(workspaceId: string, open: readonly string[]): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < workspaceId.length; i++) {
    hash ^= workspaceId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return open[hash % open.length]!;
}

/** The drizzle handle on the database that holds `workspaceId`'s data. */
export async function tenantDb(env: Env, workspaceId: string): Promise<Database> {
  return database(await tenantD1(env, workspaceId));
}

/** The D1 binding that holds `workspaceId`'s data; with one data database, no lookup at all. */
export async function tenantD1(env: Env, workspaceId: string): Promise<D1Database> {
  const names = dataDatabases(env);
  if (names.length === 1) return binding(env, names[0]!);
  const now = Date.now();
  const cached = cache.get(workspaceId);
  if (cached && cached.until > now) return binding(env, cached.binding);
  const control = controlDb(env);
  const read = async () =>
    (await control.select().from(placements).where(eq(placements.workspaceId, workspaceId)).get())?.database;
  let name = await read();
  if (!name) {
    await control
      .insert(placements)
      .values({ workspaceId, database: placementFor(workspaceId, openDataDatabases(env)), createdAt: now })
      .onConflictDoNothing();
    // Another isolate may have placed it first: its row decides.
    name = (await read())!;
  }
  cache.set(workspaceId, { binding: name, until: now + PLACEMENT_CACHE_MS });
  return binding(env, name);
}

/** Both databases a request of `workspaceId` may need: its data, and the control database. */
export async function workspaceDbs(env: Env, workspaceId: string): Promise<{ db: Database; control: Database }> {
  return { db: await tenantDb(env, workspaceId), control: controlDb(env) };
}

/** Places (or moves) a workspace on `database` (operators, and tests); its data must be copied there first. */
export async function placeWorkspace(env: Env, workspaceId: string, databaseName: string): Promise<void> {
  binding(env, databaseName);
  await controlDb(env)
    .insert(placements)
    .values({ workspaceId, database: databaseName, createdAt: Date.now() })
    .onConflictDoUpdate({ target: placements.workspaceId, set: { database: databaseName } });
  cache.delete(workspaceId);
}

/** Every data database, each once (housekeeping walks them all). */
export function everyDataDb(env: Env): Database[] {
  return dataDatabases(env).map((name) => database(binding(env, name)));
}

function binding(env: Env, name: string): D1Database {
  const value = (env as unknown as Record<string, unknown>)[name];
  if (typeof value !== "object" || value === null || typeof (value as D1Database).prepare !== "function") {
    throw new PlacementError(`DATA_DATABASES names "${name}", which is not a D1 binding of this Worker`);
  }
  return value as D1Database;
}

function listOf(value: string | undefined): string[] {
  return [
    ...new Set(
      (value ?? "")
        .split(",")
        .map((name) => name.trim())
        .filter(Boolean),
    ),
  ];
}
