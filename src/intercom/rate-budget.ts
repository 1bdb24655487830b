/**
 * One Durable Object per Intercom workspace (`app_id`): the rate budget shared by every sync of that workspace.
 * Callers reserve a slot before each Intercom call and report the response's rate headers after it. State lives in
 * memory: after an eviction the budget relearns the limit from the next response.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import {
  initialRateState,
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

  /** Reserves one call: how long to wait before making it, and which window it belongs to. */
  async reserve(): Promise<Reservation> {
    return reserve(this.state, Date.now());
  }

  /** Records a response's rate headers (or their absence, with `observation` null) for a reservation. */
  async report(window: number, observation: RateObservation | null): Promise<void> {
    if (observation) observe(this.state, observation, window, Date.now());
    else release(this.state, window);
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
