/** Fault injection decisions: which REST requests fail spontaneously, and how long each one is delayed. */
import type { FaultConfig } from "./types";

export interface InjectedFault {
  status: 429 | 500 | 503;
  code: string;
  message: string;
}

/** Draws whether this request fails; `random` is the simulator's seeded PRNG. */
export function drawFault(faults: FaultConfig, random: () => number): InjectedFault | null {
  if (faults.error_rate === 0 && faults.rate_limit_rate === 0) return null;
  const roll = random();
  if (roll < faults.error_rate) {
    return random() < 0.5
      ? { status: 500, code: "server_error", message: "Server Error" }
      : { status: 503, code: "service_unavailable", message: "Sorry, the API service is temporarily unavailable" };
  }
  if (roll < faults.error_rate + faults.rate_limit_rate)
    return { status: 429, code: "rate_limit_exceeded", message: "" };
  return null;
}

/** Draws the added latency in milliseconds (0 when none is configured). */
export function drawLatency(faults: FaultConfig, random: () => number): number {
  const { min, max } = faults.latency_ms;
  if (max === 0) return 0;
  return min + random() * (max - min);
}
