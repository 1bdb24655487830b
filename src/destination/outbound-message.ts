/**
 * OUTBOUND queue messages: a CDP object Intercom should reflect (its Durable Object reads the current state when it
 * runs, so messages carry ids only), an action to run, or one page of a resync. Validated on consumption: messages
 * outlive deploys.
 */
import { z } from "zod";

export const SyncMessage = z.object({
  kind: z.enum(["user", "account"]),
  connection_id: z.string().min(1),
  local_pk: z.number().int().positive(),
  /** An action to run on this user's contact, in order with its syncs. */
  action_id: z.string().min(1).optional(),
  /** Set by batch resolution: a search just found no contact for this user (Unix ms), so its object need not search. */
  absent_checked_at: z.number().int().optional(),
  /** Set by a resync job (bulk lane): this sync's outcome counts towards that job. */
  resync_job: z.string().min(1).optional(),
});

export const ResyncMessage = z.object({
  kind: z.literal("resync"),
  connection_id: z.string().min(1),
  /** Users with a larger pk are still to be queued. */
  after_pk: z.number().int().nonnegative(),
});

export const OutboundMessage = z.discriminatedUnion("kind", [SyncMessage, ResyncMessage]);
export type SyncMessage = z.infer<typeof SyncMessage>;
export type ResyncMessage = z.infer<typeof ResyncMessage>;
export type OutboundMessage = z.infer<typeof OutboundMessage>;

/** The name of the Durable Object that serializes the syncs of one CDP user or account on one connection. */
export function syncObjectName(message: Pick<SyncMessage, "connection_id" | "kind" | "local_pk">): string {
  return `${message.connection_id}:${message.kind}:${message.local_pk}`;
}
