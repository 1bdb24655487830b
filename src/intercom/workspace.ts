/**
 * Workspace-level Intercom calls of the connections API: who a token belongs to (`GET /me`) and the data attributes
 * a mapping targets (`GET/POST /data_attributes`). Failures are thrown as `IntercomCallError`.
 */
import type { IntercomClient } from "intercom-client";
import type { Region } from "../db/schema";
import type { Env } from "../env";
import type { AttributeType, IntercomModel } from "./attributes";
import { intercomClient } from "./client";
import { call, IntercomCallError } from "./errors";

/** What `GET /me` says about the workspace a token belongs to. */
export interface IntercomApp {
  appId: string;
  name: string | null;
  region: Region;
}

const REGIONS: readonly Region[] = ["US", "EU", "AU"];

function isRegion(value: unknown): value is Region {
  return typeof value === "string" && (REGIONS as readonly string[]).includes(value);
}

/** `GET /me` on the regional host of `region`; through `fetch` (a rate-budgeted one, say) when given. */
export async function identify(
  env: Pick<Env, "INTERCOM_API_BASE">,
  token: string,
  region: Region,
  fetch?: typeof globalThis.fetch,
): Promise<IntercomApp> {
  const client = intercomClient(env, { token, region, ...(fetch ? { fetch } : {}) });
  const me = await call("GET /me", () => client.admins.identify());
  const app = me?.app;
  if (!app?.id_code) {
    throw new IntercomCallError(
      { kind: "invalid", status: 200, code: null, message: "GET /me returned no app.id_code" },
      "GET /me",
    );
  }
  return { appId: app.id_code, name: app.name ?? null, region: isRegion(app.region) ? app.region : region };
}

/**
 * `GET /me` on `region`'s host, or, without a region, on the US, EU then AU hosts until one accepts the token (a token
 * is only valid on its workspace's regional host). Throws the first host's failure when none accepts it.
 */
export async function identifyInRegion(
  env: Pick<Env, "INTERCOM_API_BASE">,
  token: string,
  region: Region | undefined,
): Promise<IntercomApp & { host: Region }> {
  const candidates = region ? [region] : REGIONS;
  let firstFailure: IntercomCallError | undefined;
  for (const host of candidates) {
    try {
      const app = await identify(env, token, host);
      if (app.region === host) return { ...app, host };
      // The workspace says it lives elsewhere: prefer its own region's host when the token works there too.
      const home = await identify(env, token, app.region).catch(() => null);
      return home ? { ...home, host: home.region } : { ...app, region: host, host };
    } catch (error) {
      if (!(error instanceof IntercomCallError)) throw error;
      firstFailure ??= error;
      // Only "not this host's token" is worth trying elsewhere; an outage or a rate limit is reported as is.
      if (error.failure.kind !== "unauthorized") throw error;
    }
  }
  throw firstFailure!;
}

/** An Intercom data attribute, as far as mappings care. */
export interface DataAttributeInfo {
  name: string;
  fullName: string;
  dataType: string;
  custom: boolean;
  archived: boolean;
  apiWritable: boolean;
}

/** Every data attribute of `model`, archived ones included (an archived name cannot be created again). */
export async function listDataAttributes(client: IntercomClient, model: IntercomModel): Promise<DataAttributeInfo[]> {
  const list = await call(`GET /data_attributes?model=${model}`, () =>
    client.dataAttributes.list({ model, include_archived: true }),
  );
  return (list.data ?? []).map((attribute) => ({
    name: attribute.name,
    fullName: attribute.full_name,
    dataType: String(attribute.data_type),
    custom: attribute.custom === true,
    archived: attribute.archived === true,
    apiWritable: attribute.api_writable !== false,
  }));
}

/** Creates a custom data attribute (`POST /data_attributes`). */
export async function createDataAttribute(
  client: IntercomClient,
  model: IntercomModel,
  name: string,
  dataType: AttributeType,
): Promise<DataAttributeInfo> {
  // The SDK's request type omits `name` and `model` (a generator quirk); the endpoint requires them.
  const body = { name, model, data_type: dataType, description: "Created by the CDP connector for a field mapping." };
  const created = await call(`POST /data_attributes (${model})`, () =>
    client.dataAttributes.create(body as unknown as Parameters<IntercomClient["dataAttributes"]["create"]>[0]),
  );
  return {
    name: created.name ?? name,
    fullName: created.full_name ?? `custom_attributes.${name}`,
    dataType: String(created.data_type ?? dataType),
    custom: true,
    archived: false,
    apiWritable: true,
  };
}
