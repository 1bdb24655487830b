import { describe, expect, it } from "vitest";
import { Gate, GateFullError, type GateOptions } from "../src/lib/gate";

const options: GateOptions = { limit: 3, maxWaiting: 100, maxWaitMs: 5_000, leaseMs: 60_000 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("admission gate", () => {
  it("runs at most `limit` at once and starts the waiting ones in arrival order", async () => {
    const gate = new Gate(options);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        gate.run(async () => {
          started.push(i);
          running++;
          most = Math.max(most, running);
          await sleep(5 + (i % 3));
          running--;
        }),
      ),
    );
    expect(most).toBe(3);
    expect(started).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(gate.load()).toEqual({ running: 0, waiting: 0 });
  });

  it("releases the slot when the work fails", async () => {
    const gate = new Gate({ ...options, limit: 1 });
    await expect(gate.run(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await gate.run(async () => "next")).toBe("next");
  });

  it("refuses at once when too many wait, and after maxWaitMs of waiting", async () => {
    const gate = new Gate({ ...options, limit: 1, maxWaiting: 1, maxWaitMs: 50 });
    let finish: () => void = () => {};
    const holder = gate.run(() => new Promise<void>((resolve) => (finish = resolve)));
    const waiter = gate.run(async () => "late");
    await expect(gate.run(async () => "third")).rejects.toEqual(new GateFullError("queue full"));
    await expect(waiter).rejects.toEqual(new GateFullError("waited too long"));
    finish();
    await holder;
    expect(gate.load()).toEqual({ running: 0, waiting: 0 });
  });

  it("takes back a slot whose holder never finishes (a cancelled request) after leaseMs", async () => {
    const gate = new Gate({ ...options, limit: 1, leaseMs: 40 });
    void gate.run(() => new Promise(() => {}));
    const started = Date.now();
    expect(await gate.run(async () => "reclaimed")).toBe("reclaimed");
    expect(Date.now() - started).toBeGreaterThanOrEqual(30);
  });
});

describe("admission gate: cancelled waiters", () => {
  it("drops a waiter that stopped looking (its request was cancelled), so the ones behind it start", async () => {
    const gate = new Gate({ ...options, limit: 1 });
    let finish: () => void = () => {};
    const holder = gate.run(() => new Promise<void>((resolve) => (finish = resolve)));
    // A waiter whose request died: first in line, never looking again.
    (gate as unknown as { waiting: Map<number, number> }).waiting.set(-1, Date.now() - 60_000);
    const live = gate.run(async () => "live");
    await sleep(10);
    expect(gate.load()).toEqual({ running: 1, waiting: 2 });
    finish();
    await holder;
    expect(await live).toBe("live");
    expect(gate.load()).toEqual({ running: 0, waiting: 0 });
  });
});
