/**
 * The JOBS (bulk lane) message of an import job: one page of one phase. It names the job and the page count it
 * follows, so a page delivered twice (a retry, a restart) is recorded once. Validated on consumption: messages
 * outlive deploys.
 */
import { z } from "zod";

export const ImportPageMessage = z.object({
  kind: z.literal("import_page"),
  job_id: z.string().min(1),
  connection_id: z.string().min(1),
  /** The job's `page` when this message was queued; a job that moved on drops it. */
  page: z.number().int().nonnegative(),
  /** Tries of this page after a server error or a busy scroll, so a persistent failure ends the job. */
  attempt: z.number().int().nonnegative().default(0),
});
export type ImportPageMessage = z.infer<typeof ImportPageMessage>;
