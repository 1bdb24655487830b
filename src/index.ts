/** Worker entry point: HTTP app, queue consumers, housekeeping cron, Durable Object classes. */
import { app } from "./api/app";
import { ContactSync as ContactSyncObject } from "./destination/contact-sync";
import { resumeStalledResyncs } from "./destination/resync";
import type { Env } from "./env";
import { RateBudget as RateBudgetObject } from "./intercom/rate-budget";
import { runHousekeeping } from "./ops/housekeeping";
import { limitedDurableObject, limitedWorker } from "./platform/entry";
import { handleQueueBatch } from "./queues";
import { kickStalledImports } from "./source/import/run";
import { scheduleSweeps } from "./source/sweep/run";

// The platform-limits layer (src/platform/, PLATFORM_LIMITS) wraps each entry point; with it off, these are the
// classes and handlers themselves.
export const ContactSync = limitedDurableObject(ContactSyncObject);
export const RateBudget = limitedDurableObject(RateBudgetObject);

export default limitedWorker({
  fetch: app.fetch,
  queue: (batch, env, ctx) => handleQueueBatch(batch, env, ctx),
  scheduled: (controller, env, ctx) => {
    ctx.waitUntil(runHousekeeping(env, controller.scheduledTime));
    ctx.waitUntil(scheduleSweeps(env, controller.scheduledTime));
    ctx.waitUntil(resumeStalledResyncs(env, controller.scheduledTime));
    ctx.waitUntil(kickStalledImports(env, controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>);
