/**
 * The Intercom REST client: the official `intercom-client` SDK with its retries off (our queues and Durable Objects
 * own retries), pinned to API version 2.16 and pointed at the workspace's regional host.
 */
import { IntercomClient } from "intercom-client";
import type { Region } from "../db/schema";
import type { Env } from "../env";

export const INTERCOM_VERSION = "2.16";
export const REQUEST_TIMEOUT_SECONDS = 20;

export const REGION_HOSTS: Record<Region, string> = {
  US: "https://api.intercom.io",
  EU: "https://api.eu.intercom.io",
  AU: "https://api.au.intercom.io",
};

/**
 * The API base URL of a region. `INTERCOM_API_BASE` (the simulator) replaces the US host; EU and AU are then
 * reached under `/eu` and `/au` of it.
 */
export function apiBase(env: Pick<Env, "INTERCOM_API_BASE">, region: Region): string {
  const override = env.INTERCOM_API_BASE?.replace(/\/+$/, "");
  if (!override) return REGION_HOSTS[region];
  return region === "US" ? override : `${override}/${region.toLowerCase()}`;
}

/** The host that serves OAuth token exchange and uninstall (documented on the US host only). */
export function authBase(env: Pick<Env, "INTERCOM_API_BASE">): string {
  return apiBase(env, "US");
}

export interface ClientOptions {
  token: string;
  region: Region;
  /** A fetch that wraps the global one (rate budget, call accounting); the global fetch by default. */
  fetch?: typeof fetch;
}

/** An SDK client for one workspace's token. */
export function intercomClient(env: Pick<Env, "INTERCOM_API_BASE">, options: ClientOptions): IntercomClient {
  return new IntercomClient({
    token: options.token,
    baseUrl: apiBase(env, options.region),
    maxRetries: 0,
    timeoutInSeconds: REQUEST_TIMEOUT_SECONDS,
    headers: { "Intercom-Version": INTERCOM_VERSION, Accept: "application/json" },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}
