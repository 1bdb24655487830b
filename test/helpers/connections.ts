/**
 * Test fixtures for connections: a row as the connections API would store it, for tests of other areas that do not
 * exercise connecting itself.
 */
import { env } from "cloudflare:workers";
import { DEFAULT_DESTINATION_SETTINGS, DEFAULT_SOURCE_SETTINGS } from "../../src/connections/defaults";
import { database } from "../../src/db/client";
import { connections, type DestinationSettings, type Region, type SourceSettings } from "../../src/db/schema";

export interface SeedConnectionOptions {
  id?: string;
  workspaceId?: string;
  appId?: string;
  region?: Region;
  status?: "connected" | "revoked" | "error" | "disconnected";
  tokenJwe?: string | null;
  source?: Partial<SourceSettings>;
  destination?: Partial<DestinationSettings>;
}

/** Inserts a connection row and returns it. */
export async function seedConnection(options: SeedConnectionOptions = {}) {
  const now = Date.now();
  const row = {
    id: options.id ?? crypto.randomUUID(),
    workspaceId: options.workspaceId ?? "ws_test",
    name: "Test connection",
    status: options.status ?? "connected",
    appId: options.appId ?? `app_${crypto.randomUUID().slice(0, 8)}`,
    appName: "Test workspace",
    region: options.region ?? "US",
    tokenJwe: options.tokenJwe ?? null,
    source: { ...DEFAULT_SOURCE_SETTINGS, ...options.source },
    destination: { ...DEFAULT_DESTINATION_SETTINGS, ...options.destination },
    createdAt: now,
    updatedAt: now,
  } as const;
  await database(env.DB).insert(connections).values(row);
  return row;
}
