/** Helpers for the simulator's own tests: a simulator on a manual clock, and a terse REST client. */
import { createSimulator, type Simulator, type SimulatorOptions } from "./simulator";

export const SIM_ORIGIN = "https://intercom.sim.test";

/** 2026-01-10T12:00:00Z: mid-day, so a few hours either way stay on the same UTC day. */
export const START_MS = Date.UTC(2026, 0, 10, 12, 0, 0);

export interface Clock {
  now: () => number;
  advance: (ms: number) => void;
}

/** A clock that only moves when told to. */
export function manualClock(startMs = START_MS): Clock {
  let now = startMs;
  return { now: () => now, advance: (ms) => void (now += ms) };
}

/** A simulator on a manual clock, with one US workspace. */
export function setup(options: SimulatorOptions = {}) {
  const clock = manualClock();
  const sim = createSimulator({ now: clock.now, ...options });
  const ws = sim.createWorkspace({ app_id: "app_us", name: "US workspace" });
  return { sim, clock, ws, api: client(sim, ws.token) };
}

export interface SimResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** Sends one request straight to `sim.app` and reads the JSON answer. */
export async function send(
  sim: Simulator,
  method: string,
  path: string,
  init: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<SimResponse> {
  const headers: Record<string, string> = { Accept: "application/json", ...init.headers };
  if (init.token !== undefined) headers.Authorization = `Bearer ${init.token}`;
  let body: string | undefined;
  if (init.body !== undefined) {
    body = typeof init.body === "string" ? init.body : JSON.stringify(init.body);
    headers["Content-Type"] ??= "application/json";
  }
  const res = await sim.app.fetch(new Request(`${SIM_ORIGIN}${path}`, { method, headers, body, redirect: "manual" }));
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text === "" ? null : JSON.parse(text) };
}

/** A REST client bound to one token. */
export function client(sim: Simulator, token: string) {
  return {
    token,
    get: (path: string) => send(sim, "GET", path, { token }),
    post: (path: string, body?: unknown) => send(sim, "POST", path, { token, body }),
    put: (path: string, body?: unknown) => send(sim, "PUT", path, { token, body }),
    delete: (path: string) => send(sim, "DELETE", path, { token }),
  };
}
