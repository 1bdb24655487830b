/**
 * Test fixtures for connections: a row as the connections API would store it, for tests of other areas that do not
 * exercise connecting itself; and `connectViaApi`, which connects a simulator workspace through the real API.
 */
import { env, exports } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { DEFAULT_DESTINATION_SETTINGS, DEFAULT_SOURCE_SETTINGS } from "../../src/connections/defaults";
import type { ConnectionJson } from "../../src/connections/settings";
import { sealToken } from "../../src/connections/token-vault";
import { database } from "../../src/db/client";
import { connections, type DestinationSettings, type Region, type SourceSettings } from "../../src/db/schema";
import type { Simulator, WorkspaceInfo } from "../intercom-sim/simulator";
import { authHeaders } from "./auth";

export interface SeedConnectionOptions {
  id?: string;
  workspaceId?: string;
  appId?: string;
  region?: Region;
  status?: "connected" | "revoked" | "error" | "disconnected";
  tokenJwe?: string | null;
  /** An access token to store sealed (bound to the row's id), instead of `tokenJwe`. */
  token?: string;
  source?: Partial<SourceSettings>;
  destination?: Partial<DestinationSettings>;
}

/** Inserts a connection row and returns it. */
export async function seedConnection(options: SeedConnectionOptions = {}) {
  const now = Date.now();
  const id = options.id ?? crypto.randomUUID();
  const row = {
    id,
    workspaceId: options.workspaceId ?? "ws_test",
    name: "Test connection",
    status: options.status ?? "connected",
    appId: options.appId ?? `app_${crypto.randomUUID().slice(0, 8)}`,
    appName: "Test workspace",
    region: options.region ?? "US",
    tokenJwe: options.token === undefined ? (options.tokenJwe ?? null) : await sealToken(env, options.token, id),
    source: { ...DEFAULT_SOURCE_SETTINGS, ...options.source },
    destination: { ...DEFAULT_DESTINATION_SETTINGS, ...options.destination },
    createdAt: now,
    updatedAt: now,
  } as const;
  await database(env.DB).insert(connections).values(row);
  return row;
}

/** What `connectViaApi` did: the connection JSON the API answered and the simulator workspace behind it. */
export interface ConnectedViaApi {
  connection: ConnectionJson;
  workspace: WorkspaceInfo;
}

/**
 * Creates a simulator workspace (in `region`, US by default) and connects it through `POST /v1/connections` with its
 * access token, as an admin of `workspaceId` would. Throws with the problem body when the API does not answer 201.
 */
export async function connectViaApi(
  sim: Simulator,
  options: { workspaceId?: string; region?: Region; name?: string; sendRegion?: boolean } = {},
): Promise<ConnectedViaApi> {
  const workspace = sim.createWorkspace(options.region ? { region: options.region } : {});
  const res = await exports.default.fetch("https://connector.test/v1/connections", {
    method: "POST",
    headers: await authHeaders({ workspaceId: options.workspaceId ?? "ws_test", scope: "admin" }),
    body: JSON.stringify({
      name: options.name ?? `Intercom ${workspace.app_id}`,
      access_token: workspace.token,
      ...(options.sendRegion && options.region ? { region: options.region } : {}),
    }),
  });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`POST /v1/connections answered ${res.status}: ${JSON.stringify(body)}`);
  return { connection: body as ConnectionJson, workspace };
}

/** The raw D1 row of a connection (for assertions on what is stored). */
export async function connectionRow(id: string) {
  return database(env.DB).query.connections.findFirst({ where: eq(connections.id, id) });
}

/** A new simulator workspace and a connection row to it in a new CDP workspace (`source` overrides settings). */
export async function connectSimWorkspace(
  sim: { createWorkspace(): WorkspaceInfo },
  source: Partial<SourceSettings> = {},
) {
  const workspace = sim.createWorkspace();
  const workspaceId = `ws_${crypto.randomUUID().slice(0, 8)}`;
  const connection = await seedConnection({
    workspaceId,
    appId: workspace.app_id,
    token: workspace.token,
    ...(Object.keys(source).length ? { source } : {}),
  });
  return { workspace, workspaceId, connection };
}
