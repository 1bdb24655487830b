/**
 * JOBS (bulk lane) messages of a resync job: one page of the connection's users to queue, and a chunk of those users
 * to hand to their objects. Both carry the job id, so work of a cancelled or replaced job is dropped, and the page's
 * cursor, so a page delivered twice (a retry, a restart) is queued once. Validated on consumption: they outlive deploys.
 */
import { z } from "zod";

export const ResyncPageMessage = z.object({
  kind: z.literal("resync_page"),
  job_id: z.string().min(1),
  connection_id: z.string().min(1),
  /** Users with a larger pk are still to be queued; must equal the job's stored cursor, else the page ran already. */
  after_pk: z.number().int().nonnegative(),
});
export type ResyncPageMessage = z.infer<typeof ResyncPageMessage>;

/**
 * At most this many users per `resync_users` message. A JOBS batch (at most 10 messages) then hands over at most 250
 * users, and its batch resolution writes at most 250 identity-map rows: far within 1,000 D1 queries per invocation,
 * whatever else (sweep pages) shares the batch.
 */
export const RESYNC_USERS_PER_MESSAGE = 25;

export const ResyncUsersMessage = z.object({
  kind: z.literal("resync_users"),
  job_id: z.string().min(1),
  connection_id: z.string().min(1),
  workspace_id: z.string().min(1),
  local_pks: z.array(z.number().int().positive()).min(1).max(RESYNC_USERS_PER_MESSAGE),
});
export type ResyncUsersMessage = z.infer<typeof ResyncUsersMessage>;

/** How a resync job counts one user's sync. */
export type ResyncOutcome = "synced" | "noop" | "skipped" | "failed";
