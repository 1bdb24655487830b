/** Compare-and-set retry loop shared by the graph's writers. */

const MAX_ATTEMPTS = 40;

/**
 * Runs `attempt` until it returns a value (not `undefined`, which means "lost a race"), waiting a short
 * random time between tries so racing writers spread out.
 */
export async function retryOnConflict<T>(what: string, attempt: () => Promise<T | undefined>): Promise<T> {
  for (let tries = 1; tries <= MAX_ATTEMPTS; tries++) {
    const result = await attempt();
    if (result !== undefined) return result;
    await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 * tries)));
  }
  throw new Error(`${what} kept conflicting after ${MAX_ATTEMPTS} attempts`);
}
