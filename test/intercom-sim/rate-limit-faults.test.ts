import { describe, expect, it } from "vitest";
import { createSimulator } from "./simulator";
import { client, send, setup } from "./support";

const headersOf = (res: { headers: Headers }) => ({
  limit: res.headers.get("X-RateLimit-Limit"),
  remaining: res.headers.get("X-RateLimit-Remaining"),
  reset: res.headers.get("X-RateLimit-Reset"),
});

describe("rate limit", () => {
  it("sends X-RateLimit-* on every authenticated response, errors and 202s included", async () => {
    const { api, clock } = setup();
    const windowEnd = String(Math.ceil((Math.floor(clock.now() / 10_000) * 10_000 + 10_000) / 1000));
    const responses = [
      await api.get("/me"),
      await api.get("/contacts/nope"),
      await api.post("/contacts", { bad: 1 }),
      await api.post("/contacts", { external_id: "u-1" }),
      await api.post("/events", { event_name: "e", created_at: 1, user_id: "u-1" }),
      await api.get("/no/such/route"),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 404, 400, 200, 202, 404]);
    responses.forEach((res, i) =>
      expect(headersOf(res)).toEqual({ limit: "1666", remaining: String(1665 - i), reset: windowEnd }),
    );
  });

  it("answers 429 rate_limit_exceeded past the limit, and lets requests through again in the next window", async () => {
    const { sim, api, clock, ws } = setup();
    sim.configure({ rate_limit: { limit: 3, window_ms: 10_000 } });
    clock.advance(10_000 - (clock.now() % 10_000) + 2_500); // 2.5 s into a window
    for (let i = 0; i < 3; i++) expect((await api.get("/me")).status).toBe(200);
    const limited = await api.get("/me");
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({
      type: "error.list",
      errors: [{ code: "rate_limit_exceeded", message: "Exceeded rate limit of 3 in 10_seconds" }],
    });
    const reset = Number(limited.headers.get("X-RateLimit-Reset"));
    expect(headersOf(limited)).toEqual({ limit: "3", remaining: "0", reset: String(reset) });
    expect(reset * 1000 - clock.now()).toBe(7_500);
    // Rejected requests are journaled with their workspace.
    expect(sim.journal().at(-1)).toMatchObject({ status: 429, app_id: ws.app_id });

    clock.advance(7_499);
    expect((await api.get("/me")).status).toBe(429);
    clock.advance(1);
    const again = await api.get("/me");
    expect(again.status).toBe(200);
    expect(headersOf(again)).toEqual({ limit: "3", remaining: "2", reset: String(reset + 10) });
  });

  it("counts each workspace on its own, with per-workspace limits", async () => {
    const { sim, api } = setup({ config: { rate_limit: { limit: 2 } } });
    const other = sim.createWorkspace({ rate_limit: { limit: 5 } });
    const otherApi = client(sim, other.token);
    await api.get("/me");
    await api.get("/me");
    expect((await api.get("/me")).status).toBe(429);
    for (let i = 0; i < 5; i++) expect((await otherApi.get("/me")).status).toBe(200);
    expect((await otherApi.get("/me")).status).toBe(429);
    sim.setWorkspaceRateLimit("app_us", { limit: 10 });
    expect((await api.get("/me")).status).toBe(200);
  });

  it("leaves the control API and unauthenticated requests uncounted", async () => {
    const { sim, api } = setup({ config: { rate_limit: { limit: 1 } } });
    await send(sim, "GET", "/me", { token: "unknown" });
    await send(sim, "GET", "/_sim/config");
    expect((await api.get("/me")).status).toBe(200);
  });
});

describe("fault injection", () => {
  it("answers about error_rate of requests with 500 or 503, reproducibly for a seed", async () => {
    const run = async () => {
      const { sim, api } = setup({ config: { seed: 42, rate_limit: { limit: 100_000 }, faults: { error_rate: 0.3 } } });
      const statuses: number[] = [];
      for (let i = 0; i < 1000; i++) statuses.push((await api.get("/me")).status);
      return { statuses, sim };
    };
    const { statuses } = await run();
    const failed = statuses.filter((s) => s >= 500);
    expect(failed.length).toBeGreaterThanOrEqual(250);
    expect(failed.length).toBeLessThanOrEqual(350);
    expect(new Set(failed)).toEqual(new Set([500, 503]));
    expect(statuses.filter((s) => s !== 200 && s < 500)).toEqual([]);
    expect((await run()).statuses).toEqual(statuses);
  });

  it("uses Intercom's error shapes for injected faults and keeps the rate-limit headers", async () => {
    const { api } = setup({
      config: { rate_limit: { limit: 100_000 }, faults: { error_rate: 0.5, rate_limit_rate: 0.5 } },
    });
    const seen = new Map<number, { code: string; message: string }>();
    for (let i = 0; i < 50; i++) {
      const res = await api.get("/me");
      seen.set(res.status, res.body.errors[0]);
      expect(res.headers.get("X-RateLimit-Remaining")).not.toBeNull();
    }
    expect(seen.get(500)?.code).toBe("server_error");
    expect(seen.get(503)?.code).toBe("service_unavailable");
    expect(seen.get(429)).toEqual({
      code: "rate_limit_exceeded",
      message: "Exceeded rate limit of 100000 in 10_seconds",
    });
  });

  it("answers about rate_limit_rate of requests with a spontaneous 429", async () => {
    const { api } = setup({ config: { rate_limit: { limit: 100_000 }, faults: { rate_limit_rate: 0.2 } } });
    let limited = 0;
    for (let i = 0; i < 1000; i++) if ((await api.get("/me")).status === 429) limited++;
    expect(limited).toBeGreaterThanOrEqual(150);
    expect(limited).toBeLessThanOrEqual(250);
  });

  it("adds latency drawn from [min, max]", async () => {
    const waits: number[] = [];
    const sim = createSimulator({
      sleep: async (ms) => void waits.push(ms),
      config: { faults: { latency_ms: { min: 20, max: 40 } } },
    });
    const api = client(sim, sim.createWorkspace().token);
    for (let i = 0; i < 20; i++) await api.get("/me");
    expect(waits).toHaveLength(20);
    expect(waits.every((ms) => ms >= 20 && ms <= 40)).toBe(true);
    expect(new Set(waits).size).toBeGreaterThan(1);

    const real = createSimulator({ config: { faults: { latency_ms: { min: 30, max: 30 } } } });
    const realApi = client(real, real.createWorkspace().token);
    const started = Date.now();
    await realApi.get("/me");
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
  });

  it("with fault_phase before, a faulted write changes nothing", async () => {
    const { sim, api, ws } = setup({ config: { faults: { error_rate: 1 } } });
    const res = await api.post("/contacts", { external_id: "u-1" });
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(sim.state(ws.app_id).contacts).toEqual([]);
    expect(sim.pendingWebhooks()).toEqual([]);
  });

  it("with fault_phase after, the write happens and only the response is lost", async () => {
    const { sim, api, ws } = setup({ config: { faults: { error_rate: 1, fault_phase: "after" } } });
    const res = await api.post("/contacts", { external_id: "u-1" });
    expect(res.status).toBeGreaterThanOrEqual(500);
    const stored = sim.state(ws.app_id).contacts;
    expect(stored).toHaveLength(1);
    expect(sim.pendingWebhooks().map((n) => n.topic)).toEqual(["contact.user.created"]);
    sim.configure({ faults: { error_rate: 0 } });
    const retry = await api.post("/contacts", { external_id: "u-1" });
    expect(retry.status).toBe(409);
    expect(retry.body.errors[0].message).toContain(`id=${stored[0]!.id}`);
  });

  it("spares the control API and OAuth", async () => {
    const { sim, api } = setup({ config: { faults: { error_rate: 1 } } });
    expect((await api.get("/me")).status).toBeGreaterThanOrEqual(500);
    expect((await send(sim, "GET", "/_sim/config")).status).toBe(200);
    const consent = await send(
      sim,
      "GET",
      `/oauth?client_id=sim-client-id&state=s&redirect_uri=${encodeURIComponent("https://x.test/cb")}`,
    );
    expect(consent.status).toBe(302);
    const code = new URL(consent.headers.get("location")!).searchParams.get("code")!;
    const exchange = await send(sim, "POST", "/auth/eagle/token", {
      body: { code, client_id: "sim-client-id", client_secret: "sim-client-secret" },
    });
    expect(exchange.status).toBe(200);
    expect((await api.post("/auth/uninstall")).status).toBe(200);
  });
});
