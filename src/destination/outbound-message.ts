/** The OUTBOUND queue message: an object of the CDP that Intercom should reflect. Validated on consumption. */
import { z } from "zod";

export const OutboundMessage = z.object({
  connection_id: z.string(),
  kind: z.enum(["user", "account"]),
  local_pk: z.number().int(),
});
export type OutboundMessage = z.infer<typeof OutboundMessage>;
