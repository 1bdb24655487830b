/**
 * The JOBS queue messages of the reconciliation sweep: one message is one page of one connection's sweep, so a
 * connection's sweep runs in its own invocations, a page at a time, and one connection's failure or size never
 * touches another's. Each page carries the run's totals so far; validated on consumption (messages outlive deploys).
 */
import { z } from "zod";

export const SweepTotals = z.object({
  seen: z.number().int().nonnegative(),
  queued: z.number().int().nonnegative(),
  already_captured: z.number().int().nonnegative(),
  /** The newest `updated_at` (Unix seconds) seen so far, or null. */
  newest: z.number().int().nullable(),
});
export type SweepTotals = z.infer<typeof SweepTotals>;

export const SweepMessage = z.object({
  kind: z.literal("sweep"),
  connection_id: z.string().min(1),
  phase: z.enum(["contacts", "companies"]),
  /** When the cron started this run (Unix ms), the same on every page. */
  run_at: z.number().int(),
  /** The run's exact lower bound (Unix seconds); null on the first contacts page, which computes it. */
  from: z.number().int().nullable(),
  /** The page after which to continue (`starting_after` of a search, `scroll_param` of a scroll); null at first. */
  cursor: z.string().nullable(),
  /** Pages read so far in this run. */
  page: z.number().int().nonnegative(),
  totals: SweepTotals,
});
export type SweepMessage = z.infer<typeof SweepMessage>;

export const NO_TOTALS: SweepTotals = { seen: 0, queued: 0, already_captured: 0, newest: null };

/** The first page of a connection's sweep run. */
export function sweepStart(connectionId: string, runAt: number): SweepMessage {
  return {
    kind: "sweep",
    connection_id: connectionId,
    phase: "contacts",
    run_at: runAt,
    from: null,
    cursor: null,
    page: 0,
    totals: NO_TOTALS,
  };
}
