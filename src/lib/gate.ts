/**
 * Admission control inside one isolate: at most `limit` pieces of work run at once and the rest wait their turn, so
 * the memory and database work in flight stay bounded however many requests arrive together. A wait is bounded too
 * (`maxWaiting` waiters, `maxWaitMs` each): beyond that the caller is told to come back later (`GateFullError`).
 *
 * Each request waits on its own timer and never resumes another: a promise settled from another request's context
 * is not safe to continue in Workers. Waiters start in arrival order (tickets): the oldest `free` waiters may take
 * the free slots; those near the front look often, the others rarely, so a long queue costs little CPU. A request
 * can be cancelled while it waits or runs (its client went away) and then never continues: a waiter that stops
 * looking is dropped from the queue, and a slot whose holder never releases it expires after `leaseMs`.
 */

export interface GateOptions {
  /** Work running at once. */
  limit: number;
  /** Callers waiting at once; more are refused at once. */
  maxWaiting: number;
  /** Longest wait for a slot. */
  maxWaitMs: number;
  /** A slot not released after this long is taken back (its holder was cancelled). */
  leaseMs: number;
}

/** No slot within the bounds: the caller should answer "busy, retry later". */
export class GateFullError extends Error {
  constructor(readonly reason: "queue full" | "waited too long") {
    super(`admission refused: ${reason}`);
    this.name = "GateFullError";
  }
}

/** How often a waiter near the front of the queue looks for a slot; further back, less often (at most every 500 ms). */
const FRONT_POLL_MS = 2;
const BACK_POLL_MS = 50;
const MAX_POLL_MS = 500;
/** A waiter not seen for this long is gone (cancelled with its request). */
const WAITER_STALE_MS = 4 * MAX_POLL_MS;

export class Gate {
  /** Slot id → when it expires. */
  private readonly running = new Map<number, number>();
  /** Ticket → when its waiter last looked; in ticket (arrival) order. */
  private readonly waiting = new Map<number, number>();
  private nextSlot = 0;
  private nextTicket = 0;

  constructor(
    readonly options: GateOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Work running and waiting now (for logs and tests). */
  load(): { running: number; waiting: number } {
    return { running: this.running.size, waiting: this.waiting.size };
  }

  /** Runs `work` once a slot is free (in arrival order); `GateFullError` when none comes within the bounds. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    const slot = await this.acquire();
    try {
      return await work();
    } finally {
      this.running.delete(slot);
    }
  }

  private async acquire(): Promise<number> {
    this.reclaim();
    if (this.waiting.size === 0 && this.running.size < this.options.limit) return this.hold();
    if (this.waiting.size >= this.options.maxWaiting) throw new GateFullError("queue full");
    const ticket = this.nextTicket++;
    const deadline = this.now() + this.options.maxWaitMs;
    this.waiting.set(ticket, this.now());
    try {
      for (;;) {
        this.waiting.set(ticket, this.now());
        if (this.mayStart(ticket)) return this.hold();
        if (this.now() >= deadline) throw new GateFullError("waited too long");
        await new Promise((resolve) => setTimeout(resolve, this.pollMs(ticket)));
      }
    } finally {
      this.waiting.delete(ticket);
    }
  }

  /** Whether `ticket` is among the oldest live waiters, as many as there are free slots. */
  private mayStart(ticket: number): boolean {
    this.reclaim();
    let free = this.options.limit - this.running.size;
    if (free <= 0) return false;
    const stale = this.now() - WAITER_STALE_MS;
    for (const [other, seen] of this.waiting) {
      if (other === ticket) return true;
      if (seen < stale) {
        this.waiting.delete(other);
        continue;
      }
      if (--free <= 0) return false;
    }
    return false;
  }

  /** How long `ticket` sleeps before it looks again: briefly at the front, longer the further back it is. */
  private pollMs(ticket: number): number {
    const first = this.waiting.keys().next().value ?? ticket;
    const lengths = (ticket - first) / (2 * this.options.limit);
    return lengths < 1 ? FRONT_POLL_MS : Math.min(MAX_POLL_MS, BACK_POLL_MS * lengths);
  }

  private hold(): number {
    const slot = this.nextSlot++;
    this.running.set(slot, this.now() + this.options.leaseMs);
    return slot;
  }

  /** Takes back the slots whose holders never released them. */
  private reclaim(): void {
    const now = this.now();
    for (const [slot, expires] of this.running) if (expires <= now) this.running.delete(slot);
  }
}
