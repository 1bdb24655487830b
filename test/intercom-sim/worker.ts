/**
 * The simulator as a standalone Worker for `npm run dev`: one module-level simulator, configured from env vars,
 * delivering webhooks by itself after each response (ctx.waitUntil).
 */
import { createSimulator, type Simulator } from "./simulator";

interface SimWorkerEnv {
  SIM_CLIENT_ID?: string;
  SIM_CLIENT_SECRET?: string;
  SIM_WEBHOOK_URL?: string;
  /** With SIM_SEED_APP_ID: a workspace that exists from the start, so the dev script can connect it at once. */
  SIM_SEED_TOKEN?: string;
  SIM_SEED_APP_ID?: string;
}

let sim: Simulator | undefined;

/** The simulator of this isolate, created on the first request (env is only known then). */
function simulator(env: SimWorkerEnv): Simulator {
  if (sim) return sim;
  sim = createSimulator({
    config: {
      webhook_delivery: "auto",
      ...(env.SIM_CLIENT_ID ? { client_id: env.SIM_CLIENT_ID } : {}),
      ...(env.SIM_CLIENT_SECRET ? { client_secret: env.SIM_CLIENT_SECRET } : {}),
      ...(env.SIM_WEBHOOK_URL ? { webhook_url: env.SIM_WEBHOOK_URL } : {}),
    },
  });
  if (env.SIM_SEED_TOKEN || env.SIM_SEED_APP_ID) {
    sim.createWorkspace({ app_id: env.SIM_SEED_APP_ID, token: env.SIM_SEED_TOKEN, name: "Dev workspace" });
  }
  return sim;
}

export default {
  fetch: (request, env, ctx) => simulator(env).app.fetch(request, env, ctx),
} satisfies ExportedHandler<SimWorkerEnv>;
