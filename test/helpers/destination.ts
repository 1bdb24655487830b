/** Fixtures for destination tests: a connection to a simulator workspace with the destination on, and waiting. */
import { env } from "cloudflare:workers";
import { sealToken } from "../../src/connections/token-vault";
import type { DestinationSettings } from "../../src/db/schema";
import type { Simulator } from "../intercom-sim/simulator";
import { seedConnection } from "./connections";

/** A simulator workspace and a connected connection to it, destination on (creation allowed unless said). */
export async function connectDestination(
  sim: Simulator,
  destination: Partial<DestinationSettings> = {},
  options: { workspaceId?: string } = {},
) {
  const workspace = sim.createWorkspace();
  const connection = await seedConnection({
    workspaceId: options.workspaceId ?? "ws_test",
    appId: workspace.app_id,
    tokenJwe: await sealToken(env, workspace.token),
    destination: { enabled: true, allow_create: true, ...destination },
  });
  return { workspace, connection };
}

/** Polls `check` until it returns true (or a value), failing after `timeoutMs`. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 10_000, what = "condition"): Promise<NonNullable<T>> {
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
