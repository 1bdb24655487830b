/**
 * One Durable Object per Intercom workspace (`app_id`): the rate budget shared by every sync of that workspace.
 * Callers reserve a slot before each Intercom call and report the response's rate headers after it. It also throttles
 * the checks of unsigned hints about the workspace (an uninstall notification anyone can post), so a flood of them
 * cannot spend the budget: every isolate asks this one object. State lives in memory: after an eviction the budget
 * relearns the limit from the next response, and the next hint may be checked at once.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import {
  bulkShare,
  initialRateState,
  type Lane,
  observe,
  type RateObservation,
  type RateUsage,
  type Reservation,
  rateUsage,
  release,
  reserve,
} from "./rate-plan";

export class RateBudget extends DurableObject<Env> {
  private readonly state = initialRateState();
  private lastHintCheck = 0;

  /**
   * Reserves one call: how long to wait before making it (or before asking again), and which window it belongs to.
   * Bulk calls (resync, import) get current-window slots only, at most `RESYNC_BUDGET_SHARE` of each window while
   * real-time calls are recent (rate-plan.ts).
   */
  async reserve(lane: Lane = "realtime"): Promise<Reservation> {
    return reserve(this.state, Date.now(), lane, bulkShare(this.env.RESYNC_BUDGET_SHARE));
  }

  /** Claims the check of an unsigned hint: true for the first caller in `intervalMs`, false for the rest. */
  async claimHintCheck(intervalMs: number): Promise<boolean> {
    const now = Date.now();
    if (now - this.lastHintCheck < intervalMs) return false;
    this.lastHintCheck = now;
    return true;
  }

  /** Records a response's rate headers (or their absence, with `observation` null) for a reservation of `lane`. */
  async report(window: number, observation: RateObservation | null, lane: Lane = "realtime"): Promise<void> {
    if (observation) observe(this.state, observation, window, Date.now());
    else release(this.state, window, lane);
  }

  /** The latest window's use, for the connection summary; changes nothing. */
  async usage(): Promise<RateUsage> {
    return rateUsage(this.state);
  }
}

/** The rate budget of Intercom workspace `appId`. */
export function rateBudgetObject(env: Pick<Env, "RATE_BUDGET">, appId: string): DurableObjectStub<RateBudget> {
  return (env.RATE_BUDGET as unknown as DurableObjectNamespace<RateBudget>).getByName(appId);
}
