/**
 * The JOBS queue message of an erasure: one message is one bounded page of one erasure's steps. It names the erasure
 * only (never the person); `seq` makes a duplicate delivery of an older page a no-op. Validated on consumption.
 */
import { z } from "zod";

export const EraseMessage = z.object({
  kind: z.literal("erase"),
  workspace_id: z.string().min(1),
  erasure_id: z.string().min(1),
  seq: z.number().int().nonnegative(),
});
export type EraseMessage = z.infer<typeof EraseMessage>;
