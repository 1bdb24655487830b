/**
 * The JOBS queue: the bulk lane. Long work (the reconciliation sweep, imports, resync jobs, erasures) runs there one page per
 * message, so each page is its own invocation within the platform's per-invocation limits and never delays the
 * real-time queues (INBOUND for webhooks, OUTBOUND for CDP changes). Validated on consumption: messages outlive deploys.
 */
import { z } from "zod";
import { ResyncPageMessage, ResyncUsersMessage } from "../destination/resync-messages";
import { EraseMessage } from "../privacy/messages";
import { ImportPageMessage } from "../source/import/messages";
import { SweepMessage } from "../source/sweep/messages";

export const JobMessage = z.discriminatedUnion("kind", [
  SweepMessage,
  ResyncPageMessage,
  ResyncUsersMessage,
  EraseMessage,
  ImportPageMessage,
]);
export type JobMessage = z.infer<typeof JobMessage>;
