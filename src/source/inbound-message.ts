/** The INBOUND queue message: a verified Intercom notification. Validated again on consumption (it outlives deploys). */
import { z } from "zod";

export const InboundMessage = z.object({
  /** When the ack path accepted it (ms). */
  received_at: z.number(),
  app_id: z.string().nullable(),
  notification: z.record(z.string(), z.unknown()),
});
export type InboundMessage = z.infer<typeof InboundMessage>;
