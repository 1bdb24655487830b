/** Fixtures for destination tests: a connection to a simulator workspace with the destination on, and waiting. */
import type { DestinationSettings, SourceSettings } from "../../src/db/schema";
import type { Simulator } from "../intercom-sim/simulator";
import { seedConnection } from "./connections";

/**
 * A simulator workspace and a connected connection to it, destination on (creation allowed unless said), in a CDP
 * workspace of its own (tests of one file share storage).
 */
export async function connectDestination(
  sim: Simulator,
  destination: Partial<DestinationSettings> = {},
  options: { workspaceId?: string; source?: Partial<SourceSettings> } = {},
) {
  const workspace = sim.createWorkspace();
  const workspaceId = options.workspaceId ?? `ws_${crypto.randomUUID().slice(0, 8)}`;
  const connection = await seedConnection({
    workspaceId,
    appId: workspace.app_id,
    token: workspace.token,
    destination: { enabled: true, allow_create: true, ...destination },
    ...(options.source ? { source: options.source } : {}),
  });
  return { workspace, connection, workspaceId };
}

/** Polls `check` until it returns true (or a value), failing after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  timeoutMs = 10_000,
  what = "condition",
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits long enough for a queued message to reach its consumer and object (queue batches wait up to 1 s). */
export function settle(ms = 1_500): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Calls the simulator's REST API as the workspace itself (to set up state "made in Intercom"). */
export async function intercomRest(
  workspace: { token: string; region?: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: any }> {
  const response = await fetch(`https://intercom.sim.test${path}`, {
    method,
    headers: {
      authorization: `Bearer ${workspace.token}`,
      "content-type": "application/json",
      accept: "application/json",
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}
