/** Worker entry point: HTTP app, queue consumers, housekeeping cron, Durable Object classes. */
import { app } from "./api/app";
import type { Env } from "./env";
import { runHousekeeping } from "./ops/housekeeping";
import { handleQueueBatch } from "./queues";
import { scheduleSweeps } from "./source/sweep/run";

export { ContactSync } from "./destination/contact-sync";
export { RateBudget } from "./intercom/rate-budget";

export default {
  fetch: app.fetch,
  queue: (batch, env, ctx) => handleQueueBatch(batch, env, ctx),
  scheduled: (controller, env, ctx) => {
    ctx.waitUntil(runHousekeeping(env, controller.scheduledTime));
    ctx.waitUntil(scheduleSweeps(env, controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;
