/**
 * The Intercom simulator wired into a test file: msw routes https://intercom.sim.test/* to an in-process simulator
 * and https://connector.test/* to the connector Worker, so webhooks the simulator delivers reach the connector and
 * the connector's Intercom calls (from routes, queue consumers or Durable Objects) reach the simulator.
 */
import { env, exports } from "cloudflare:workers";
import { http, type RequestHandler } from "msw";
import { setupServer } from "msw/node";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { createSimulator, type Simulator, type SimulatorOptions } from "../intercom-sim/simulator";

/** INTERCOM_API_BASE in the test bindings. */
export const INTERCOM_SIM_ORIGIN = "https://intercom.sim.test";
/** PUBLIC_URL in the test bindings: where the simulator delivers webhooks. */
export const CONNECTOR_ORIGIN = "https://connector.test";

/**
 * Intercom's search is eventually consistent, so in tests a created or updated contact stays invisible to search for
 * a seeded random 0–2 s. A test that needs none says so: `useIntercomSim({ config: { search_lag_ms: 0 } })`, or
 * `sim.configure({ search_lag_ms: 0 })` inside one test; `sim.settleSearch()` lets the index catch up at once.
 */
export const TEST_SEARCH_LAG_MS = { min: 0, max: 2_000 };

/**
 * Call at the top of a test file: creates a simulator (manual webhook delivery, the test bindings' client id and
 * secret, search lag `TEST_SEARCH_LAG_MS`), routes both origins through msw (unhandled requests fail the test), and
 * resets the simulator before each test. Each test creates the workspaces it needs with `sim.createWorkspace()`.
 * `extraHandlers` serve other origins the test needs (a JWKS, say) from the same msw server.
 */
export function useIntercomSim(options: SimulatorOptions = {}, extraHandlers: RequestHandler[] = []): Simulator {
  const sim = createSimulator({
    ...options,
    config: {
      client_id: env.INTERCOM_CLIENT_ID,
      client_secret: env.INTERCOM_CLIENT_SECRET,
      webhook_url: `${CONNECTOR_ORIGIN}/webhooks/intercom`,
      webhook_delivery: "manual",
      search_lag_ms: TEST_SEARCH_LAG_MS,
      ...options.config,
    },
  });
  // msw types its requests with the DOM's Request; at run time they are workerd's own.
  const server = setupServer(
    http.all(`${INTERCOM_SIM_ORIGIN}/*`, ({ request }) => sim.app.fetch(request as unknown as Request)),
    http.all(`${CONNECTOR_ORIGIN}/*`, ({ request }) => exports.default.fetch(request as unknown as Request)),
    ...extraHandlers,
  );
  beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
  afterAll(() => server.close());
  beforeEach(() => sim.reset());
  return sim;
}

/** The journal's latest seq: pass it as `since` to count only the calls made after this point. */
export function journalMark(sim: Simulator): number {
  return sim.journal().at(-1)?.seq ?? 0;
}

/** How many Intercom REST calls match: after `since`, with this method, on this path (exact, or a RegExp). */
export function countCalls(
  sim: Simulator,
  filter: { since?: number; method?: string; path?: string | RegExp; app_id?: string } = {},
): number {
  return sim
    .journal({ since: filter.since, app_id: filter.app_id })
    .filter(
      (entry) =>
        (filter.method === undefined || entry.method === filter.method.toUpperCase()) &&
        (filter.path === undefined ||
          (typeof filter.path === "string" ? entry.path === filter.path : filter.path.test(entry.path))),
    ).length;
}

/** The distinct `Intercom-Version` headers the matching calls carried (null: none), e.g. to check every call had 2.16. */
export function versionsSent(sim: Simulator, filter: { since?: number; app_id?: string } = {}): Array<string | null> {
  return [...new Set(sim.journal(filter).map((entry) => entry.intercom_version))];
}

export { wideAttributeDefinitions } from "../intercom-sim/wide/data";
export { wideCompanyItem, wideContactItem, wideNotification } from "../intercom-sim/wide/webhooks";
